"""The documents a user may read, listed through the same row level security as retrieval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool

from agents.retrieval import as_docs_reader


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    path: str
    groups: tuple[str, ...]
    modified_at: datetime
    chunks: int
    language: str


def list_documents(pool: ConnectionPool, groups: frozenset[str]) -> list[DocumentInfo]:
    """Documents visible to `groups`, newest first (RLS as sourced_docs_reader decides)."""
    with pool.connection() as conn, conn.transaction():
        as_docs_reader(conn, groups)
        rows = conn.execute(
            "SELECT title, path, acl_groups, modified_at, chunk_count, language"
            " FROM app.documents ORDER BY modified_at DESC, path"
        ).fetchall()
    return [DocumentInfo(r[0], r[1], tuple(r[2]), r[3], r[4], r[5]) for r in rows]
