"""The router's example vectors are embedded once and stored in app.route_example_vectors, keyed
by the encoder's name and the examples: a new process reads them back instead of embedding again;
a changed file or encoder recomputes and replaces them; a failing store costs only the embedding."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from agents.ask.router import EXAMPLES_FILE, load_route_examples
from agents.store.users import read_yaml

DIM = 16


class CountingEmbedder:
    """A deterministic stand-in for the encoder that counts the texts it is asked to embed."""

    dimension = DIM

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.asarray(rows, dtype=np.float32)


def _pool(url: str, **kwargs: object) -> ConnectionPool:
    return ConnectionPool(url, min_size=1, max_size=2, open=True, timeout=10,
                          kwargs={"autocommit": True, **kwargs})


@pytest.fixture
def store(seeded: str) -> Iterator[ConnectionPool]:
    pool = _pool(seeded)
    yield pool
    pool.close()


@pytest.fixture
def encoder_name(seeded: str) -> Iterator[str]:
    """An encoder name of this test only; its rows are removed at the end."""
    name = f"test-encoder/{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute("DELETE FROM app.route_example_vectors WHERE encoder LIKE %s",
                     (f"{name}%",))


def _stored(url: str, encoder: str) -> list[tuple[str, int, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT content_hash, position, route, example FROM app.route_example_vectors"
            " WHERE encoder = %s ORDER BY position", (encoder,)).fetchall()


def _example_count(path: Path = EXAMPLES_FILE) -> int:
    return sum(len(texts) for texts in read_yaml(path).values())


def test_vectors_are_stored_then_read_back_without_embedding(
    store: ConnectionPool, seeded: str, encoder_name: str
) -> None:
    first = CountingEmbedder(encoder_name)
    computed = load_route_examples(first, store=store)
    assert first.calls == [_example_count()]
    rows = _stored(seeded, encoder_name)
    assert len(rows) == _example_count() and len({r[0] for r in rows}) == 1
    assert [r[2] for r in rows] == list(computed.labels)

    again = CountingEmbedder(encoder_name)  # a new process: same encoder, same file
    read = load_route_examples(again, store=store)
    assert again.calls == []
    assert read.labels == computed.labels
    assert read.vectors.dtype == np.float32 and np.array_equal(read.vectors, computed.vectors)
    question = first.embed(["Who is our CEO?"])[0]
    assert read.nearest(question) == computed.nearest(question)


def test_a_changed_examples_file_recomputes_and_replaces(
    store: ConnectionPool, seeded: str, encoder_name: str, tmp_path: Path
) -> None:
    path = tmp_path / "route_examples.yaml"
    path.write_text("sql:\n  - Total revenue last year\n  - Orders per month\n"
                    "docs:\n  - What does the travel policy say?\n", encoding="utf-8")
    load_route_examples(CountingEmbedder(encoder_name), path, store=store)
    before = _stored(seeded, encoder_name)

    path.write_text("sql:\n  - Total revenue last year\n  - Orders per week\n"
                    "docs:\n  - What does the travel policy say?\n", encoding="utf-8")
    changed = CountingEmbedder(encoder_name)
    examples = load_route_examples(changed, path, store=store)
    assert changed.calls == [3]
    after = _stored(seeded, encoder_name)
    assert [r[3] for r in after] == ["Total revenue last year", "Orders per week",
                                     "What does the travel policy say?"]
    assert len({r[0] for r in after}) == 1 and after[0][0] != before[0][0], "replaced, not added"
    assert examples.labels == ("sql", "sql", "docs")

    # The key is the examples themselves: a comment or a reformatting re-embeds nothing.
    path.write_text("# routes\nsql: [Total revenue last year, Orders per week]\n"
                    "docs: ['What does the travel policy say?']\n", encoding="utf-8")
    reformatted = CountingEmbedder(encoder_name)
    load_route_examples(reformatted, path, store=store)
    assert reformatted.calls == []


def test_another_encoder_recomputes_and_keeps_its_own_rows(
    store: ConnectionPool, seeded: str, encoder_name: str
) -> None:
    load_route_examples(CountingEmbedder(encoder_name), store=store)
    other = CountingEmbedder(f"{encoder_name}-v2")
    load_route_examples(other, store=store)
    assert other.calls == [_example_count()]
    assert len(_stored(seeded, encoder_name)) == len(_stored(seeded, other.name))
    reused = CountingEmbedder(encoder_name)
    load_route_examples(reused, store=store)
    assert reused.calls == []


def test_a_missing_table_falls_back_to_computing(
    pg_server: str, encoder_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    pool = _pool(pg_server)  # the server's own database: never migrated, no app schema
    try:
        embedder = CountingEmbedder(encoder_name)
        with caplog.at_level(logging.WARNING, logger="sourced.store"):
            examples = load_route_examples(embedder, store=pool)
    finally:
        pool.close()
    assert embedder.calls == [_example_count()] and len(examples.labels) == _example_count()
    messages = [r.getMessage() for r in caplog.records if r.name == "sourced.store"]
    assert any("could not be read" in m for m in messages), messages
    assert any("could not be stored" in m for m in messages), messages


def test_a_read_only_database_falls_back_to_computing(
    seeded: str, encoder_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    pool = _pool(seeded, options="-c default_transaction_read_only=on")
    try:
        embedder = CountingEmbedder(encoder_name)
        with caplog.at_level(logging.WARNING, logger="sourced.store"):
            examples = load_route_examples(embedder, store=pool)
    finally:
        pool.close()
    assert embedder.calls == [_example_count()]
    assert np.array_equal(examples.vectors, embedder.embed(
        [t for texts in read_yaml(EXAMPLES_FILE).values() for t in texts]))
    assert any("could not be stored" in r.getMessage() for r in caplog.records)
    assert _stored(seeded, encoder_name) == []


def test_resources_read_the_stored_vectors(seeded: str, encoder_name: str) -> None:
    from agents.config import load_settings
    from agents.resources import EMBEDDING_SETTINGS, Resources, build_resources, settings_key

    def fresh() -> tuple[Resources, CountingEmbedder]:
        resources = build_resources(load_settings(), prepare=False)
        embedder = CountingEmbedder(encoder_name)
        resources.caches.embedders[settings_key(resources.settings, EMBEDDING_SETTINGS)] = embedder
        return resources, embedder

    first, first_embedder = fresh()
    second, second_embedder = fresh()  # another process's resources
    try:
        assert first.route_examples() is first.route_examples()
        assert first_embedder.calls == [_example_count()]
        assert second.route_examples().labels
        assert second_embedder.calls == []
    finally:
        first.close()
        second.close()
