"""The chunks' HNSW index: left out while the table is small or during a large load, built by
the ingestion that makes it due, with the definition the migrations gave it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

import agents.docs.vector_index as vector_index
from agents.docs.ingest import ingest_folder
from agents.docs.vector_index import kept_definition

NOTES = {
    f"note-{number}.md": f"# Note {number}\n\n## Rule\nRule {number}: expenses above {number}00 EUR"
    f" need the approval of a manager of team {number}.\n"
    for number in range(6)
}


def live_index(conn: psycopg.Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT c.oid::int, i.indexdef FROM pg_indexes i"
                       " JOIN pg_class c ON c.relname = i.indexname"
                       " WHERE i.schemaname = 'app' AND i.indexname = 'chunks_embedding_idx'"
                       ).fetchone()
    return (row[0], row[1]) if row else None


def write_notes(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).write_text(NOTES[name], encoding="utf-8")
    return root


def test_a_small_table_keeps_no_index_and_the_load_that_makes_it_due_builds_it(
    resources, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 4)
    names = sorted(NOTES)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        migrated = live_index(conn)
        assert migrated is not None and "m='24'" in migrated[1].replace(" ", "")
        first = ingest_folder(conn, write_notes(tmp_path / "a", names[:2]), resources.embedder)
        assert first.chunks_embedded == 2
        assert live_index(conn) is None  # 2 chunks: searched exactly, no index to maintain
        assert kept_definition(conn) == migrated[1]
        # Nothing to write: no index change either way.
        assert ingest_folder(conn, tmp_path / "a", resources.embedder).unchanged == 2
        assert live_index(conn) is None
        ingest_folder(conn, write_notes(tmp_path / "b", names[2:]), resources.embedder)
        built = live_index(conn)
        assert built is not None and built[1] == migrated[1]  # the same definition, m = 24
        assert kept_definition(conn) is None
        # Past the threshold, a small load goes into the live index: no drop, no rebuild.
        ingest_folder(conn, write_notes(tmp_path / "c", names[:1]), resources.embedder)
        assert live_index(conn) == built


def test_a_large_load_beside_the_index_builds_it_once_at_the_end(
    resources, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 2)
    monkeypatch.setattr(vector_index, "DEFER_MIN_CHUNKS", 2)
    names = sorted(NOTES)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ingest_folder(conn, write_notes(tmp_path / "a", names[:2]), resources.embedder)
        before = live_index(conn)
        assert before is not None
        dropped: list[bool] = []
        real_write = vector_index.defer_vector_index

        def watched(connection: psycopg.Connection) -> bool:
            dropped.append(real_write(connection))
            return dropped[-1]

        monkeypatch.setattr("agents.docs.ingest.defer_vector_index", watched)
        ingest_folder(conn, write_notes(tmp_path / "b", names[2:]), resources.embedder)
        after = live_index(conn)
        assert dropped == [True]  # 4 chunks beside 2 indexed: left out during the load
        assert after is not None and after[0] != before[0] and after[1] == before[1]
        count = conn.execute("SELECT count(*) FROM app.chunks").fetchone()[0]
        assert count == 6


def test_a_load_that_stopped_half_way_gets_its_index_back_on_the_next_run(
    resources, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "EXACT_BELOW", 3)

    class FailsSecondTime:
        name, dimension = resources.embedder.name, resources.embedder.dimension
        calls = 0

        def embed(self, texts):
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("encoder crashed")
            return resources.embedder.embed(texts)

    root = write_notes(tmp_path / "a", sorted(NOTES))
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        definition = live_index(conn)
        with pytest.raises(RuntimeError, match="encoder crashed"):
            ingest_folder(conn, root, FailsSecondTime(), batch_size=1)
        # One chunk written, below the threshold: the index stays out, its definition kept.
        assert live_index(conn) is None and kept_definition(conn) is not None
        report = ingest_folder(conn, root, resources.embedder)
        assert report.added == 5
        rebuilt = live_index(conn)
        assert rebuilt is not None and definition is not None and rebuilt[1] == definition[1]
        assert kept_definition(conn) is None


def test_readers_holding_the_table_keep_the_index_live(
    resources, fresh_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn, psycopg.connect(fresh_db) as reader:
        reader.execute("SELECT count(*) FROM app.chunks").fetchone()  # holds ACCESS SHARE
        report = ingest_folder(conn, write_notes(tmp_path / "a", sorted(NOTES)[:2]),
                               resources.embedder)
        reader.rollback()
        assert report.added == 2
        # The drop timed out after a second: the load went into the live index.
        assert live_index(conn) is not None and kept_definition(conn) is None
