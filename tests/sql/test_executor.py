"""Defense in depth: the database refuses what a guard bug would let through."""

from __future__ import annotations

import contextlib

import psycopg
import pytest

from agents.errors import GuardRejected, QueryTimeout, SqlError
from agents.sql.executor import run_query
from agents.store.database import READER_ROLE, with_user
from sql_guard import GuardResult, Policy, check

WRITES = [
    "INSERT INTO warehouse.products VALUES (999, 'x', 'Software', 1, 1, '2020-01-01')",
    "UPDATE warehouse.orders SET status = 'cancelled'",
    "DELETE FROM warehouse.order_items",
    "WITH d AS (DELETE FROM warehouse.orders RETURNING *) SELECT count(*) FROM d",
    "CREATE TABLE warehouse.evil (x int)",
    "SELECT 1; DELETE FROM warehouse.orders",
    "SELECT * INTO warehouse.copy_of_orders FROM warehouse.orders",
    "TRUNCATE warehouse.orders",
    "SELECT * FROM warehouse.orders FOR UPDATE",
    "SELECT setval('pg_catalog.pg_class_oid_seq', 1)",
    "SET ROLE postgres",
    "COMMIT; DELETE FROM warehouse.orders",
]


def unchecked(statement: str) -> GuardResult:
    """What a guard bug would produce: an 'allowed' verdict on anything."""
    return GuardResult(allowed=True, sql=statement, search_path=("warehouse",))


def fingerprint(conn: psycopg.Connection) -> tuple:
    return conn.execute(
        "SELECT (SELECT count(*) FROM warehouse.orders),"
        " (SELECT count(*) FILTER (WHERE status = 'completed') FROM warehouse.orders),"
        " (SELECT count(*) FROM warehouse.order_items),"
        " (SELECT count(*) FROM warehouse.products),"
        " (SELECT count(*) FROM pg_tables WHERE schemaname = 'warehouse')"
    ).fetchone()


@pytest.mark.parametrize("statement", WRITES)
def test_database_refuses_writes_when_guard_is_skipped(resources, app_conn, statement) -> None:
    alice = resources.directory.get("alice")
    before = fingerprint(app_conn)
    with pytest.raises(SqlError):
        run_query(unchecked(statement), resources.reader_pool(alice),
                  statement_timeout_ms=5000, max_rows=100)
    app_conn.rollback()
    assert fingerprint(app_conn) == before


def test_sleep_is_stopped_by_statement_timeout(resources) -> None:
    alice = resources.directory.get("alice")
    with pytest.raises(QueryTimeout) as info:
        run_query(unchecked("SELECT pg_sleep(5)"), resources.reader_pool(alice),
                  statement_timeout_ms=300, max_rows=10)
    assert "0.3 s" in info.value.user_message


def test_refused_verdict_never_runs(resources) -> None:
    verdict = check("DELETE FROM warehouse.orders")
    assert not verdict.allowed
    with pytest.raises(GuardRejected) as info:
        run_query(verdict, resources.reader_pool(resources.directory.get("alice")),
                  statement_timeout_ms=1000, max_rows=10)
    assert "DELETE" in info.value.user_message


