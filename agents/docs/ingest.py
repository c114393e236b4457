"""Ingestion: load -> split -> embed -> upsert, incrementally.

A document is identified by its path under the ingested folder and fingerprinted by the hash of
its bytes and its access groups. A re-scan embeds only new or changed documents, replaces their
chunks in one transaction, and deletes the documents that disappeared from the folder, so a
deleted document is never cited again. Files that cannot be read are skipped with a reason.

Loading is `agents.docs.loaders`, splitting `agents.docs.chunking`, access groups
`agents.docs.access`.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from agents.docs.access import ACL_FILE, AccessRules, load_access_rules
from agents.docs.chunking import Chunk, split_document
from agents.docs.dates import as_timestamp
from agents.docs.embeddings import Embedder
from agents.docs.loaders import (
    MAX_FILE_BYTES,
    LoadedDocument,
    UnreadableDocument,
    load_document,
    too_large,
)
from agents.docs.text_search import ts_config
from agents.docs.vector_index import (
    defer_vector_index,
    deferral_threshold,
    restore_vector_index,
)
from agents.language import detect_language


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    rebuilt_for_model: bool = False

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
            f"{self.chunks_embedded} chunks embedded"
        )


def iter_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != ACL_FILE and not path.name.startswith("."):
            yield path


# Bumped when loading or chunking changes what a file's chunks are: every document's
# fingerprint changes with it, so the next run re-indexes them once.
CHUNKING_VERSION = "2"


def fingerprint(data: bytes, groups: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"chunking {CHUNKING_VERSION}\x00".encode())
    digest.update(data)
    digest.update(("\x00" + ",".join(sorted(groups))).encode())
    return digest.hexdigest()


def ensure_index_model(conn: psycopg.Connection, embedder: Embedder) -> bool:
    """Record the embedding model; when it changed, empty the index and resize the vectors.

    Returns True when the index was rebuilt for a new model.
    """
    row = conn.execute("SELECT embed_model, dimension FROM app.index_state").fetchone()
    if row and row[0] == embedder.name and row[1] == embedder.dimension:
        return False
    rebuilt = row is not None
    conn.execute("DELETE FROM app.documents")
    column_dimension = conn.execute(
        "SELECT atttypmod FROM pg_attribute"
        " WHERE attrelid = 'app.chunks'::regclass AND attname = 'embedding'"
    ).fetchone()[0]  # type: ignore[index]
    if column_dimension != embedder.dimension:
        # The index is rebuilt as the migrations defined it (links per node and so on).
        indexdef = conn.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE schemaname = 'app' AND indexname = 'chunks_embedding_idx'"
        ).fetchone()
        conn.execute("DROP INDEX IF EXISTS app.chunks_embedding_idx")
        conn.execute(
            f"ALTER TABLE app.chunks ALTER COLUMN embedding TYPE vector({int(embedder.dimension)})"
        )
        if indexdef is not None:
            conn.execute(indexdef[0])
    conn.execute(
        "INSERT INTO app.index_state (id, embed_model, dimension) VALUES (true, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET embed_model = excluded.embed_model, "
        "dimension = excluded.dimension, updated_at = now()",
        (embedder.name, embedder.dimension),
    )
    return rebuilt


@dataclass
class _Pending:
    """A new or changed document, loaded and split, waiting for its vectors and its write."""

    stored_path: str
    document: LoadedDocument
    chunks: list[Chunk]
    digest: str
    groups: tuple[str, ...]
    modified: datetime
    replaces: bool
    vectors: list[np.ndarray] = field(default_factory=list)


@dataclass
class _Scan:
    """One run over a folder: the index's fingerprints before it, and the paths still there."""

    root: Path
    label: str  # the first part of the folder's stored paths (source_label)
    rules: AccessRules
    groups_override: tuple[str, ...] | None
    known: dict[str, str]  # stored path -> fingerprint, as indexed before this run
    report: IngestReport
    seen: set[str] = field(default_factory=set)

    def prepare(self, path: Path, relative: str) -> _Pending | None:
        """The file, loaded and split, if it is new or changed; None when it is unchanged
        (counted as such) or cannot be read (skipped with the reason)."""
        stored_path = f"{self.label}/{relative}"
        try:
            # The size limit is checked before the bytes are read for the fingerprint: a
            # multi-gigabyte file must be skipped, not loaded into memory first.
            status = path.stat()
            if status.st_size > MAX_FILE_BYTES:
                self.report.skipped.append((relative, too_large()))
                return None
            data = path.read_bytes()
            modified = datetime.fromtimestamp(status.st_mtime, tz=UTC)
        except OSError as exc:
            self.report.skipped.append((relative, f"cannot be read ({exc.strerror})"))
            return None
        groups = self.groups_override or self.rules.groups_for(relative)
        digest = fingerprint(data, groups)
        previous = self.known.get(stored_path)
        if previous == digest:
            self.seen.add(stored_path)
            self.report.unchanged += 1
            return None
        try:
            document = load_document(path)
            chunks = split_document(document)
        except UnreadableDocument as exc:
            self.report.skipped.append((relative, str(exc)))
            return None
        except Exception as exc:  # a loader bug on one odd file must not stop the folder
            self.report.skipped.append((relative, f"could not be parsed ({type(exc).__name__})"))
            return None
        self.seen.add(stored_path)
        if document.date is not None:  # the document's own date, not the file's copy time
            modified = as_timestamp(document.date)
        return _Pending(stored_path, document, chunks, digest, tuple(groups), modified,
                        replaces=previous is not None)

    def gone(self) -> list[str]:
        """The indexed documents no longer in the folder."""
        gone = [p for p in self.known if p not in self.seen]
        # A file that exists but failed to load keeps its previous version rather than vanishing.
        still_present = {f"{self.label}/{p}" for p, _ in self.report.skipped}
        return [p for p in gone if p not in still_present]


