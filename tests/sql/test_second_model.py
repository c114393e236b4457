"""The planner on a second semantic model, of a business unlike the demo: a subscription software
company (tests/sql/second_model/: its semantic_model.yaml, and schema.sql loaded into schema `saas`
of the test database for this module, dropped after).

Everything the planner knows about a business must come from its semantic model: on this one it
answers the SaaS questions with SQL over the saas tables only, and the numbers match hand-written
SQL on the fixture; the demo's words (revenue, region, gross margin, Lumen Edge) mean nothing here
and are not answered with confidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from agents.sql.planner import Plan, PlanningContext, plan_question
from agents.sql.semantic_model import SemanticModel, load_semantic_model

HERE = Path(__file__).resolve().parent / "second_model"
SAAS_TABLES = frozenset({"saas.accounts", "saas.countries", "saas.invoices", "saas.plans",
                         "saas.subscriptions"})
ANCHOR = date(2024, 12, 31)  # the last date in the fixture's data


@pytest.fixture(scope="module")
def saas_conn(database_url: str) -> Iterator[psycopg.Connection]:
    """The saas schema in the session's test database, for this module only."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS saas CASCADE")
        conn.execute((HERE / "schema.sql").read_text(encoding="utf-8"))  # trusted fixture
        try:
            yield conn
        finally:
            conn.execute("DROP SCHEMA IF EXISTS saas CASCADE")


@pytest.fixture(scope="module")
def model(saas_conn: psycopg.Connection) -> SemanticModel:
    loaded = load_semantic_model(HERE / "semantic_model.yaml")
    return loaded.with_values(lambda query: [row[0] for row in saas_conn.execute(query)])


@pytest.fixture(scope="module")
def ctx(model: SemanticModel) -> PlanningContext:
    return PlanningContext(model, ANCHOR)


def test_the_model_reads_only_the_saas_tables(model: SemanticModel) -> None:
    assert model.tables() == SAAS_TABLES
    assert model.currency == "USD"
    assert "Corporate" in model.dimensions["plan"].values
    assert "Japan" in model.dimensions["country"].values


# ---------------------------------------------------------------- answered questions

# question, the result columns compared, the expected rows (hand-written SQL), ordered?
ANSWERED: list[tuple[str, tuple[str, ...], str, bool]] = [
    ("MRR by plan in 2024", ("plan", "mrr"), """
        SELECT p.name, SUM(s.mrr) FROM saas.subscriptions s JOIN saas.plans p USING (plan_id)
        WHERE s.status = 'active' AND s.started_on >= '2024-01-01' AND s.started_on < '2025-01-01'
        GROUP BY p.name""", False),
    ("How many active accounts by country?", ("country", "active_accounts"), """
        SELECT co.name, count(*) FROM saas.accounts a JOIN saas.countries co USING (country_code)
        WHERE a.status = 'active' GROUP BY co.name""", False),
    ("Top 3 accounts by invoiced amount", ("account", "invoiced_amount"), """
        SELECT a.name, SUM(i.amount) FROM saas.invoices i
        JOIN saas.subscriptions s USING (subscription_id) JOIN saas.accounts a USING (account_id)
        WHERE i.status <> 'void' GROUP BY a.name ORDER BY 2 DESC LIMIT 3""", True),
    ("Montant facturé par pays en 2024", ("country", "invoiced_amount"), """
        SELECT co.name, SUM(i.amount) FROM saas.invoices i
        JOIN saas.subscriptions s USING (subscription_id) JOIN saas.accounts a USING (account_id)
        JOIN saas.countries co USING (country_code)
        WHERE i.status <> 'void' AND i.issued_on >= '2024-01-01' AND i.issued_on < '2025-01-01'
        GROUP BY co.name""", False),
    ("Combien de comptes actifs par pays ?", ("country", "active_accounts"), """
        SELECT co.name, count(*) FROM saas.accounts a JOIN saas.countries co USING (country_code)
        WHERE a.status = 'active' GROUP BY co.name""", False),
    ("Invoiced amount by quarter in 2024", ("quarter", "invoiced_amount"), """
        SELECT to_char(issued_on, 'YYYY-"Q"Q'), SUM(amount) FROM saas.invoices
        WHERE status <> 'void' AND issued_on >= '2024-01-01' AND issued_on < '2025-01-01'
        GROUP BY 1""", False),
    ("Invoiced amount in Germany in 2024", ("invoiced_amount",), """
        SELECT SUM(i.amount) FROM saas.invoices i
        JOIN saas.subscriptions s USING (subscription_id) JOIN saas.accounts a USING (account_id)
        WHERE a.country_code = 'DE' AND i.status <> 'void'
          AND i.issued_on >= '2024-01-01' AND i.issued_on < '2025-01-01'""", False),
    ("Number of subscriptions by plan", ("plan", "subscriptions"), """
        SELECT p.name, count(*) FROM saas.subscriptions s JOIN saas.plans p USING (plan_id)
        GROUP BY p.name""", False),
    ("MRR par offre en 2024", ("plan", "mrr"), """
        SELECT p.name, SUM(s.mrr) FROM saas.subscriptions s JOIN saas.plans p USING (plan_id)
        WHERE s.status = 'active' AND s.started_on >= '2024-01-01' AND s.started_on < '2025-01-01'
        GROUP BY p.name""", False),
    ("MRR by plan last year", ("plan", "mrr"), """
        SELECT p.name, SUM(s.mrr) FROM saas.subscriptions s JOIN saas.plans p USING (plan_id)
        WHERE s.status = 'active' AND s.started_on >= '2023-01-01' AND s.started_on < '2024-01-01'
        GROUP BY p.name""", False),
    ("Which account has the highest MRR?", ("account", "mrr"), """
        SELECT a.name, SUM(s.mrr) FROM saas.subscriptions s JOIN saas.accounts a USING (account_id)
        WHERE s.status = 'active' GROUP BY a.name ORDER BY 2 DESC LIMIT 1""", True),
    ("Top 3 comptes par montant facturé", ("account", "invoiced_amount"), """
        SELECT a.name, SUM(i.amount) FROM saas.invoices i
        JOIN saas.subscriptions s USING (subscription_id) JOIN saas.accounts a USING (account_id)
        WHERE i.status <> 'void' GROUP BY a.name ORDER BY 2 DESC LIMIT 3""", True),
    ("Invoiced amount for Acme Analytics in 2024", ("invoiced_amount",), """
        SELECT SUM(i.amount) FROM saas.invoices i
        JOIN saas.subscriptions s USING (subscription_id) JOIN saas.accounts a USING (account_id)
        WHERE a.name = 'Acme Analytics' AND i.status <> 'void'
          AND i.issued_on >= '2024-01-01' AND i.issued_on < '2025-01-01'""", False),
    ("How much did we invoice in 2024?", ("invoiced_amount",), """
        SELECT SUM(amount) FROM saas.invoices
        WHERE status <> 'void' AND issued_on >= '2024-01-01' AND issued_on < '2025-01-01'""",
     False),
    ("Invoiced amount in 2024 vs 2023", ("invoiced_amount_2024", "invoiced_amount_2023"), """
        SELECT SUM(amount) FILTER (WHERE issued_on >= '2024-01-01' AND issued_on < '2025-01-01'),
               SUM(amount) FILTER (WHERE issued_on >= '2023-01-01' AND issued_on < '2024-01-01')
        FROM saas.invoices WHERE status <> 'void'""", False),
    ("Share of MRR by continent", ("continent", "mrr", "share"), """
        SELECT co.continent, SUM(s.mrr), SUM(s.mrr) / SUM(SUM(s.mrr)) OVER ()
        FROM saas.subscriptions s JOIN saas.accounts a USING (account_id)
        JOIN saas.countries co USING (country_code)
        WHERE s.status = 'active' GROUP BY co.continent""", False),
]


