"""The chunks' HNSW index: none while the table is small, built once after a large load.

Inserting a chunk into the live HNSW index (24 links per node) costs Postgres 1.3 ms at 1,400
indexed rows and 2.7 ms at 20,000, most of what ingestion spends outside the encoder; building
the index costs 0.14 to 0.24 ms a row, as long as its graph fits in maintenance_work_mem (beyond,
the build goes on on disk and is little faster than inserting). Hence two rules:

- **Below EXACT_BELOW chunks no HNSW index is kept.** An exact search of every chunk is fast
  there and exact (recall 1.0), and a load pays no index upkeep. Qdrant makes the same choice
  (segments under its `indexing_threshold`, 20,000 vectors by default, are searched by full
  scan). The ingestion that takes the table past it builds the index.
- **A load that adds at least DEFER_SHARE of the rows already indexed** (and DEFER_MIN_CHUNKS)
  drops the index and builds it once at its end, when the whole graph fits in memory.

Meanwhile retrieval is exact: the kNN arm scans the rows the user's groups keep, which it
already does at 50,000 chunks with a selective filter (bench/README.md). While the index is
absent its definition is kept in app.deferred_indexes (migration 0014): a run that stops
half-way leaves it there, and the next ingestion builds the index from it once it is due. The
statements that drop or build it take an advisory lock, so two runs never do both at once.
"""

from __future__ import annotations

import math

import psycopg

VECTOR_INDEX = "chunks_embedding_idx"
EXACT_BELOW = 5_000
DEFER_MIN_CHUNKS = 64
DEFER_SHARE = 0.25
# Bytes a node takes in pgvector's in-memory build graph beside its float32 vector (neighbour
# lists, element header): measured 3,183 bytes a row at 512 dimensions, 24 links.
_GRAPH_NODE_BYTES = 1_200
_LOCK = "sourced-vector-index"


def deferral_threshold(conn: psycopg.Connection, dimension: int) -> int | None:
    """How many chunks a load must bring for the index to be left out during it (0: any load,
    the table is small); None when it is kept live (the build would not fit in memory)."""
    with conn.transaction():
        indexed = conn.execute("SELECT count(*) FROM app.chunks").fetchone()[0]  # type: ignore[index]
        memory = conn.execute(
            "SELECT setting::bigint * 1024 FROM pg_settings WHERE name = 'maintenance_work_mem'"
        ).fetchone()[0]  # type: ignore[index]
    if indexed < EXACT_BELOW:
        return 0
    threshold = max(DEFER_MIN_CHUNKS, math.ceil(DEFER_SHARE * indexed))
    if indexed + threshold > memory // (4 * dimension + _GRAPH_NODE_BYTES):
        return None
    return threshold


def defer_vector_index(conn: psycopg.Connection) -> bool:
    """Drop the HNSW index for a load, its definition kept; True when the load goes in without
    an index (dropped now, or already left out). False, the index kept live, when readers hold
    the table longer than the lock timeout, or when there is no index to speak of."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '1s'")
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
            live = conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'app'"
                                " AND indexname = %s", (VECTOR_INDEX,)).fetchone()
            if live is None:
                return kept_definition(conn) is not None
            conn.execute(
                "INSERT INTO app.deferred_indexes (name, definition) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,"
                " deferred_at = now()", (VECTOR_INDEX, live[0]))
            conn.execute(f"DROP INDEX app.{VECTOR_INDEX}")
    except (psycopg.errors.LockNotAvailable, psycopg.errors.InsufficientPrivilege):
        return False
    return True


def restore_vector_index(conn: psycopg.Connection) -> bool:
    """Build the HNSW index a load left out, once the table holds EXACT_BELOW chunks or more.

    Returns True when it was built here.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
        definition = kept_definition(conn)
        if definition is None:
            return False
        rows = conn.execute("SELECT count(*) FROM app.chunks").fetchone()[0]  # type: ignore[index]
        if rows < EXACT_BELOW:
            return False
        missing = conn.execute("SELECT to_regclass(%s) IS NULL",
                               (f"app.{VECTOR_INDEX}",)).fetchone()[0]  # type: ignore[index]
        if missing:
            conn.execute(definition)  # as pg_indexes gave it when it was dropped
        conn.execute("DELETE FROM app.deferred_indexes WHERE name = %s", (VECTOR_INDEX,))
        return bool(missing)


def kept_definition(conn: psycopg.Connection) -> str | None:
    """The definition of the HNSW index while it is left out, else None."""
    row = conn.execute("SELECT definition FROM app.deferred_indexes WHERE name = %s",
                       (VECTOR_INDEX,)).fetchone()
    return str(row[0]) if row else None
