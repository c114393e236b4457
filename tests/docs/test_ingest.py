"""Incremental ingestion: unchanged files embed nothing, edits replace only their chunks,
deleted files disappear, unreadable files are skipped with a reason."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import psycopg
import pytest

from agents.docs.chunking import split_document
from agents.docs.ingest import ingest_folder
from agents.docs.loaders import load_document
from agents.docs.vector_index import kept_definition

DOCS = {
    "remote.md": "# Remote work\n\n## Allowance\nEmployees may work remotely two days a week.\n",
    "leave.md": "# Congés\n\n## Règles\nChaque salarié dispose de 25 jours de congés payés.\n",
    "notes.txt": "EXPENSES\nMeals are reimbursed up to 25 EUR per day with a receipt.\n",
    "page.html": "<html><head><title>T</title></head><body><nav>menu junk</nav><main>"
                 "<h1>Support SLA</h1><h2>Urgent</h2><p>Urgent tickets get an answer within one"
                 " hour.</p></main><footer>footer junk</footer></body></html>",
}


class CountingEmbedder:
    """The real offline embedder, counting what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def chunk_rows(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute(
        "SELECT d.path, count(c.chunk_id) FROM app.documents d LEFT JOIN app.chunks c"
        " USING (document_id) GROUP BY 1").fetchall())


def test_incremental_reingest(resources, fresh_db: str, folder: Path) -> None:
    embedder = CountingEmbedder(resources.embedder)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        first = ingest_folder(conn, folder, embedder)
        assert (first.added, first.updated, first.deleted, first.unchanged) == (4, 0, 0, 0)
        assert first.chunks_embedded >= 4
        ids_before = dict(conn.execute(
            "SELECT d.path, array_agg(c.chunk_id ORDER BY c.chunk_id) FROM app.documents d"
            " JOIN app.chunks c USING (document_id) GROUP BY 1").fetchall())

        embedder.texts = 0
        again = ingest_folder(conn, folder, embedder)
        assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 4)
        assert again.chunks_embedded == 0 and embedder.texts == 0

        (folder / "remote.md").write_text(DOCS["remote.md"] + "\nThree days in August.\n")
        (folder / "notes.txt").unlink()
        embedder.texts = 0
        third = ingest_folder(conn, folder, embedder)
        assert (third.added, third.updated, third.deleted, third.unchanged) == (0, 1, 1, 2)
        assert embedder.texts == third.chunks_embedded >= 1
        ids_after = dict(conn.execute(
            "SELECT d.path, array_agg(c.chunk_id ORDER BY c.chunk_id) FROM app.documents d"
            " JOIN app.chunks c USING (document_id) GROUP BY 1").fetchall())
        remote = f"{folder.name}/remote.md"
        assert ids_after[remote] != ids_before[remote]
        for path in (f"{folder.name}/leave.md", f"{folder.name}/page.html"):
            assert ids_after[path] == ids_before[path], "untouched documents keep their chunks"
        assert f"{folder.name}/notes.txt" not in chunk_rows(conn)
        text = " ".join(r[0] for r in conn.execute("SELECT content FROM app.chunks"))
        assert "Meals are reimbursed" not in text
        assert "Three days in August" in text


def test_unreadable_files_are_skipped_with_reason(resources, fresh_db: str,
                                                   folder: Path) -> None:
    (folder / "empty.md").write_text("")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip at all")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    with open(folder / "locked.pdf", "wb") as handle:
        writer.write(handle)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        report = ingest_folder(conn, folder, resources.embedder)
    reasons = dict(report.skipped)
    assert report.added == 4
    assert "empty" in reasons["empty.md"]
    assert "PDF" in reasons["broken.pdf"]
    assert "DOCX" in reasons["broken.docx"]
    assert "unsupported" in reasons["image.png"]
    assert "encrypted" in reasons["locked.pdf"]


def test_loaders_keep_structure(folder: Path) -> None:
    html = load_document(folder / "page.html")
    assert html.title == "Support SLA"
    joined = " ".join(s.text for s in html.sections)
    assert "Urgent tickets" in joined and "menu junk" not in joined and "footer" not in joined
    assert html.sections[0].heading == "Urgent"
    md = load_document(folder / "leave.md")
    assert md.title == "Congés" and md.sections[0].heading == "Règles"
    chunks = split_document(md)
    assert chunks and chunks[0].section == "Règles"


def test_demo_corpus_formats_load() -> None:
    root = Path(__file__).resolve().parents[2] / "seed_data" / "docs"
    pdfs = sorted(root.rglob("*.pdf"))
    docx = sorted(root.rglob("*.docx"))
    assert pdfs and docx, "run python -m seed_data.build_docs"
    msa = load_document(root / "legal" / "msa.pdf")
    pages = {s.page for s in msa.sections}
    assert max(pages) >= 30
    doc = load_document(docx[0])
    assert any(s.heading for s in doc.sections)


