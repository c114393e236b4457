"""Benchmark of document ingestion and retrieval, beside langchain-postgres' PGVector store.

Run: python -m bench.rag   (progress goes to stderr, the table to stdout)

On a synthetic English/French corpus (bench/rag_corpus.py) in a database of its own on the same
server the app uses (the embedded one under SOURCED_DATA_DIR, or SOURCED_DATABASE_URL's server),
dropped at the end, it measures:

- ingestion throughput (chunks/s) through the real `ingest_folder` and the offline encoder;
- an unchanged re-ingest, as a share of the first ingest's time;
- retrieval p50/p95 through the real `retrieve_chunks` (hybrid SQL, RLS role, iterative HNSW
  scan settings) at TOTAL_CHUNKS chunks, for users whose group keeps a tenth of them, queries
  embedded beforehand so only the database work is timed, and how many of those retrievals the
  planner actually served from the HNSW index;
- recall@10 of the filtered HNSW vector arm (index forced) against an exact scan, same filter;

and the same figures for PGVector fed the same files, vectors and filter, and the same encoder
code (each side its own instance, warmed alike, the side that ingests a folder first
alternating). bench/README.md explains the data and where the comparison is fair and where it
is not.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from agents.config import load_settings
from agents.docs import retrieval
from agents.docs.embeddings import Embedder, OfflineEmbedder
from agents.docs.ingest import (
    IngestReport,
    _embedding_text,  # the exact text the real path embeds, so the peer embeds the same
    ingest_folder,
    load_access_rules,
    load_document,
    split_document,
)
from agents.docs.retrieval import CANDIDATES, HYBRID_SQL, as_docs_reader, retrieve_chunks
from agents.docs.vector_index import kept_definition
from agents.store.database import migrate, start_embedded, with_database
from bench.common import Figure, median, percentile, print_table
from bench.rag_corpus import DEPARTMENTS, generate_corpus, generate_queries, write_corpus

SEED = 20_250_605
# ~1,500 chunks through the real ingestion: long enough for a stable rate, short enough that
# embedding them (the dominant cost) stays well under a minute on 2 cores.
INGEST_DOCUMENTS = 240
# The folder is ingested in slices, by both sides in turn, the first side alternating, so that
# both see the same machine load on average (a shared 2-core machine can halve the encoder's
# speed for a minute).
INGEST_SLICES = 6
TOTAL_CHUNKS = 50_000
N_QUERIES = 100
ROUNDS = 3  # timed passes over the queries, after one warm-up pass
K = 5  # the app's default retrieval_k
RECALL_K = 10
# Bulk rows are grouped into documents of this many chunks, about what ingestion produces.
BULK_CHUNKS_PER_DOCUMENT = 7
# Mixing weights and noise for the bulk vectors (see _mix_vectors), chosen so the bulk keeps the
# geometry of the real vectors of this corpus. Measured on 390 real chunks: mean cosine between
# two chunks of one department 0.68 real / 0.67 bulk, of two departments 0.33 / 0.34; a bulk row
# is at 0.88 of the passage it derives from, real nearest neighbours at 0.85.
MIX_ALPHA = (3.0, 1.5, 1.0)
MIX_NOISE = 0.4
PEER_COLLECTION = "bench_rag"

INGEST_TARGET = 300.0
REINGEST_TARGET_PCT = 10.0
P50_TARGET_MS = 15.0
RECALL_TARGET = 0.98

_STARTED = time.perf_counter()


def _log(message: str) -> None:
    print(f"[rag {time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- embedders


class TimedEmbedder:
    """Our embedder, counting the seconds spent encoding (to show what bounds ingestion)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


