"""Tests of sql_guard: the labeled corpus, never-raise properties, row cap, table policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sql_guard import GuardResult, Policy, check, policy_for_groups

CORPUS_PATH = Path(__file__).with_name("guard_corpus.yaml")
CORPUS: list[dict[str, Any]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))

WAREHOUSE = frozenset(
    f"warehouse.{t}"
    for t in (
        "customers",
        "products",
        "sales_reps",
        "orders",
        "order_items",
        "revenue_targets",
        "support_tickets",
        "employees",
    )
)
NO_EMPLOYEES = Policy(allowed_tables=WAREHOUSE - {"warehouse.employees"},
                      search_path=("warehouse",))

# Node classes that must never appear in SQL the guard lets through.
FORBIDDEN_NODES: tuple[type, ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Into,
    exp.Lock,
    exp.Copy,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Grant,
    exp.Revoke,
)


def _id(index: int, case: dict[str, Any]) -> str:
    note = str(case.get("note") or index)
    return f"{'allow' if case['allow'] else 'deny'}-{index}-{note.replace(' ', '_')[:40]}"


def assert_safe(sql: str) -> None:
    """An allowed statement re-parses to one query free of statement-level nodes."""
    statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    assert len(statements) == 1
    root = statements[0]
    assert isinstance(root, (exp.Select, exp.SetOperation, exp.Values, exp.Subquery))
    assert not any(isinstance(node, FORBIDDEN_NODES) for node in root.walk())


def test_corpus_is_large_and_balanced() -> None:
    allowed = sum(1 for c in CORPUS if c["allow"])
    assert len(CORPUS) >= 220
    assert allowed >= 80 and len(CORPUS) - allowed >= 80
    assert all(c["allow"] or "reason" in c for c in CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[_id(i, c) for i, c in enumerate(CORPUS)])
def test_corpus(case: dict[str, Any]) -> None:
    result = check(case["sql"])
    assert isinstance(result, GuardResult)
    assert result.allowed is case["allow"], result.reason
    if case["allow"]:
        assert result.reason is None and result.sql is not None
        assert_safe(result.sql)
        again = check(result.sql)
        assert again.allowed and again.sql == result.sql  # idempotent
    else:
        assert result.sql is None and result.row_cap is None
        assert result.reason and case["reason"] in result.reason.lower()


# ------------------------------------------------------------------ never raises
SQL_TOKENS = [
    "SELECT",
    "FROM",
    "WHERE",
    "WITH",
    "AS",
    "(",
    ")",
    ";",
    ",",
    "*",
    "1",
    "'x'",
    "orders",
    "warehouse.orders",
    "pg_sleep(1)",
    "DELETE",
    "INSERT INTO",
    "UPDATE",
    "SET",
    "VALUES",
    "UNION",
    "ALL",
    "LIMIT",
    "FOR UPDATE",
    "INTO",
    "--",
    "/*",
    "*/",
    "$$",
    "::int",
    "->>",
    "generate_series(1, 10)",
    "CASE WHEN",
    "THEN",
    "END",
    "DROP TABLE",
    "COPY",
    "EXPLAIN",
    "ANALYZE",
    "RETURNING",
    "LATERAL",
    "JOIN",
    "ON",
    "\n",
    '"q"',
    "pg_authid",
    "OVER ()",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_never_raises_on_any_text(text: str) -> None:
    result = check(text)
    assert isinstance(result, GuardResult)
    if result.allowed:
        assert result.sql is not None
        assert_safe(result.sql)
    else:
        assert result.reason


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SQL_TOKENS), max_size=25))
def test_never_raises_on_token_soup(tokens: list[str]) -> None:
    result = check(" ".join(tokens))
    assert isinstance(result, GuardResult)
    if result.allowed:
        assert result.sql is not None
        assert_safe(result.sql)
        assert check(result.sql).sql == result.sql


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1 -- " + "x" * 1_000_000,
        "SELECT " + " + ".join(["1"] * 300_000),
        "SELECT " + "(" * 5000 + "1" + ")" * 5000,
        "SELECT " + "(" * 150 + "1" + ")" * 150,
        bytes(range(256)).decode("latin-1") * 40,
        "\ud7ff\ufffd" * 1000,
        None,
    ],
    ids=["1mb-comment", "1mb-expression", "deep-parens", "nested-150", "binary", "unicode", "none"],
)
def test_hostile_inputs_give_a_result(text: Any) -> None:
    result = check(text)
    assert isinstance(result, GuardResult)
    assert result.allowed or result.reason


def test_moderate_nesting_is_allowed() -> None:
    result = check("SELECT " + "(" * 50 + "1" + ")" * 50)
    assert result.allowed, result.reason


# ------------------------------------------------------------------ row cap
def test_adds_limit_when_absent() -> None:
    result = check("SELECT * FROM warehouse.orders")
    assert result.row_cap == 5000
    assert result.sql is not None and result.sql.endswith("LIMIT 5000")


def test_lowers_a_large_limit() -> None:
    result = check("SELECT * FROM warehouse.orders LIMIT 100000")
    assert result.row_cap == 5000
    assert result.sql is not None and "LIMIT 5000" in result.sql and "100000" not in result.sql


def test_keeps_a_small_limit() -> None:
    result = check("SELECT * FROM warehouse.orders LIMIT 10")
    assert result.row_cap is None
    assert result.sql is not None and result.sql.endswith("LIMIT 10")


def test_limit_equal_to_cap_is_kept() -> None:
    result = check("SELECT * FROM warehouse.orders LIMIT 5000")
    assert result.row_cap is None


def test_custom_cap() -> None:
    result = check("SELECT * FROM warehouse.orders LIMIT 500", Policy(max_rows=100))
    assert result.row_cap == 100 and result.sql is not None and "LIMIT 100" in result.sql


def test_limit_all_and_parameters_are_replaced() -> None:
    for sql in ("SELECT 1 LIMIT ALL", "SELECT 1 LIMIT $1", "SELECT 1 LIMIT 2 + 3"):
        result = check(sql)
        assert result.row_cap == 5000, sql
        assert result.sql is not None and result.sql.endswith("LIMIT 5000"), result.sql


def test_cap_applies_to_whole_union() -> None:
    result = check("SELECT order_id FROM warehouse.orders UNION ALL SELECT 1")
    assert result.row_cap == 5000 and result.sql is not None
    tree = sqlglot.parse_one(result.sql, read="postgres")
    assert isinstance(tree, exp.Union)
    assert tree.args["limit"].expression.this == "5000"
    assert tree.expression.args.get("limit") is None


def test_union_with_small_limit_is_kept() -> None:
    result = check("SELECT 1 UNION SELECT 2 LIMIT 3")
    assert result.row_cap is None
    assert result.sql == "SELECT 1 UNION SELECT 2 LIMIT 3"


def test_offset_is_kept_with_the_cap() -> None:
    result = check("SELECT * FROM warehouse.orders OFFSET 20")
    assert result.sql is not None and "OFFSET 20" in result.sql and "LIMIT 5000" in result.sql


def test_fetch_with_ties_is_capped() -> None:
    result = check("SELECT * FROM warehouse.orders ORDER BY 1 FETCH FIRST 10 ROWS WITH TIES")
    assert result.row_cap == 5000


def test_large_values_list_is_wrapped() -> None:
    rows = ", ".join(f"({i})" for i in range(20))
    result = check(f"VALUES {rows}", Policy(max_rows=5))
    assert result.row_cap == 5 and result.sql is not None
    assert result.sql.startswith("SELECT * FROM (VALUES") and result.sql.endswith("LIMIT 5")
    small = check("VALUES (1), (2)")
    assert small.row_cap is None and small.sql == "VALUES (1), (2)"


# ------------------------------------------------------------------ tables
def test_tables_are_reported_qualified() -> None:
    result = check("SELECT * FROM orders o JOIN warehouse.customers c USING (customer_id)",
                   Policy(search_path=("warehouse",)))
    assert result.tables == frozenset({"warehouse.orders", "warehouse.customers"})


def test_alias_is_not_a_table() -> None:
    result = check("SELECT e.order_id FROM warehouse.orders AS e", NO_EMPLOYEES)
    assert result.allowed, result.reason
    assert result.tables == frozenset({"warehouse.orders"})


def test_cte_name_shadows_a_forbidden_table() -> None:
    result = check("WITH employees AS (SELECT 1 AS id) SELECT * FROM employees", NO_EMPLOYEES)
    assert result.allowed, result.reason
    assert result.tables == frozenset()


def test_qualified_name_is_never_a_cte() -> None:
    sql = "WITH employees AS (SELECT 1 AS id) SELECT * FROM warehouse.employees"
    result = check(sql, NO_EMPLOYEES)
    assert not result.allowed and "warehouse.employees" in (result.reason or "")


def test_cte_out_of_scope_is_a_table() -> None:
    sql = "(WITH employees AS (SELECT 1) SELECT * FROM employees) UNION ALL SELECT 1 FROM employees"
    result = check(sql, NO_EMPLOYEES)
    assert not result.allowed and "warehouse.employees" in (result.reason or "")


def test_later_non_recursive_cte_is_not_visible() -> None:
    sql = "WITH a AS (SELECT * FROM employees), employees AS (SELECT 1) SELECT * FROM a"
    assert not check(sql, NO_EMPLOYEES).allowed
    recursive = (
        "WITH RECURSIVE a AS (SELECT * FROM employees), employees AS (SELECT 1) SELECT * FROM a"
    )
    assert check(recursive, NO_EMPLOYEES).allowed


def test_unqualified_names_resolve_through_search_path() -> None:
    assert check("SELECT * FROM orders", NO_EMPLOYEES).allowed
    assert not check("SELECT * FROM employees", NO_EMPLOYEES).allowed
    other = Policy(allowed_tables=frozenset({"sales.orders"}), search_path=("sales",))
    assert check("SELECT * FROM orders", other).allowed
    assert not check("SELECT * FROM warehouse.orders", other).allowed


def test_identifiers_are_case_insensitive_unless_quoted() -> None:
    assert check("SELECT * FROM WAREHOUSE.Orders", NO_EMPLOYEES).allowed
    assert not check('SELECT * FROM warehouse."Orders"', NO_EMPLOYEES).allowed


def test_forbidden_and_unknown_tables_look_the_same() -> None:
    forbidden = check("SELECT * FROM warehouse.employees", NO_EMPLOYEES)
    unknown = check("SELECT * FROM warehouse.salaries", NO_EMPLOYEES)
    assert not forbidden.allowed and not unknown.allowed
    assert forbidden.reason is not None and unknown.reason is not None
    assert forbidden.reason.replace("employees", "X") == unknown.reason.replace("salaries", "X")
    assert (forbidden.sql, forbidden.row_cap) == (unknown.sql, unknown.row_cap)
    assert len(forbidden.tables) == len(unknown.tables)


def test_forbidden_table_hidden_in_subquery() -> None:
    sql = "SELECT * FROM warehouse.orders WHERE rep_id IN (SELECT 1 FROM warehouse.employees)"
    assert not check(sql, NO_EMPLOYEES).allowed


def test_system_catalogs_can_be_allowed() -> None:
    sql = "SELECT relname FROM pg_catalog.pg_class"
    assert not check(sql).allowed
    result = check(sql, Policy(allow_system_catalogs=True))
    assert result.allowed and result.tables == frozenset({"pg_catalog.pg_class"})


def test_allowed_functions_extend_the_allowlist() -> None:
    assert not check("SELECT warehouse.fiscal_quarter(order_date) FROM orders").allowed
    policy = Policy(allowed_functions=frozenset({"warehouse.fiscal_quarter", "similarity"}))
    assert check("SELECT warehouse.fiscal_quarter(order_date) FROM orders", policy).allowed
    assert check("SELECT similarity(name, 'x') FROM customers", policy).allowed
    assert not check("SELECT other.fiscal_quarter(order_date) FROM orders", policy).allowed


# ------------------------------------------------------------------ groups
RESTRICTED = {"warehouse.employees": ["hr"]}


def test_hr_may_read_employees() -> None:
    policy = policy_for_groups(["hr", "sales"], restricted_tables=RESTRICTED, all_tables=WAREHOUSE)
    assert policy.allowed_tables == WAREHOUSE
    assert check("SELECT * FROM warehouse.employees", policy).allowed


def test_others_may_not_read_employees() -> None:
    policy = policy_for_groups(["sales"], restricted_tables=RESTRICTED, all_tables=WAREHOUSE,
                               search_path=("warehouse",))
    assert policy.allowed_tables == WAREHOUSE - {"warehouse.employees"}
    result = check("SELECT * FROM employees", policy)
    assert not result.allowed
    assert result.reason == (
        "uses the table warehouse.employees, which does not exist or is not available to you"
    )
    assert check("SELECT * FROM orders", policy).allowed


def test_policy_for_groups_keeps_max_rows() -> None:
    policy = policy_for_groups([], restricted_tables={}, all_tables=WAREHOUSE, max_rows=7)
    assert policy.max_rows == 7 and policy.allowed_tables == WAREHOUSE


# ------------------------------------------------------------------ output SQL
def test_comments_are_not_passed_on() -> None:
    result = check("SELECT 1 /* hint */ -- */ ; DROP TABLE orders")
    assert result.allowed and result.sql == "SELECT 1 LIMIT 5000"


def test_quoted_function_names_keep_their_case() -> None:
    result = check("SELECT \"jsonb_typeof\"('1'::jsonb)")
    assert result.sql is not None and '"jsonb_typeof"(' in result.sql


# ------------------------------------------------------------------ generate_series bounds
def test_series_bound_is_inclusive() -> None:
    assert check("SELECT generate_series(1, 100000)").allowed
    refused = check("SELECT generate_series(1, 100001)")
    assert not refused.allowed and "100,000" in (refused.reason or "")


def test_forbidden_call_in_series_bound_names_the_call() -> None:
    result = check("SELECT generate_series(1, pg_sleep(1)::int)")
    assert result.reason is not None and "pg_sleep" in result.reason


def test_daily_spine_over_four_centuries_is_refused() -> None:
    sql = "SELECT generate_series('1700-01-01'::date, '2100-01-01'::date, interval '1 day')"
    assert not check(sql).allowed
    monthly = "SELECT generate_series('1900-01-01'::date, '2100-01-01'::date, interval '1 month')"
    assert check(monthly).allowed


# ------------------------------------------------------------------ value size bounds
def test_size_bound_is_inclusive() -> None:
    from sql_guard.sizes import MAX_VALUE_CHARS

    assert check(f"SELECT lpad('x', {MAX_VALUE_CHARS})").allowed
    assert check(f"SELECT repeat('ab', {MAX_VALUE_CHARS // 2})").allowed
    refused = check(f"SELECT repeat('ab', {MAX_VALUE_CHARS // 2 + 1})")
    assert not refused.allowed and f"{MAX_VALUE_CHARS:,}" in (refused.reason or "")


def test_date_spine_from_current_date_is_bounded_by_its_span() -> None:
    ten_years = ("SELECT generate_series(current_date - interval '10 years', current_date,"
                 " interval '1 day')")
    assert check(ten_years).allowed
    refused = check(ten_years.replace("10 years", "300 years"))
    assert not refused.allowed and "100,000" in (refused.reason or "")
    # Mixed bounds: a literal start and the current date as the end.
    assert not check("SELECT generate_series('1700-01-01'::date, now(), interval '1 day')").allowed