def test_switching_embedding_model_rebuilds(resources, fresh_db: str, folder: Path) -> None:
    class Renamed(CountingEmbedder):
        pass

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ingest_folder(conn, folder, resources.embedder)
        other = Renamed(resources.embedder)
        other.name = "another-model"
        report = ingest_folder(conn, folder, other)
        assert report.rebuilt_for_model and report.added == 4 and report.unchanged == 0
        state = conn.execute("SELECT embed_model, dimension FROM app.index_state").fetchone()
        assert state == ("another-model", 512)
    assert os.path.exists(folder)


def test_a_database_error_while_writing_stops_the_ingest(resources, fresh_db: str,
                                                         folder: Path) -> None:
    # The writes run on a second thread: a failure there must reach the caller, not be lost,
    # and must not leave the ingest hanging or the next run believing the folder is indexed.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.chunks ADD CONSTRAINT no_hour CHECK (content !~ 'hour')")
        try:
            with pytest.raises(psycopg.errors.CheckViolation):
                ingest_folder(conn, folder, resources.embedder, batch_size=1)
        finally:
            conn.execute("ALTER TABLE app.chunks DROP CONSTRAINT no_hour")
        written = chunk_rows(conn)
        assert f"{folder.name}/page.html" not in written  # its transaction rolled back
        report = ingest_folder(conn, folder, resources.embedder)
        assert report.added + report.unchanged == 4 and report.added >= 1
        assert f"{folder.name}/page.html" in chunk_rows(conn)


def test_an_embedding_error_stops_the_ingest_and_keeps_what_was_written(
    resources, fresh_db: str, folder: Path
) -> None:
    class FailsSecondTime(CountingEmbedder):
        def embed(self, texts):
            if self.calls == 1:
                raise RuntimeError("encoder crashed")
            return super().embed(texts)

    embedder = FailsSecondTime(resources.embedder)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(RuntimeError, match="encoder crashed"):
            ingest_folder(conn, folder, embedder, batch_size=1)
        assert len(chunk_rows(conn)) == 1  # the first batch was written, nothing after it
        report = ingest_folder(conn, folder, resources.embedder)
        assert (report.added, report.unchanged, report.deleted) == (3, 1, 0)


def embedding_index(conn: psycopg.Connection) -> str | None:
    """The HNSW index's definition: live, or kept while a small table has none."""
    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'app'"
                       " AND indexname = 'chunks_embedding_idx'").fetchone()
    return row[0] if row else kept_definition(conn)


def test_a_new_dimension_resizes_vectors_and_keeps_the_index_definition(
    fresh_db: str, folder: Path
) -> None:
    class Small:
        name = "tiny-model"
        dimension = 8

        def embed(self, texts):
            rng = np.random.default_rng(len(texts))
            vectors = rng.standard_normal((len(texts), 8)).astype(np.float32)
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        before = embedding_index(conn)
        assert before is not None and "m='24'" in before.replace(" ", "")
        report = ingest_folder(conn, folder, Small())
        assert report.added == 4
        assert embedding_index(conn) == before
        assert conn.execute("SELECT count(*) FROM app.chunks WHERE vector_dims(embedding) = 8"
                            ).fetchone()[0] == report.chunks_embedded


def test_two_folders_of_the_same_name_both_ingest(resources, fresh_db: str,
                                                  tmp_path: Path) -> None:
    """Issue 16: a second folder named like an indexed one failed on documents_path_key."""
    roots = []
    for place in ("team-a", "team-b"):
        root = tmp_path / place / "docs"
        root.mkdir(parents=True)
        (root / "remote.md").write_text(f"# Remote\n\n{place} works remotely on Fridays.\n")
        roots.append(root)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        first = ingest_folder(conn, roots[0], resources.embedder)
        second = ingest_folder(conn, roots[1], resources.embedder)
        again = ingest_folder(conn, roots[0], resources.embedder)
        paths = dict(conn.execute("SELECT path, source_root FROM app.documents"
                                  " WHERE path LIKE 'docs%'").fetchall())
    assert (first.added, second.added, again.unchanged) == (1, 1, 1)
    assert paths == {"docs/remote.md": str(roots[0].resolve()),
                     "docs-2/remote.md": str(roots[1].resolve())}
    # A label whose folder has no document left is free again (a moved data folder).
    third = tmp_path / "team-c" / "docs"
    shutil.copytree(roots[0], third)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DELETE FROM app.documents WHERE source_root = %s",
                     (str(roots[0].resolve()),))
        ingest_folder(conn, third, resources.embedder)
        moved = conn.execute("SELECT source_root FROM app.documents"
                             " WHERE path = 'docs/remote.md'").fetchone()
    assert moved == (str(third.resolve()),)
