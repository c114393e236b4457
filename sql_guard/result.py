"""The two value types of the guard: the Policy a caller passes in and the GuardResult it gets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Policy:
    """What a caller allows a query to do.

    max_rows: the LIMIT imposed on the outermost query (a smaller LIMIT of the query is kept).
    allowed_tables: schema-qualified lowercase table names a query may read; None means any
        ordinary table outside the system schemas.
    search_path: schemas used, in order, to qualify unqualified table names (only the first
        qualifies them); the caller's warehouse schemas, PostgreSQL's default `public` if none.
    allowed_functions: lowercase function names (optionally schema-qualified) allowed on top
        of the built-in read-only allowlist.
    allow_system_catalogs: whether pg_catalog, information_schema and pg_* relations may be read.
    """

    max_rows: int = 5000
    allowed_tables: frozenset[str] | None = None
    search_path: tuple[str, ...] = ("public",)
    allowed_functions: frozenset[str] = field(default_factory=frozenset)
    allow_system_catalogs: bool = False


@dataclass(frozen=True)
class GuardResult:
    """The verdict on one piece of SQL.

    allowed: whether the statement may run.
    reason: one plain sentence naming the refused construct; None when allowed.
    sql: the normalized Postgres statement to run, with the row cap applied; None when refused.
    row_cap: the LIMIT the guard imposed, or None when the query's own LIMIT was kept or refused.
    tables: schema-qualified names of the real tables read (CTE names resolved away).
    search_path: the policy's search path the names were resolved through; the statement must
        run with this one (the executor sets it), or unqualified names could read other tables.
    """

    allowed: bool
    reason: str | None = None
    sql: str | None = None
    row_cap: int | None = None
    tables: frozenset[str] = field(default_factory=frozenset)
    search_path: tuple[str, ...] = ("public",)


def refuse(reason: str, tables: frozenset[str] = frozenset()) -> GuardResult:
    """Build a refusal carrying `reason` (and, when known, the tables read); never carries SQL."""
    return GuardResult(allowed=False, reason=reason, sql=None, row_cap=None, tables=tables)