class _Writer:
    """Writes embedded documents on its own thread, so Postgres inserts one batch (the live
    HNSW insert is about 1.5 ms a chunk) while the encoder works on the next.

    It owns `conn` until `close()`; the first database error stops it and is raised again by
    `put` or `close` in the calling thread.
    """

    def __init__(self, conn: psycopg.Connection, source_root: str, report: IngestReport) -> None:
        self._conn = conn
        self._source_root = source_root
        self._report = report
        self._queue: queue.Queue[list[_Pending] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sourced-ingest-writer",
                                        daemon=True)
        self._thread.start()

    def put(self, batch: list[_Pending]) -> None:
        self._raise_error()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so that put() never blocks on a dead writer
            try:
                _write_batch(self._conn, self._source_root, batch)
                for pending in batch:
                    self._report.chunks_embedded += len(pending.chunks)
                    if pending.replaces:
                        self._report.updated += 1
                    else:
                        self._report.added += 1
            except BaseException as exc:  # handed to the calling thread, not lost here
                self._error = exc


def ingest_folder(
    conn: psycopg.Connection,
    root: Path,
    embedder: Embedder,
    *,
    groups_override: tuple[str, ...] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    batch_size: int = 128,
) -> IngestReport:
    """Bring the index in line with `root`: embed new and changed files, drop deleted ones.

    Chunks of consecutive documents are embedded together, `batch_size` at a time or more
    (whole documents), and written by a second thread while the next batch is embedded. Each
    call to the encoder waits for its last micro-batch, so larger calls waste less, and smaller
    ones let the writes overlap more: on the bench's 235-chunk folders 128 a call gave a median
    459 chunks/s (PGVector 474 in the same runs), 96 gave 463 (476), 256 gave 436 (462); with a
    batch written in one statement (WRITE_BATCH_SQL), 128 gave 475-497 (PGVector 458-472). Into
    a small table, or when the load is large beside it, chunks go in with no HNSW index to
    maintain; it is built at the end once due (`agents.docs.vector_index`).
    """
    register_vector(conn)
    root = root.resolve()
    report = IngestReport()
    source_root = str(root)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('sourced-ingest'))")
        restore_vector_index(conn)  # left out by a load that stopped half-way, if now due
        report.rebuilt_for_model = ensure_index_model(conn, embedder)
        label = source_label(conn, root)
    scan = _Scan(root, label, load_access_rules(root), groups_override,
                 _indexed(conn, source_root), report)
    files = list(iter_files(root))
    prepared = _prepared(scan, root, files, progress)
    ahead = _look_ahead(conn, prepared, embedder.dimension)
    try:
        _embed_and_write(conn, source_root, report, itertools.chain(ahead, prepared), embedder,
                         batch_size)
    finally:
        restore_vector_index(conn)  # built if the load took the table past EXACT_BELOW
    gone = scan.gone()
    if gone:
        with conn.transaction():
            conn.execute("DELETE FROM app.documents WHERE path = ANY(%s)", (gone,))
        report.deleted = len(gone)
    return report


