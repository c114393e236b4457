"""Runs a statement the guard allowed, with the database's own defenses around it.

Whatever the guard said, the statement runs as a read-only login role (no write privilege, no
TEMP, row level security for scoped users, its own temp_file_limit and work_mem), inside
`BEGIN READ ONLY`, with `statement_timeout` and the guard's `search_path` then `pg_temp`, and the
transaction always ends in ROLLBACK. The text is declared as a cursor through the extended
protocol: PostgreSQL parses it as one statement, and `DECLARE ... CURSOR FOR` takes a query
only, so a second statement, COMMIT, BEGIN or SET cannot run even if the guard were wrong. Rows
are fetched in batches whose bytes are counted, so a result too large to hold is stopped at
the database, not after it has filled the app's memory. A guard bug therefore still cannot write.
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
from agents.store.roles import reader_search_path
from sql_guard import GuardResult

MAX_RESULT_BYTES = 32_000_000
"""Most bytes (as PostgreSQL sends them) a result may hold. The row cap keeps results to a few
thousand rows; this bounds their width, which text functions can make arbitrarily large."""

_CURSOR = "sourced_result"
_FIRST_BATCH = 50
_MAX_BATCH = 1000


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    row_cap: int | None
    elapsed_ms: float


class _ResultTooLarge(Exception):
    pass


def run_query(
    checked: GuardResult,
    pool: ConnectionPool,
    *,
    statement_timeout_ms: int,
    max_rows: int,
    max_result_bytes: int = MAX_RESULT_BYTES,
) -> QueryResult:
    """Execute `checked.sql` read-only; return at most `max_rows` rows.

    Raises GuardRejected if the result was a refusal (no path runs unchecked text by accident),
    QueryTimeout when statement_timeout fires, SqlError for any other database refusal and for
    a result over `max_result_bytes` (an error, not a cut: a table of huge values is no answer,
    and the row cap already says how to narrow a long one).
    """
    if not checked.allowed or not checked.sql:
        raise GuardRejected(
            f"This query was not run: {checked.reason or 'it was not checked'}.",
            detail=checked.reason,
        )
    started = time.perf_counter()
    try:
        columns, rows = _fetch(checked.sql, pool, statement_timeout_ms, max_rows,
                               max_result_bytes, reader_search_path(checked.search_path))
    except _ResultTooLarge as exc:
        raise SqlError(
            f"The result is larger than {_megabytes(max_result_bytes)}, so it was not "
            "fetched. Ask for fewer or shorter columns, or fewer rows.",
            detail=str(exc),
        ) from exc
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


def _fetch(
    text: str, pool: ConnectionPool, timeout_ms: int, max_rows: int, max_bytes: int,
    path: str,
) -> tuple[list[str], list[Any]]:
    """Declare `text` as a cursor in a read-only transaction and fetch up to max_rows + 1 rows."""
    deadline = time.monotonic() + timeout_ms / 1000
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            with conn.cursor() as setup:
                setup.execute("BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ")
                _limit(setup, timeout_ms, first=True, path=path)
                # A ServerCursor sends DECLARE with PQsendQueryParams even without
                # parameters (psycopg's force_extended), so `%` in the text is no placeholder.
                with conn.cursor(_CURSOR, scrollable=False) as cur:
                    cur.execute(text)
                    columns = [d.name for d in cur.description or []]
                    rows = _batches(cur, setup, deadline, max_rows + 1, max_bytes)
        finally:
            if not conn.closed:
                conn.execute("ROLLBACK")
    return columns, rows


def _limit(cur: psycopg.Cursor[Any], timeout_ms: int, *, first: bool = False,
           path: str = "") -> None:
    if not first:
        cur.execute("SELECT set_config('statement_timeout', %s, true)",
                    (str(max(1, timeout_ms)),))
        return
    # cursor_tuple_fraction = 1: plan for the whole result, as a plain query would be.
    cur.execute(
        "SELECT set_config('statement_timeout', %s, true),"
        " set_config('search_path', %s, true),"
        " set_config('TimeZone', 'UTC', true),"
        " set_config('cursor_tuple_fraction', '1', true)",
        (str(int(timeout_ms)), path),
    )


def _batches(
    cur: psycopg.ServerCursor[Any],
    setup: psycopg.Cursor[Any],
    deadline: float,
    wanted: int,
    max_bytes: int,
) -> list[Any]:
    """Fetch up to `wanted` rows in batches, counting their bytes against `max_bytes`.

    Each FETCH is a statement of its own: every one after the first gets the time left of the
    query's budget, so the fetches together stay within one statement_timeout. Batches grow
    while rows are small and shrink as the byte budget runs out.
    """
    rows: list[Any] = []
    used = 0
    size = min(_FIRST_BATCH, wanted)
    while len(rows) < wanted:
        if rows:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
            _limit(setup, left_ms)
        batch = cur.fetchmany(size)
        used += _result_bytes(cur)
        if used > max_bytes:
            raise _ResultTooLarge(f"{used:,} bytes after {len(rows) + len(batch):,} rows")
        rows.extend(batch)
        if len(batch) < size:
            break
        average = max(1, used // len(rows))
        size = max(1, min(_MAX_BATCH, wanted - len(rows), (max_bytes - used) // average))
    return rows


def _result_bytes(cur: psycopg.ServerCursor[Any]) -> int:
    """Bytes of the last FETCH's values, as the server sent them."""
    res = cur.pgresult
    if res is None:
        return 0
    fields = range(res.nfields)
    return sum(len(res.get_value(row, col) or b"") for row in range(res.ntuples) for col in fields)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


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