class LangchainEmbeddings(Embeddings):
    """The same encoder behind langchain's Embeddings interface, for the peer store."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the real query, taken apart


def vector_arm_sql() -> str:
    """The kNN subquery of HYBRID_SQL, verbatim: recall is measured on the query that ships."""
    match = re.search(
        r"FROM \(\s*(SELECT chunk_id, embedding <=>.*?LIMIT %\(candidates\)s)\s*\) nearest",
        HYBRID_SQL,
        re.DOTALL,
    )
    if match is None:
        raise RuntimeError("HYBRID_SQL changed shape: update bench.rag.vector_arm_sql")
    return match.group(1)


@functools.cache
def reader_settings() -> list[str]:
    """The SET LOCAL statements retrieve_chunks issues (ef_search, iterative scan), verbatim.

    Read from the module's whole source once (not from the function's lines, which go stale
    when the file is edited while a run is under way).
    """
    statements = re.findall(r'"(SET LOCAL hnsw\.[^"]+)"', inspect.getsource(retrieval))
    if not statements:
        raise RuntimeError("retrieve_chunks no longer sets hnsw options: update bench.rag")
    return statements


# How the vector arm may run. "planned": as retrieve_chunks runs it, the planner free to choose;
# "hnsw": the same, with the bitmap and sequential scans disabled so the HNSW index serves it (at
# 50,000 chunks and a 10% filter the planner prefers an exact scan of the group's rows through
# the ACL GIN index, which says nothing of the index's recall); "exact": no index scan at all,
# every row the filter keeps compared: the ground truth.
PLAN_SETTINGS: dict[str, tuple[str, ...]] = {
    "planned": (),
    "hnsw": ("SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_seqscan = off"),
    "exact": ("SET LOCAL enable_indexscan = off",),
}


def vector_search(conn: psycopg.Connection, vector: np.ndarray, group: str, k: int,
                  *, mode: str = "planned", explain: bool = False) -> list[Any]:
    """Top-k chunk ids of the vector arm, run as retrieve_chunks runs it (RLS role, settings).

    The filter and row level security are the same in every mode, so the exact mode is the
    ground truth of the other two. With `explain`, returns the plan's lines instead.
    """
    with conn.transaction():
        as_docs_reader(conn, frozenset({group}))
        for statement in (*reader_settings(), *PLAN_SETTINGS[mode]):
            conn.execute(statement)  # type: ignore[call-overload]  # literals of this module
        query = vector_arm_sql()
        params = {"vector": vector, "groups": [group],
                  "candidates": k if mode == "exact" else max(CANDIDATES, k * 4)}
        # prepare=False: psycopg prepares a statement run 5 times, and the server then reuses
        # its generic plan, which a later SET enable_* does not invalidate: one mode's plan
        # would serve the others (an "HNSW" recall of 1.0 that was really an exact scan).
        if explain:
            return [row[0] for row in conn.execute(  # type: ignore[call-overload]
                "EXPLAIN " + query, params, prepare=False)]
        rows = conn.execute(query, params, prepare=False).fetchall()  # type: ignore[call-overload]
    # relaxed_order may return neighbours slightly out of order; HYBRID_SQL re-ranks by distance.
    rows.sort(key=lambda row: (row[1], row[0]))
    return [row[0] for row in rows[:k]]


def hnsw_scans(db_url: str) -> int:
    """HNSW index scans of app.chunks so far, from the statistics (what really ran, whatever
    EXPLAIN says: a prepared statement may run a generic plan EXPLAIN does not show)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes"
            " WHERE schemaname = 'app' AND indexrelname = 'chunks_embedding_idx'"
        ).fetchone()
    return int(row[0]) if row else 0


def uses_hnsw(plan: list[str]) -> bool:
    return any("chunks_embedding_idx" in line for line in plan)


def recall_at_k(found: Sequence[Any], truth: Sequence[Any]) -> float:
    """Share of the exact top-k that the approximate search returned (1.0 when truth is empty)."""
    if not truth:
        return 1.0
    return len(set(found) & set(truth)) / len(truth)


# ---------------------------------------------------------------- the peer