def _tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="postgres")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {f"{t.db}.{t.name}".lower() if t.db else t.name.lower()
            for t in tree.find_all(exp.Table) if t.db or t.name not in ctes}


def _value(value: Any) -> Any:
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return round(float(value), 2)
    return value


def _rows(conn: psycopg.Connection, sql: str, columns: tuple[str, ...] | None = None) -> list[Any]:
    cur = conn.execute(sql)
    names = [d.name for d in cur.description or ()]
    picked = [names.index(c) for c in columns] if columns else list(range(len(names)))
    return [tuple(_value(row[i]) for i in picked) for row in cur.fetchall()]


@pytest.mark.parametrize("question, columns, expected_sql, ordered", ANSWERED,
                         ids=[case[0] for case in ANSWERED])
def test_answers_on_the_second_model(ctx: PlanningContext, saas_conn: psycopg.Connection,
                                     question: str, columns: tuple[str, ...], expected_sql: str,
                                     ordered: bool) -> None:
    plan = plan_question(question, ctx)
    assert plan.confident, (plan.problem, plan.not_understood)
    assert plan.sql is not None
    assert _tables(plan.sql) <= SAAS_TABLES, plan.sql
    got = _rows(saas_conn, plan.sql, columns)
    want = _rows(saas_conn, expected_sql)
    assert want, "the fixture has rows for this question"
    if ordered:
        assert got == want, plan.sql
    else:
        assert sorted(got, key=repr) == sorted(want, key=repr), plan.sql


def test_a_french_question_is_labelled_in_french(ctx: PlanningContext) -> None:
    plan = plan_question("Montant facturé par pays en 2024", ctx)
    assert plan.lang == "fr" and plan.confident, plan.problem
    assert plan.column_labels.get("invoiced_amount") == "Montant facturé"
    assert plan.column_labels.get("country") == "Pays"
    assert "factures émises" in plan.understood_as, plan.understood_as


# ---------------------------------------------------------------- refusals

REFUSED = [
    "revenue by region",
    "What was revenue by region in 2024?",
    "Gross margin of Lumen Edge",
    "Chiffre d'affaires par région en 2024",
    "Top 5 products by gross margin last year",
    "Average CSAT by priority",
    "Number of orders by channel",
    "MRR by segment",
    "Invoiced amount in euros in 2024",
    "How many flurbles per zorp in 2024?",
    "MRR by flavour in 2024",
]


@pytest.mark.parametrize("question", REFUSED)
def test_the_demos_words_and_unknown_words_are_not_answered(ctx: PlanningContext,
                                                           question: str) -> None:
    plan: Plan = plan_question(question, ctx)
    assert not plan.confident, (plan.sql, plan.understood_as)
    assert plan.sql is None
