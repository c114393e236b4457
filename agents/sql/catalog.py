"""The warehouse's catalog as small frozen dataclasses, for drafting a semantic model.

Tables, columns, types, primary and foreign keys and comments come from SQLAlchemy's `Inspector`
(portable, and what users of the project asked for); PostgreSQL's `pg_stats` gives the frequent
values of text columns (a bounded `SELECT DISTINCT` when a table was never analysed); date and
timestamp columns get their range. Everything runs as the connection's role (the reader), in
read-only transactions with a statement timeout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

LOW_CARDINALITY = 30
"""A text column with at most this many distinct values becomes a dimension with its values."""
STATEMENT_TIMEOUT_MS = 10_000

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as SQLAlchemy prints it: INTEGER, NUMERIC(10, 2), VARCHAR(120), TIMESTAMP
    nullable: bool = True
    comment: str | None = None
    values: tuple[str, ...] = ()  # all the values of a low-cardinality text column
    distinct: float | None = None  # pg_stats' n_distinct (negative: a fraction of the rows)
    date_range: tuple[str, str] | None = None

    @property
    def kind(self) -> str:
        """text, number, date, bool or other."""
        t = self.type.upper()
        if re.match(r"(VARCHAR|TEXT|CHAR|CHARACTER|CITEXT|NVARCHAR)", t):
            return "text"
        if re.match(r"(INTEGER|BIGINT|SMALLINT|NUMERIC|DECIMAL|REAL|DOUBLE|FLOAT|MONEY)", t):
            return "number"
        if re.match(r"(DATE|TIMESTAMP)", t):
            return "date"
        if t.startswith("BOOLEAN"):
            return "bool"
        return "other"


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str  # schema.table
    references: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str | None = None
    rows: int | None = None  # the planner's estimate (reltuples), None when never analysed

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[Table, ...]
    schemas: tuple[str, ...] = field(default_factory=tuple)

    def table(self, qualified: str) -> Table | None:
        return next((t for t in self.tables if t.qualified == qualified), None)


def _engine(url: str) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    # The project's own psycopg 3 connection (any URL form it accepts), read-only.
    def connect() -> psycopg.Connection:
        conn = psycopg.connect(url)
        conn.read_only = True
        return conn

    return create_engine("postgresql+psycopg://", creator=connect, poolclass=NullPool)


def _inspect(url: str, schemas: Sequence[str], progress: Progress | None) -> list[Table]:
    from sqlalchemy import inspect

    engine = _engine(url)
    tables: list[Table] = []
    try:
        inspector = inspect(engine)
        names = [(s, t) for s in schemas for t in sorted(inspector.get_table_names(schema=s))]
        for done, (schema, name) in enumerate(names, 1):
            tables.append(_table(inspector, schema, name))
            if progress:
                progress(done, len(names), f"{schema}.{name}")
    finally:
        engine.dispose()
    return tables


def _table(inspector: Any, schema: str, name: str) -> Table:
    columns = tuple(
        Column(name=str(c["name"]), type=str(c["type"]), nullable=bool(c.get("nullable", True)),
               comment=c.get("comment"))
        for c in inspector.get_columns(name, schema=schema)
    )
    pk = inspector.get_pk_constraint(name, schema=schema) or {}
    fks = tuple(
        ForeignKey(tuple(fk["constrained_columns"]),
                   f"{fk.get('referred_schema') or schema}.{fk['referred_table']}",
                   tuple(fk["referred_columns"]))
        for fk in inspector.get_foreign_keys(name, schema=schema)
    )
    comment = (inspector.get_table_comment(name, schema=schema) or {}).get("text")
    return Table(schema, name, columns, tuple(pk.get("constrained_columns") or ()), fks, comment)


def _stats(conn: psycopg.Connection, schemas: Sequence[str]) -> dict[tuple[str, str, str], Any]:
    rows = conn.execute(
        "SELECT schemaname, tablename, attname, n_distinct, most_common_vals::text "
        "FROM pg_stats WHERE schemaname = ANY(%s)", (list(schemas),)).fetchall()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def _estimates(conn: psycopg.Connection, schemas: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname, c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%s) "
        "AND c.relkind IN ('r', 'p')", (list(schemas),)).fetchall()
    return {str(name): int(n) for name, n in rows if n is not None and n >= 0}


def _distinct(conn: psycopg.Connection, table: Table, column: str) -> tuple[str, ...] | None:
    """All the values when there are at most LOW_CARDINALITY, () when more, None on error."""
    query = sql.SQL("SELECT DISTINCT {c}::text FROM {t} WHERE {c} IS NOT NULL LIMIT %s").format(
        c=sql.Identifier(column), t=sql.Identifier(table.schema, table.name))
    rows = _read(conn, query, (LOW_CARDINALITY + 1,))
    if rows is None:
        return None
    if len(rows) > LOW_CARDINALITY:
        return ()
    return tuple(sorted(str(r[0]) for r in rows))


def _range(conn: psycopg.Connection, table: Table, column: str) -> tuple[str, str] | None:
    query = sql.SQL("SELECT min({c})::date::text, max({c})::date::text FROM {t}").format(
        c=sql.Identifier(column), t=sql.Identifier(table.schema, table.name))
    rows = _read(conn, query, ())
    if not rows or rows[0][0] is None:
        return None
    return str(rows[0][0]), str(rows[0][1])


def _read(conn: psycopg.Connection, query: sql.Composed,
          params: tuple[Any, ...]) -> list[Any] | None:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute("SELECT set_config('statement_timeout', %s, true)",
                         (str(STATEMENT_TIMEOUT_MS),))
            return conn.execute(query, params).fetchall()
    except psycopg.Error:
        return None


def _pg_array(text: str) -> list[str]:
    """The elements of a PostgreSQL array literal ({a,"b c"})."""
    inner = text.strip()[1:-1]
    return [m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2)
            for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|([^,]+)', inner)]


def _profile(conn: psycopg.Connection, table: Table, stats: dict[Any, Any],
             rows: int | None) -> Table:
    columns = []
    for col in table.columns:
        distinct, mcv = stats.get((table.schema, table.name, col.name), (None, None))
        values: tuple[str, ...] = ()
        date_range = None
        if col.kind == "text" and col.name not in table.primary_key:
            counted = distinct if distinct is None or distinct >= 0 else -distinct * (rows or 0)
            if counted is None or counted <= LOW_CARDINALITY:
                # The frequent values are not all of them: read the column (bounded), and keep
                # the frequent ones when that takes too long.
                found = _distinct(conn, table, col.name)
                values = found if found is not None else tuple(sorted(_pg_array(mcv or "{}")))
        elif col.kind == "date":
            date_range = _range(conn, table, col.name)
        columns.append(Column(col.name, col.type, col.nullable, col.comment, values, distinct,
                              date_range))
    return Table(table.schema, table.name, tuple(columns), table.primary_key,
                 table.foreign_keys, table.comment, rows)


def read_catalog(url: str, schemas: Sequence[str], *,
                 progress: Progress | None = None) -> Catalog:
    """The catalog of `schemas` at `url` (the reader's), profiled for drafting."""
    tables = _inspect(url, schemas, progress)
    with psycopg.connect(url, autocommit=True) as conn:
        stats = _stats(conn, schemas)
        estimates = _estimates(conn, schemas)
        profiled = tuple(_profile(conn, t, stats, estimates.get(t.qualified)) for t in tables)
    return Catalog(profiled, tuple(schemas))
