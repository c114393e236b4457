"""Runs a statement the guard allowed, with the database's own defenses around it.

Whatever the guard said, the statement runs as a read-only login role (no write privilege, row
level security for scoped users), inside `BEGIN READ ONLY`, with `statement_timeout` and
`search_path = warehouse`, through the extended protocol (one statement only), and the
transaction always ends in ROLLBACK. A guard bug therefore still cannot write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from agents.errors import GuardRejected, QueryTimeout, SqlError
from sql_guard import GuardResult


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    row_cap: int | None
    elapsed_ms: float


def run_query(
    checked: GuardResult,
    pool: ConnectionPool,
    *,
    statement_timeout_ms: int,
    max_rows: int,
) -> QueryResult:
    """Execute `checked.sql` read-only; return at most `max_rows` rows.

    Raises GuardRejected if the result was a refusal (no path runs unchecked text by accident),
    QueryTimeout when statement_timeout fires, SqlError for any other database refusal.
    """
    if not checked.allowed or not checked.sql:
        raise GuardRejected(
            f"This query was not run: {checked.reason or 'it was not checked'}.",
            detail=checked.reason,
        )
    started = time.perf_counter()
    # psycopg treats '%' as a placeholder marker once parameters are given; parameters are given
    # (empty) so that the extended protocol is used, which refuses a second statement.
    text = checked.sql.replace("%", "%%")
    try:
        with pool.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute("BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ")
                    cur.execute(
                        "SELECT set_config('statement_timeout', %s, true),"
                        " set_config('search_path', 'warehouse', true),"
                        " set_config('TimeZone', 'UTC', true)",
                        (str(int(statement_timeout_ms)),),
                    )
                    cur.execute(text, (), prepare=False)
                    columns = [d.name for d in cur.description or []]
                    rows = cur.fetchmany(max_rows + 1) if cur.description else []
            finally:
                if not conn.closed:
                    conn.execute("ROLLBACK")
    except psycopg.errors.QueryCanceled as exc:
        seconds = statement_timeout_ms / 1000
        raise QueryTimeout(
            f"The query took longer than the {seconds:g} s limit and was stopped. "
            "Try a shorter period or fewer details.",
            detail=str(exc),
        ) from exc
    except psycopg.Error as exc:
        message = (exc.diag.message_primary if getattr(exc, "diag", None) else None) or str(exc)
        raise SqlError(f"The database could not run this query: {message}.", detail=str(exc)) \
            from exc
    truncated = len(rows) > max_rows
    # The guard's LIMIT equals the cap: a result that fills it is reported as cut off there (a
    # result of exactly the cap is the one case where that is said without need).
    if checked.row_cap is not None and len(rows) >= checked.row_cap:
        truncated = True
    return QueryResult(
        columns=columns,
        rows=[tuple(r) for r in rows[:max_rows]],
        truncated=truncated,
        row_cap=checked.row_cap or max_rows,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def to_json_value(value: Any) -> Any:
    """JSON-native values: numbers as numbers, dates as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(
            value
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value
