"""The router's example questions, embedded once for every process sharing the app database.

Rows of app.route_example_vectors are keyed by the encoder's name and the SHA-256 of the
examples file: they are read back only when both match, and replaced when either changed. The
store is an optimisation, never a dependency: when it cannot be read or written (read-only
database, missing table, pool exhausted) a warning is logged and the caller embeds in memory.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import psycopg

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

log = logging.getLogger("sourced.store")
# Serialises two processes replacing the same encoder's rows (pg_advisory_xact_lock(int, int)).
VECTORS_LOCK_KEY = 0x5002CEE


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_vectors(pool: ConnectionPool, encoder: str,
                 digest: str) -> tuple[tuple[str, ...], np.ndarray] | None:
    """The stored labels and vectors for this encoder and file content; None when absent or
    when the store cannot be read."""
    try:
        with pool.connection() as conn:
            rows = conn.execute(
                "SELECT route, embedding::real[] FROM app.route_example_vectors"
                " WHERE encoder = %s AND content_hash = %s ORDER BY position",
                (encoder, digest)).fetchall()
    except psycopg.Error as exc:
        log.warning("route example vectors could not be read, embedding them: %s",
                    _first_line(exc))
        return None
    if not rows:
        return None
    return tuple(row[0] for row in rows), np.asarray([row[1] for row in rows], dtype=np.float32)


def write_vectors(pool: ConnectionPool, encoder: str, digest: str, labels: Sequence[str],
                  texts: Sequence[str], vectors: np.ndarray) -> bool:
    """Replace this encoder's stored examples; False (and a warning) when the store refused."""
    rows = [(encoder, digest, i, label, text, [float(x) for x in vector])
            for i, (label, text, vector) in enumerate(zip(labels, texts, vectors, strict=True))]
    try:
        with pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (VECTORS_LOCK_KEY, encoder))
            conn.execute("DELETE FROM app.route_example_vectors WHERE encoder = %s", (encoder,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO app.route_example_vectors"
                    " (encoder, content_hash, position, route, example, embedding)"
                    " VALUES (%s, %s, %s, %s, %s, %s::real[]::vector)", rows)
    except psycopg.Error as exc:
        log.warning("route example vectors could not be stored: %s", _first_line(exc))
        return False
    return True


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