def test_reader_role_cannot_write_directly(seeded: str, app_conn: psycopg.Connection) -> None:
    before = fingerprint(app_conn)
    with psycopg.connect(with_user(seeded, READER_ROLE), autocommit=True) as conn:
        # Layer 1: the role's sessions start read-only.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO warehouse.sales_reps VALUES (999, 'Mallory', 'EMEA',"
                         " '2020-01-01')")
        # Layer 2: with that default switched off, the privileges still refuse every write.
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO warehouse.sales_reps VALUES (999, 'Mallory', 'EMEA',"
                         " '2020-01-01')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM app.query_log")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE warehouse.t (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM warehouse.employees")
    assert fingerprint(app_conn) == before


def test_row_cap_truncates(resources) -> None:
    from sql_guard import Policy

    verdict = check("SELECT order_id FROM warehouse.orders", Policy(max_rows=25))
    result = run_query(verdict, resources.reader_pool(resources.directory.get("alice")),
                       statement_timeout_ms=5000, max_rows=25)
    assert len(result.rows) == 25 and result.truncated and result.row_cap == 25
    small = check("SELECT order_id FROM warehouse.orders LIMIT 3", Policy(max_rows=25))
    result = run_query(small, resources.reader_pool(resources.directory.get("alice")),
                       statement_timeout_ms=5000, max_rows=25)
    assert len(result.rows) == 3 and not result.truncated


WIDENING = [
    "SELECT DISTINCT region FROM warehouse.customers",
    "SET ROLE sourced_reader; SELECT DISTINCT region FROM warehouse.customers",
    "SELECT set_config('role', 'sourced_reader', false)",
    "RESET ROLE",
    "SET SESSION AUTHORIZATION postgres",
    "SELECT DISTINCT c.region FROM warehouse.orders o JOIN warehouse.customers c USING"
    " (customer_id)",
    "ALTER TABLE warehouse.customers DISABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS scope_sourced_reader_emea ON warehouse.customers",
]


def test_scoped_user_cannot_widen_scope_even_unguarded(resources) -> None:
    bruno = resources.directory.get("bruno")
    pool = resources.reader_pool(bruno)
    for statement in WIDENING:
        with contextlib.suppress(SqlError):
            run_query(unchecked(statement), pool, statement_timeout_ms=5000, max_rows=100)
    for table, column in [("customers", "region"), ("revenue_targets", "region")]:
        result = run_query(unchecked(f"SELECT DISTINCT {column} FROM warehouse.{table}"), pool,
                           statement_timeout_ms=5000, max_rows=100)
        assert result.rows == [("EMEA",)], table
    result = run_query(
        unchecked("SELECT DISTINCT c.region FROM warehouse.order_items oi JOIN warehouse.orders o"
                  " USING (order_id) JOIN warehouse.customers c USING (customer_id)"),
        pool, statement_timeout_ms=15000, max_rows=100,
    )
    assert result.rows == [("EMEA",)]
    # Counting without a join sees only EMEA rows too: the filter is on the table itself.
    with psycopg.connect(resources.urls.app) as conn:
        emea_orders = conn.execute(
            "SELECT count(*) FROM warehouse.orders o JOIN warehouse.customers c USING"
            " (customer_id) WHERE c.region = 'EMEA'").fetchone()[0]
    counted = run_query(unchecked("SELECT count(*) FROM warehouse.orders"), pool,
                        statement_timeout_ms=5000, max_rows=10)
    assert counted.rows[0][0] == emea_orders


# ------------------------------------------------------------- one statement, at the database
@contextlib.contextmanager
def one_connection(seeded: str, role: str = READER_ROLE):
    """A pool of a single reader connection: what one statement leaves behind, the next sees."""
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(with_user(seeded, role), min_size=1, max_size=1, open=True,
                          kwargs={"autocommit": True})
    try:
        yield pool
    finally:
        pool.close()


@pytest.mark.parametrize("statement", [
    "SELECT 1; SELECT 2",
    "SELECT 1; COMMIT; SELECT pg_sleep(3)",
    "COMMIT; SELECT pg_sleep(3)",
])
def test_second_statement_never_runs_even_unguarded(seeded, statement) -> None:
    import time

    with one_connection(seeded) as pool:
        started = time.perf_counter()
        with pytest.raises(SqlError):
            run_query(unchecked(statement), pool, statement_timeout_ms=2000, max_rows=10)
        assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("statement", [
    "COMMIT", "BEGIN READ WRITE", "SET search_path = public", "RESET ALL", "DISCARD ALL",
    "PREPARE p AS SELECT 1", "SHOW search_path",
])
def test_only_a_query_runs_even_unguarded(seeded, statement) -> None:
    with one_connection(seeded) as pool, pytest.raises(SqlError):
        run_query(unchecked(statement), pool, statement_timeout_ms=2000, max_rows=10)


def test_temp_table_cannot_shadow_a_warehouse_table(seeded) -> None:
    attack = ("SELECT 1; COMMIT; BEGIN READ WRITE; CREATE TEMP TABLE customers (name text);"
              " INSERT INTO customers VALUES ('Fake Corp'); COMMIT")
    with one_connection(seeded) as pool:
        with contextlib.suppress(SqlError):
            run_query(unchecked(attack), pool, statement_timeout_ms=2000, max_rows=10)
        names = run_query(check("SELECT name FROM customers", Policy(search_path=("warehouse",))),
                          pool,
                          statement_timeout_ms=5000, max_rows=1000).rows
    assert names and ("Fake Corp",) not in names
    # The layers under it: the role may not create temporary tables, and pg_temp comes last.
    with psycopg.connect(with_user(seeded, READER_ROLE), autocommit=True) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("warehouse, pg_temp",)
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE t (x int)")


# ------------------------------------------------------------------------- bounded queries
READER_LIMITS = {
    "temp_file_limit": "256MB",
    "work_mem": "16MB",
    "idle_in_transaction_session_timeout": "30s",
}


def test_every_reader_role_carries_its_own_limits(resources, app_conn) -> None:
    roles = [r[0] for r in app_conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sourced\\_reader%' ORDER BY 1")]
    assert READER_ROLE in roles and len(roles) >= 3
    for role in roles:
        with psycopg.connect(with_user(resources.urls.app, role)) as conn:
            shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in READER_LIMITS}
            # A ceiling of its own (the executor sets a shorter one per query): never off.
            ceiling = conn.execute("SHOW statement_timeout").fetchone()[0]
            temp = conn.execute("SELECT has_database_privilege(current_database(), 'TEMP')"
                                ).fetchone()[0]
        assert shown == READER_LIMITS, role
        assert ceiling != "0" and temp is False, role


def test_temp_files_of_a_guard_approved_query_are_bounded(resources) -> None:
    verdict = check("WITH x AS MATERIALIZED (SELECT a, b FROM generate_series(1, 100000) a,"
                    " generate_series(1, 100000) b) SELECT count(*) FROM x")
    assert verdict.allowed
    with pytest.raises(SqlError) as info:
        run_query(verdict, resources.reader_pool(resources.directory.get("alice")),
                  statement_timeout_ms=10000, max_rows=10)
    assert "temp_file_limit" in (info.value.detail or "")


def test_result_bytes_are_capped_while_fetching(resources) -> None:
    pool = resources.reader_pool(resources.directory.get("alice"))
    big = unchecked("SELECT n, repeat('x', 100000) FROM generate_series(1, 200) n")
    with pytest.raises(SqlError) as info:
        run_query(big, pool, statement_timeout_ms=5000, max_rows=1000, max_result_bytes=1_000_000)
    assert "1 MB" in info.value.user_message
    small = run_query(unchecked("SELECT n, repeat('x', 1000) FROM generate_series(1, 200) n"),
                      pool, statement_timeout_ms=5000, max_rows=1000, max_result_bytes=1_000_000)
    assert len(small.rows) == 200 and small.columns == ["n", "repeat"]


def test_empty_result_keeps_its_columns(resources) -> None:
    result = run_query(check("SELECT order_id, status FROM warehouse.orders WHERE false"),
                       resources.reader_pool(resources.directory.get("alice")),
                       statement_timeout_ms=5000, max_rows=10)
    assert result.columns == ["order_id", "status"] and result.rows == []


# ------------------------------------------------------------------------ catalog exposure
def test_reader_cannot_list_columns_of_a_table_it_may_not_read(resources) -> None:
    pool = resources.reader_pool(resources.directory.get("alice"))
    listed = run_query(unchecked("SELECT column_name FROM information_schema.columns"
                                 " WHERE table_name = 'employees'"), pool,
                       statement_timeout_ms=5000, max_rows=100)
    assert listed.rows == []
    # pg_attribute and a row-type cast would tell (pg_catalog is readable by every role): the
    # guard is the layer that refuses them.
    for probe in ("SELECT (NULL::warehouse.employees).*",
                  "SELECT 'warehouse.employees'::regclass",
                  "SELECT attname FROM pg_attribute WHERE attrelid = 16384"):
        assert not check(probe).allowed, probe