def _prepared(scan: _Scan, root: Path, files: list[Path],
              progress: Callable[[int, int, str], None] | None) -> Iterator[_Pending]:
    """The new and changed files, loaded and split, in order."""
    for index, path in enumerate(files, start=1):
        relative = path.relative_to(root).as_posix()
        if progress:
            progress(index, len(files), relative)
        pending = scan.prepare(path, relative)
        if pending is not None:
            yield pending


def _embed_and_write(conn: psycopg.Connection, source_root: str, report: IngestReport,
                     prepared: Iterable[_Pending], embedder: Embedder, batch_size: int) -> None:
    """Embed whole documents `batch_size` chunks at a time or more; a thread writes them."""
    writer = _Writer(conn, source_root, report)
    batch: list[_Pending] = []
    batch_chunks = 0
    try:
        for pending in prepared:
            batch.append(pending)
            batch_chunks += len(pending.chunks)
            if batch_chunks >= batch_size:
                writer.put(_embedded(batch, embedder))
                batch, batch_chunks = [], 0
        if batch:
            writer.put(_embedded(batch, embedder))
    finally:
        writer.close()


def _look_ahead(conn: psycopg.Connection, prepared: Iterator[_Pending],
                dimension: int) -> list[_Pending]:
    """The documents read ahead to decide whether the load goes in without the HNSW index
    (`agents.docs.vector_index`): it does once they hold enough chunks, and the index is
    dropped then. A run with nothing to write changes nothing."""
    threshold = deferral_threshold(conn, dimension)
    ahead: list[_Pending] = []
    if threshold is None:
        return ahead
    chunks = 0
    for pending in prepared:
        ahead.append(pending)
        chunks += len(pending.chunks)
        if chunks >= max(threshold, 1):
            defer_vector_index(conn)
            break
    return ahead


def source_label(conn: psycopg.Connection, root: Path) -> str:
    """The folder's label in stored paths: its name, numbered when another folder has it.

    Paths are unique in the index whatever the folders are called: two folders named `docs`
    from different places are `docs/...` and `docs-2/...`. Kept across runs
    (app.document_sources); a label whose folder has no document left is free again.
    """
    row = conn.execute("SELECT label FROM app.document_sources WHERE source_root = %s",
                       (str(root),)).fetchone()
    if row is not None:
        return str(row[0])
    taken = {r[0] for r in conn.execute(
        "SELECT s.label FROM app.document_sources s WHERE s.source_root <> %(root)s"
        " AND EXISTS (SELECT 1 FROM app.documents d WHERE d.source_root = s.source_root)"
        " UNION SELECT split_part(path, '/', 1) FROM app.documents"
        " WHERE source_root <> %(root)s", {"root": str(root)})}
    label, number = root.name, 2
    while label in taken:
        label, number = f"{root.name}-{number}", number + 1
    conn.execute("DELETE FROM app.document_sources WHERE label = %s", (label,))
    conn.execute("INSERT INTO app.document_sources (source_root, label) VALUES (%s, %s)",
                 (str(root), label))
    return label