def sqlalchemy_url(conninfo: str) -> str:
    """A libpq URI or key=value string as a SQLAlchemy psycopg URL (socket directory kept)."""
    from sqlalchemy.engine import URL

    params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items()
              if value is not None}
    host = params.pop("host", None)
    port = params.pop("port", None)
    user = params.pop("user", None)
    password = params.pop("password", None) or None
    dbname = params.pop("dbname", None)
    query = dict(params)
    if host and str(host).startswith("/"):
        # A unix-socket directory is not a hostname: libpq takes it as the host parameter.
        query["host"] = host
        if port:
            query["port"] = port
        host, port = None, None
    url = URL.create(
        "postgresql+psycopg",
        username=user,
        password=password,
        host=host,
        port=int(port) if port else None,
        database=dbname,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def _peer_store(db_url: str, embeddings: Embeddings) -> Any:
    import warnings

    with warnings.catch_warnings():
        # PGVector points newer projects at PGVectorStore; the classic store is still the one
        # most tutorials and projects use, which is what this comparison is about.
        warnings.simplefilter("ignore")
        from langchain_postgres import PGVector

        return PGVector(
            embeddings=embeddings,
            collection_name=PEER_COLLECTION,
            connection=sqlalchemy_url(db_url),
            embedding_length=512,
            use_jsonb=True,
        )


def _peer_exact(conn: psycopg.Connection, collection: str, vector: np.ndarray, group: str,
                k: int) -> list[str]:
    """The peer's exact top-k under the same filter, computed by a full scan."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")
        rows = conn.execute(
            "SELECT id FROM langchain_pg_embedding WHERE collection_id = %s"
            " AND cmetadata->>'acl' = %s ORDER BY embedding <=> %s, id LIMIT %s",
            (collection, group, vector, k),
        ).fetchall()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- results


@dataclass
class IngestFigures:
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    folder_rates: list[float] = field(default_factory=list)  # chunks/s of each folder

    def add(self, chunks: int, seconds: float, embed_seconds: float) -> None:
        self.chunks += chunks
        self.seconds += seconds
        self.embed_seconds += embed_seconds
        self.folder_rates.append(chunks / seconds if seconds else float("nan"))

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds if self.seconds else float("nan")

    @property
    def embed_share(self) -> float:
        return self.embed_seconds / self.seconds if self.seconds else float("nan")


@dataclass
class SearchFigures:
    latencies_ms: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)  # results of the recall@10 query
    results_checked: int = 0
    outside_acl: int = 0  # results whose groups do not include the asking user's group
    # Ours only: timed retrievals whose vector arm went through the HNSW index.
    hnsw_retrievals: int = 0
    # Ours only: the vector arm alone, same query, filter and settings (the rest of a
    # retrieval is the lexical arm, the fusion and the passages' rows).
    vector_ms: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return float(np.mean(self.recalls)) if self.recalls else float("nan")


@dataclass
class RagResult:
    documents: int
    french_documents: int
    ingest: IngestFigures
    reingest_seconds: float
    reingest_summary: str
    total_chunks: int
    kept_share: float
    bulk_seconds: float
    queries: int
    rounds: int
    ours: SearchFigures
    peer_ingest: IngestFigures | None = None
    peer: SearchFigures | None = None
    peer_hnsw: SearchFigures | None = None
    peer_hnsw_build_seconds: float = 0.0
    peer_error: str | None = None


@dataclass(frozen=True)
class RagConfig:
    documents: int = INGEST_DOCUMENTS
    total_chunks: int = TOTAL_CHUNKS
    queries: int = N_QUERIES
    rounds: int = ROUNDS
    seed: int = SEED
    slices: int = INGEST_SLICES
    peer: bool = True
    # The peer again after adding the HNSW index its table lacks (the usual next step).
    peer_hnsw: bool = True


# ---------------------------------------------------------------- bulk fill


@dataclass(frozen=True)
class BulkRows:
    """Rows to add beside the ingested ones: each copies a real passage's text, mixes vectors."""

    base_chunk: np.ndarray  # chunk_id of the passage whose text the row carries
    group: list[str]
    vectors: np.ndarray


def _mix_vectors(base: np.ndarray, picks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Convex mixes of three real vectors of one department plus isotropic noise, normalised.

    Reusing real vectors keeps the bulk in the region of space real passages occupy (an
    isotropic random vector would sit far from every query and make the search trivially easy);
    mixing and noise keep any two bulk rows from being duplicates of each other.
    """
    weights = rng.dirichlet(MIX_ALPHA, size=len(picks)).astype(np.float32)
    weights = -np.sort(-weights, axis=1)  # the first pick dominates: its text is the row's text
    mixed = np.einsum("nk,nkd->nd", weights, base[picks])
    noise = rng.standard_normal(mixed.shape).astype(np.float32)
    noise *= MIX_NOISE / np.sqrt(mixed.shape[1])
    mixed += noise
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return mixed


def plan_bulk_rows(chunk_ids: np.ndarray, groups: Sequence[str], vectors: np.ndarray,
                   total: int, seed: int) -> BulkRows:
    """Enough rows to reach `total`, each department topped up to an equal share."""
    rng = np.random.default_rng(seed)
    share, extra = divmod(total, len(DEPARTMENTS))
    group_array = np.asarray(groups)
    picked_base: list[np.ndarray] = []
    picked_group: list[str] = []
    picked_vectors: list[np.ndarray] = []
    for position, department in enumerate(DEPARTMENTS):
        members = np.flatnonzero(group_array == department)
        wanted = share + (1 if position < extra else 0) - len(members)
        if wanted <= 0:
            continue
        if len(members) == 0:
            raise RuntimeError(f"no ingested passage of {department} to derive bulk rows from")
        picks = members[rng.integers(0, len(members), size=(wanted, len(MIX_ALPHA)))]
        picked_vectors.append(_mix_vectors(vectors, picks, rng))
        picked_base.append(chunk_ids[picks[:, 0]])
        picked_group.extend([department] * wanted)
    if not picked_group:
        return BulkRows(np.zeros(0, dtype=np.int64), [], np.zeros((0, vectors.shape[1]),
                                                                  dtype=np.float32))
    return BulkRows(np.concatenate(picked_base), picked_group, np.concatenate(picked_vectors))


def _ingested_passages(conn: psycopg.Connection) -> tuple[np.ndarray, list[str], np.ndarray]:
    rows = conn.execute(
        "SELECT chunk_id, acl_groups[1], embedding FROM app.chunks ORDER BY chunk_id"
    ).fetchall()
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    vectors = np.asarray([r[2] for r in rows], dtype=np.float32)
    return ids, [r[1] for r in rows], vectors


def fill_ours(conn: psycopg.Connection, bulk: BulkRows) -> None:
    """Insert the bulk rows into app.chunks, the HNSW index rebuilt once afterwards.

    Inserting 50,000 rows one by one into a live HNSW index costs ~3 ms a row here (minutes);
    dropping it and building it again with the same definition is the usual bulk-load practice
    and yields the same kind of graph (same m, ef_construction, operator class).
    """
    if not len(bulk.group):
        return
    row = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'app'"
        " AND indexname = 'chunks_embedding_idx'"
    ).fetchone()
    # Below EXACT_BELOW chunks ingestion keeps no HNSW index, only its definition; at 50,000
    # it would have built it, as this does.
    indexdef = row[0] if row is not None else kept_definition(conn)
    if indexdef is None:
        raise RuntimeError("app.chunks_embedding_idx is missing: is the database migrated?")
    with conn.transaction():
        conn.execute("DROP INDEX IF EXISTS app.chunks_embedding_idx")
        conn.execute("DELETE FROM app.deferred_indexes")
        conn.execute(
            "CREATE TEMP TABLE bench_bulk (position int, base_chunk bigint, grp text,"
            " embedding vector(512)) ON COMMIT DROP"
        )
        with conn.cursor().copy(
            "COPY bench_bulk (position, base_chunk, grp, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int4", "int8", "text", "vector"])
            for position, (base, group, vector) in enumerate(
                zip(bulk.base_chunk.tolist(), bulk.group, bulk.vectors, strict=True)
            ):
                copy.write_row((position, base, group, vector))
        # One document per BULK_CHUNKS_PER_DOCUMENT rows of a group, titled like the document of
        # one of its passages.
        conn.execute(
            "CREATE TEMP TABLE bench_bulk_docs ON COMMIT DROP AS"
            " SELECT b.*, (row_number() OVER (PARTITION BY b.grp ORDER BY b.position) - 1)"
            f" / {int(BULK_CHUNKS_PER_DOCUMENT)} AS doc_no,"
            " (row_number() OVER (PARTITION BY b.grp ORDER BY b.position) - 1)"
            f" % {int(BULK_CHUNKS_PER_DOCUMENT)} AS ordinal"
            " FROM bench_bulk b"
        )
        conn.execute(
            "INSERT INTO app.documents (source_root, path, title, content_hash, modified_at,"
            " language, acl_groups, chunk_count)"
            " SELECT 'bench-bulk', 'bulk/' || x.grp || '/' || x.doc_no, d.title, 'bulk', now(),"
            " c.language, ARRAY[x.grp], x.n"
            " FROM (SELECT grp, doc_no, min(base_chunk) AS first_base, count(*) AS n"
            "       FROM bench_bulk_docs GROUP BY grp, doc_no) x"
            " JOIN app.chunks c ON c.chunk_id = x.first_base"
            " JOIN app.documents d ON d.document_id = c.document_id"
        )
        # The text, language and tsvector are the base passage's: the same words as a real
        # ingest of that passage would index, computed once instead of 50,000 times.
        conn.execute(
            "INSERT INTO app.chunks (document_id, ordinal, section, page, content, language,"
            " acl_groups, embedding, tsv)"
            " SELECT d.document_id, b.ordinal, c.section, c.page, c.content, c.language,"
            " ARRAY[b.grp], b.embedding, c.tsv"
            " FROM bench_bulk_docs b"
            " JOIN app.documents d ON d.path = 'bulk/' || b.grp || '/' || b.doc_no"
            " JOIN app.chunks c ON c.chunk_id = b.base_chunk"
            " ORDER BY b.position"
        )
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute(indexdef)
    conn.execute("RESET maintenance_work_mem")


def fill_peer(conn: psycopg.Connection, collection: str, bulk: BulkRows) -> None:
    """The same bulk rows in the peer's table: same text, same vector, same group."""
    if not len(bulk.group):
        return
    texts = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT c.chunk_id, d.title, c.section, c.content FROM app.chunks c"
            " JOIN app.documents d USING (document_id) WHERE c.chunk_id = ANY(%s)",
            (sorted(set(bulk.base_chunk.tolist())),),
        )
    }
    collection_id = uuid.UUID(collection)
    with conn.transaction(), conn.cursor().copy(
        "COPY langchain_pg_embedding (id, collection_id, embedding, document, cmetadata)"
        " FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "uuid", "vector", "text", "jsonb"])
        for position, (base, group, vector) in enumerate(
            zip(bulk.base_chunk.tolist(), bulk.group, bulk.vectors, strict=True)
        ):
            title, section, content = texts[base]
            copy.write_row((
                f"bulk-{position}",
                collection_id,
                vector,
                f"{title}. {section or ''}. {content}",
                Jsonb({"acl": group, "title": title, "section": section}),
            ))


# ---------------------------------------------------------------- the measurement


def measure(db_url: str, config: RagConfig = RagConfig()) -> RagResult:
    """Run the whole scenario in `db_url`, an empty migrated database; return raw results."""
    documents = generate_corpus(config.documents, config.seed)
    queries = generate_queries(config.queries, config.seed)
    # Each side its own encoder, loaded and warmed the same way. The encoder caches per-token-id
    # work; with one shared instance the side that went second found its folder's token ids
    # already cached by the first (worth about 3% of the encoder's CPU time on this corpus).
    embedder = _warm_encoder()
    peer_embedder = _warm_encoder() if config.peer else None
    peer_result: dict[str, Any] = {}

    with (
        tempfile.TemporaryDirectory(prefix="sourced-bench-rag-") as tmp,
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        slices = max(1, min(config.slices, len(documents)))
        roots = [Path(tmp) / f"part-{number}" for number in range(1, slices + 1)]
        for number, root in enumerate(roots):
            # Contiguous ranges: every folder holds each department in turn, like the whole.
            bounds = (number * len(documents) // slices, (number + 1) * len(documents) // slices)
            write_corpus(documents[bounds[0]:bounds[1]], root)
        register_vector(conn)

        store = None
        collection = ""
        if peer_embedder is not None:
            try:
                store = _peer_store(db_url, LangchainEmbeddings(peer_embedder))
            except ImportError as exc:
                peer_result["error"] = f"langchain-postgres is not installed ({exc.name})"
        if store is not None:
            collection = str(
                conn.execute(
                    "SELECT uuid FROM langchain_pg_collection WHERE name = %s",
                    (PEER_COLLECTION,),
                ).fetchone()[0]  # type: ignore[index]
            )

        ingest, peer_ingest = _ingest_both(conn, roots, embedder, store, peer_embedder)
        peer_result["ingest"] = peer_ingest

        again = IngestReport()
        started = time.perf_counter()
        for root in roots:
            report = ingest_folder(conn, root, embedder)
            again.unchanged += report.unchanged
            again.added += report.added
            again.updated += report.updated
            again.deleted += report.deleted
            again.chunks_embedded += report.chunks_embedded
        reingest = time.perf_counter() - started
        _log(f"unchanged re-ingest in {reingest:.2f}s: {again.summary()}")

        _log(f"filling both indexes to {config.total_chunks:,} chunks")
        started = time.perf_counter()
        ids, groups, vectors = _ingested_passages(conn)
        bulk = plan_bulk_rows(ids, groups, vectors, config.total_chunks, config.seed)
        fill_ours(conn, bulk)
        if store is not None:
            fill_peer(conn, collection, bulk)
        # VACUUM as well as ANALYZE: otherwise autovacuum wakes up on the 48,600 new rows in the
        # middle of the measurements, and while it runs, repeated HNSW scans of one query were
        # seen to return different rows (recall of a query swinging between 0 and 1).
        for table in ("app.chunks", "app.documents",
                      *(("langchain_pg_embedding",) if store is not None else ())):
            conn.execute(f"VACUUM (ANALYZE) {table}")  # type: ignore[call-overload]
        bulk_seconds = time.perf_counter() - started
        total = conn.execute("SELECT count(*) FROM app.chunks").fetchone()[0]  # type: ignore[index]
        counts: dict[str, int] = dict(
            conn.execute("SELECT acl_groups[1], count(*) FROM app.chunks GROUP BY 1").fetchall()
        )
        kept = float(np.mean([counts.get(q.group, 0) / total for q in queries]))
        _log(f"{total:,} chunks in {bulk_seconds:.1f}s (HNSW index rebuilt)")

        query_vectors = embedder.embed([q.text for q in queries])
        ours = SearchFigures()
        peer = SearchFigures() if store is not None else None
        returned: list[tuple[int, str]] = []
        _log(f"timing {len(queries)} queries x {config.rounds} rounds, ours and peer in turn")
        conn.execute("SELECT pg_stat_force_next_flush()")
        scans_before = hnsw_scans(db_url)
        for round_no in range(config.rounds + 1):
            for query, vector in zip(queries, query_vectors, strict=True):
                started = time.perf_counter()
                passages = retrieve_chunks(
                    conn, embedder, query.text, frozenset({query.group}), k=K,
                    lang=query.language, query_vector=vector,
                )
                elapsed = (time.perf_counter() - started) * 1000
                if round_no:  # round 0 warms the caches
                    ours.latencies_ms.append(elapsed)
                    started = time.perf_counter()
                    vector_search(conn, vector, query.group, K)
                    ours.vector_ms.append((time.perf_counter() - started) * 1000)
                returned.extend((p.chunk_id, query.group) for p in passages)
                if store is not None and peer is not None:
                    _time_peer(store, peer, vector, query.group, record=bool(round_no))

        conn.execute("SELECT pg_stat_force_next_flush()")
        ours.hnsw_retrievals = hnsw_scans(db_url) - scans_before
        _log(f"recall@{RECALL_K} over {len(queries)} queries against exact scans")
        peer_truth: list[list[str]] = []
        for query, vector in zip(queries, query_vectors, strict=True):
            truth = vector_search(conn, vector, query.group, RECALL_K, mode="exact")
            if uses_hnsw(vector_search(conn, vector, query.group, RECALL_K, mode="exact",
                                       explain=True)):
                raise RuntimeError("the exact scan used the HNSW index: not a ground truth")
            forced = vector_search(conn, vector, query.group, RECALL_K, mode="hnsw")
            if not uses_hnsw(vector_search(conn, vector, query.group, RECALL_K, mode="hnsw",
                                           explain=True)):
                raise RuntimeError("the HNSW index could not be forced: recall would be exact")
            ours.recalls.append(recall_at_k(forced, truth))
            ours.returned.append(len(forced))
            returned.extend((chunk_id, query.group) for chunk_id in forced)
            if store is not None and peer is not None:
                peer_truth.append(_peer_exact(conn, collection, vector, query.group, RECALL_K))
                _peer_recall(store, peer, vector, query.group, peer_truth[-1])
        _check_acl(conn, ours, returned)

        if store is not None and config.peer_hnsw:
            _log("peer again with an HNSW index on its table (its default search settings)")
            started = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute(
                "CREATE INDEX bench_peer_hnsw ON langchain_pg_embedding"
                " USING hnsw (embedding vector_cosine_ops)"
            )
            conn.execute("RESET maintenance_work_mem")
            conn.execute("VACUUM (ANALYZE) langchain_pg_embedding")
            peer_result["hnsw_build"] = time.perf_counter() - started
            hnsw = SearchFigures()
            for round_no in range(config.rounds + 1):
                for query, vector in zip(queries, query_vectors, strict=True):
                    _time_peer(store, hnsw, vector, query.group, record=bool(round_no))
            for query, vector, truth in zip(queries, query_vectors, peer_truth, strict=True):
                _peer_recall(store, hnsw, vector, query.group, truth)
            peer_result["hnsw"] = hnsw
        if store is not None:
            # Close the peer's pooled connections before the database is dropped.
            store.session_maker.remove()
            store._engine.dispose()

    return RagResult(
        documents=len(documents),
        french_documents=sum(d.language == "fr" for d in documents),
        ingest=ingest,
        reingest_seconds=reingest,
        reingest_summary=again.summary(),
        total_chunks=int(total),
        kept_share=kept,
        bulk_seconds=bulk_seconds,
        queries=len(queries),
        rounds=config.rounds,
        ours=ours,
        peer_ingest=peer_result.get("ingest"),
        peer=peer,
        peer_hnsw=peer_result.get("hnsw"),
        peer_hnsw_build_seconds=peer_result.get("hnsw_build", 0.0),
        peer_error=peer_result.get("error"),
    )


def _warm_encoder() -> OfflineEmbedder:
    """A new offline encoder with its weights loaded: each side of the comparison gets its own."""
    embedder = OfflineEmbedder()
    embedder.embed(["warm-up: the encoder loads its weights on first use"])
    return embedder


def _ingest_both(conn: psycopg.Connection, roots: Sequence[Path], embedder: Embedder,
                 store: Any, peer_embedder: Embedder | None
                 ) -> tuple[IngestFigures, IngestFigures | None]:
    """Each folder through our `ingest_folder`, then through the peer, or the other way round.

    The side that goes first alternates from folder to folder, so a burst of load from other
    processes, or whatever one side leaves behind (dirty pages, a checkpoint, the allocator's
    state), weighs on both alike. Each side has its own encoder (see `measure`).
    """
    _log(f"ingesting {len(roots)} folders, ours and the peer's, the first side alternating")
    ingest = IngestFigures()
    peer_ingest = IngestFigures() if store is not None else None
    for number, root in enumerate(roots, start=1):
        rates: dict[str, float] = {}
        sides = ["ours", "peer"] if number % 2 else ["peer", "ours"]
        for side in sides:
            if side == "ours":
                timed = TimedEmbedder(embedder)
                started = time.perf_counter()
                report = ingest_folder(conn, root, timed)
                seconds = time.perf_counter() - started
                if report.skipped:
                    raise RuntimeError(f"the synthetic corpus did not load: {report.skipped[:3]}")
                ingest.add(report.chunks_embedded, seconds, timed.seconds)
                rates["ours"] = report.chunks_embedded / seconds
            elif store is not None and peer_ingest is not None and peer_embedder is not None:
                chunks, seconds, embed_seconds = _ingest_peer(store, root, peer_embedder)
                peer_ingest.add(chunks, seconds, embed_seconds)
                rates["peer"] = chunks / seconds
        _log(f"folder {number}/{len(roots)}: " + ", ".join(
            f"{name} {rate:.0f}" for name, rate in rates.items()) + " chunks/s")
    _log(f"ingested {ingest.chunks} chunks: ours {ingest.rate:.0f} chunks/s"
         + (f", peer {peer_ingest.rate:.0f}" if peer_ingest else ""))
    return ingest, peer_ingest


def _ingest_peer(store: Any, root: Path, embedder: Embedder) -> tuple[int, float, float]:
    """The peer's ingestion of a folder: our loaders and splitter, then add_documents.

    Same loaders and splitter, so both index the same chunks and embed the same strings; the
    difference is what happens around the encoder (change detection, language, full text, ACL
    columns and the HNSW insert on our side; one multi-row INSERT on the peer's). Returns the
    chunks, the seconds, and the seconds spent in the encoder.
    """
    timed = TimedEmbedder(embedder)
    store.embedding_function = LangchainEmbeddings(timed)
    rules = load_access_rules(root)
    started = time.perf_counter()
    batch: list[Document] = []
    batch_ids: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "acl.yaml"):
        relative = path.relative_to(root).as_posix()
        document = load_document(path)
        group = rules.groups_for(relative)[0]
        for chunk in split_document(document):
            batch.append(Document(
                page_content=_embedding_text(document, chunk),
                metadata={"acl": group, "title": document.title, "section": chunk.section},
            ))
            batch_ids.append(f"{root.name}/{relative}#{chunk.ordinal}")
    # One add_documents call for the whole folder, as the tutorials do: the peer's fastest path.
    store.add_documents(batch, ids=batch_ids)
    seconds = time.perf_counter() - started
    store.embedding_function = LangchainEmbeddings(embedder)
    return len(batch), seconds, timed.seconds


def _time_peer(store: Any, figures: SearchFigures, vector: np.ndarray, group: str,
               *, record: bool) -> None:
    started = time.perf_counter()
    documents = store.similarity_search_by_vector(vector.tolist(), k=K, filter={"acl": group})
    elapsed = (time.perf_counter() - started) * 1000
    if record:
        figures.latencies_ms.append(elapsed)
    figures.results_checked += len(documents)
    figures.outside_acl += sum(d.metadata.get("acl") != group for d in documents)


def _peer_recall(store: Any, figures: SearchFigures, vector: np.ndarray, group: str,
                 truth: list[str]) -> None:
    documents = store.similarity_search_by_vector(
        vector.tolist(), k=RECALL_K, filter={"acl": group}
    )
    figures.recalls.append(recall_at_k([d.id for d in documents], truth))
    figures.returned.append(len(documents))
    figures.results_checked += len(documents)
    figures.outside_acl += sum(d.metadata.get("acl") != group for d in documents)


def _check_acl(conn: psycopg.Connection, figures: SearchFigures,
               returned: list[tuple[int, str]]) -> None:
    """Count our results whose chunk does not carry the asking user's group (must be 0)."""
    groups: dict[int, list[str]] = dict(conn.execute(
        "SELECT chunk_id, acl_groups FROM app.chunks WHERE chunk_id = ANY(%s)",
        (sorted({chunk_id for chunk_id, _ in returned}),),
    ).fetchall())
    figures.results_checked += len(returned)
    figures.outside_acl += sum(group not in groups[chunk_id] for chunk_id, group in returned)


# ---------------------------------------------------------------- the database of the bench


@contextlib.contextmanager
def bench_database() -> Any:
    """A fresh, migrated database on the app's server (embedded by default), dropped after."""
    settings = load_settings()
    if settings.database_url is not None:
        server = settings.database_url.get_secret_value()
    else:
        server = start_embedded(settings.data_dir)
    name = f"sourced_bench_rag_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


# ---------------------------------------------------------------- figures


def figures(result: RagResult) -> list[Figure]:
    """The rag rows of the bench table."""
    ingest = result.ingest
    peer_ingest = result.peer_ingest
    reingest_pct = 100 * result.reingest_seconds / ingest.seconds
    ours = result.ours
    p50, p95 = median(ours.latencies_ms), percentile(ours.latencies_ms, 95)

    def peer_text(shipped: str, with_index: str | None) -> str:
        if result.peer is None:
            return result.peer_error or "not run"
        return shipped if with_index is None else f"{shipped}; +HNSW {with_index}"

    peer, hnsw = result.peer, result.peer_hnsw
    rows = [
        Figure(
            "rag", "corpus",
            f"{result.documents} docs ({result.french_documents} FR), {ingest.chunks} chunks "
            f"ingested; {result.total_chunks:,} in index",
        ),
        Figure(
            "rag", "ingest throughput (chunks/s)",
            f"{ingest.rate:.0f} (encoder {100 * ingest.embed_share:.0f}% of time)",
            f">= {INGEST_TARGET:.0f}, > peer",
            peer_text(
                f"PGVector {peer_ingest.rate:.0f} (encoder {100 * peer_ingest.embed_share:.0f}%);"
                f" ours ahead in {_folders_ahead(ingest, peer_ingest)} folders"
                if peer_ingest else "", None),
            ingest.rate >= INGEST_TARGET and (peer_ingest is None
                                               or ingest.rate > peer_ingest.rate),
        ),
        Figure(
            "rag", "unchanged re-ingest (% of first)",
            f"{reingest_pct:.1f}% ({result.reingest_seconds:.2f} s)",
            f"<= {REINGEST_TARGET_PCT:.0f}%",
            peer_text("no change detection: a re-run re-embeds all (~100%)", None),
            reingest_pct <= REINGEST_TARGET_PCT,
        ),
        Figure(
            "rag", "ACL filter keeps",
            f"{100 * result.kept_share:.1f}% of {result.total_chunks:,} chunks",
            "10%", peer_text("same rows (metadata filter acl = group)", None),
        ),
        Figure(
            "rag", f"retrieval p50 (ms, k={K})", f"{p50:.1f}", f"<= {P50_TARGET_MS:.0f}",
            peer_text(
                f"{median(peer.latencies_ms):.1f}" if peer else "",
                f"{median(hnsw.latencies_ms):.1f}" if hnsw else None,
            ),
            p50 <= P50_TARGET_MS,
        ),
        Figure(
            "rag", "of which the vector arm alone (p50 ms)",
            f"{median(ours.vector_ms):.1f}; lexical arm + fusion {p50 - median(ours.vector_ms):.1f}"
            if ours.vector_ms else "not measured",
        ),
        Figure(
            "rag", f"retrieval p95 (ms, k={K})", f"{p95:.1f}", "",
            peer_text(
                f"{percentile(peer.latencies_ms, 95):.1f}" if peer else "",
                f"{percentile(hnsw.latencies_ms, 95):.1f}" if hnsw else None,
            ),
        ),
        Figure(
            "rag", "real path's kNN arm",
            f"HNSW in {ours.hnsw_retrievals}/{(result.rounds + 1) * result.queries} retrievals; "
            "else exact scan of the group's rows (recall 1.0)",
        ),
        Figure(
            "rag", f"recall@{RECALL_K} HNSW forced vs exact",
            f"{ours.recall:.3f} ({np.mean(ours.returned):.1f}/{RECALL_K} returned)",
            f">= {RECALL_TARGET}",
            peer_text(
                f"{peer.recall:.3f} (exact scan)" if peer else "",
                f"{hnsw.recall:.3f} ({np.mean(hnsw.returned):.1f}/{RECALL_K} returned, "
                f"index built in {result.peer_hnsw_build_seconds:.0f} s)" if hnsw else None,
            ),
            ours.recall >= RECALL_TARGET,
        ),
        Figure(
            "rag", "results outside the user's group",
            f"{ours.outside_acl}/{ours.results_checked}", "0",
            peer_text(
                f"{peer.outside_acl}/{peer.results_checked}" if peer else "",
                f"{hnsw.outside_acl}/{hnsw.results_checked}" if hnsw else None,
            ),
            ours.outside_acl == 0,
        ),
    ]
    return rows


def _folders_ahead(ours: IngestFigures, peer: IngestFigures) -> str:
    """In how many folders ours was faster: each folder is a paired comparison (same files,
    same minute of machine load), steadier than the totals when the load swings."""
    pairs = list(zip(ours.folder_rates, peer.folder_rates, strict=False))
    return f"{sum(a > b for a, b in pairs)}/{len(pairs)}"


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run(config: RagConfig = RagConfig()) -> list[Figure]:
    """Create the bench database, measure, drop it; return the figures for print_table."""
    global _STARTED
    _STARTED = started = time.perf_counter()
    # Other processes' load skews every figure here: it is logged so a slow run can be read.
    _log(f"load average {_load()}")
    with bench_database() as url:
        result = measure(url, config)
    _log(f"done in {time.perf_counter() - started:.0f}s; load average {_load()}")
    return figures(result)


if __name__ == "__main__":
    print_table(run())