def _indexed(conn: psycopg.Connection, source_root: str) -> dict[str, str]:
    """The fingerprint of each document indexed from `source_root`, by stored path."""
    return {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT path, content_hash FROM app.documents WHERE source_root = %s",
            (source_root,),
        )
    }


def _embedded(batch: list[_Pending], embedder: Embedder) -> list[_Pending]:
    """The batch with each document's vectors, from one call to the encoder."""
    texts = [_embedding_text(p.document, c) for p in batch for c in p.chunks]
    vectors = iter(embedder.embed(texts))
    for pending in batch:
        pending.vectors = [next(vectors) for _ in pending.chunks]
    return batch


# A batch's documents and their chunks in one statement: the triggers that count the chunks'
# words (migration 0013) run once for it, where once per row they doubled the write time and
# once per document they were a third of it. Documents are matched to their chunks by path.
WRITE_BATCH_SQL = """
WITH documents AS (
    INSERT INTO app.documents (source_root, path, title, content_hash, modified_at, language,
                               acl_groups, chunk_count)
    SELECT %(source_root)s, path, title, digest, modified, language,
           string_to_array(groups, ','), chunk_count
    FROM unnest(%(paths)s::text[], %(titles)s::text[], %(digests)s::text[],
                %(modified)s::timestamptz[], %(languages)s::text[], %(groups)s::text[],
                %(chunk_counts)s::int[])
         AS d(path, title, digest, modified, language, groups, chunk_count)
    RETURNING document_id, path, language, acl_groups
)
INSERT INTO app.chunks (document_id, ordinal, section, page, content, language, acl_groups,
                        embedding, tsv)
SELECT d.document_id, c.ordinal, c.section, c.page, c.content, d.language, d.acl_groups,
       c.embedding, to_tsvector(c.ts_config::regconfig, c.words)
FROM unnest(%(chunk_paths)s::text[], %(ordinals)s::int[], %(sections)s::text[],
            %(pages)s::int[], %(contents)s::text[], %(vectors)b::vector[],
            %(configs)s::text[], %(words)s::text[])
     AS c(path, ordinal, section, page, content, embedding, ts_config, words)
JOIN documents d USING (path)
"""


def _write_batch(conn: psycopg.Connection, source_root: str, batch: list[_Pending]) -> None:
    """Replace a batch's documents and their chunks, in one transaction."""
    languages = [detect_language(" ".join(c.content for c in p.chunks[:5])) for p in batch]
    chunks = [(p, c, v, lang) for p, lang in zip(batch, languages, strict=True)
              for c, v in zip(p.chunks, p.vectors, strict=True)]
    with conn.transaction():
        replaced = [p.stored_path for p in batch if p.replaces]
        if replaced:
            conn.execute("DELETE FROM app.documents WHERE path = ANY(%s)", (replaced,))
        conn.execute(WRITE_BATCH_SQL, {
            "source_root": source_root,
            "paths": [p.stored_path for p in batch],
            "titles": [p.document.title for p in batch],
            "digests": [p.digest for p in batch],
            "modified": [p.modified for p in batch],
            "languages": languages,
            "groups": [",".join(p.groups) for p in batch],
            "chunk_counts": [len(p.chunks) for p in batch],
            "chunk_paths": [p.stored_path for p, _, _, _ in chunks],
            "ordinals": [c.ordinal for _, c, _, _ in chunks],
            "sections": [c.section for _, c, _, _ in chunks],
            "pages": [c.page for _, c, _, _ in chunks],
            "contents": [c.content for _, c, _, _ in chunks],
            "vectors": [v for _, _, v, _ in chunks],
            "configs": [ts_config(lang) for _, _, _, lang in chunks],
            "words": [f"{p.document.title} {c.section or ''} {c.content}"
                      for p, c, _, _ in chunks],
        })


def _embedding_text(document: LoadedDocument, chunk: Chunk) -> str:
    # The title and section give a short passage the context its words alone lack.
    return f"{document.title}. {chunk.section or ''}. {chunk.content}"
