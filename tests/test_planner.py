"""The offline planner: what it understands in English and French, and the numbers it gets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from agents.planner import PlanningContext, plan_question
from agents.semantic_model import load_semantic_model

MODEL = load_semantic_model(Path(__file__).resolve().parent.parent / "seed_data" /
                            "semantic_model.yaml")
CTX = PlanningContext(MODEL, date(2025, 12, 31))


@pytest.mark.parametrize(
    ("question", "metrics", "dims", "start", "end"),
    [
        ("What was total revenue in 2018?", ("revenue",), (), "2018-01-01", "2019-01-01"),
        ("Combien de clients actifs en 2017 ?", ("active_customers",), (), "2017-01-01",
         "2018-01-01"),
        ("revenue by region in 2019", ("revenue",), ("region",), "2019-01-01", "2020-01-01"),
        ("Chiffre d'affaires par région et par trimestre en 2021", ("revenue",),
         ("region", "quarter"), "2021-01-01", "2022-01-01"),
        ("How did refund rate evolve by month in 2020?", ("refund_rate",), ("month",),
         "2020-01-01", "2021-01-01"),
        ("orders in Q3 2019", ("orders",), (), "2019-07-01", "2019-10-01"),
        ("Nombre de commandes au T3 2019", ("orders",), (), "2019-07-01", "2019-10-01"),
        ("marge brute au 3e trimestre 2019", ("gross_margin",), (), "2019-07-01", "2019-10-01"),
        ("units sold in March 2021", ("units_sold",), (), "2021-03-01", "2021-04-01"),
        ("unités vendues en mars 2021", ("units_sold",), (), "2021-03-01", "2021-04-01"),
        ("new customers between 2019 and 2021", ("new_customers",), (), "2019-01-01",
         "2022-01-01"),
        ("nouveaux clients de 2019 à 2021", ("new_customers",), (), "2019-01-01", "2022-01-01"),
        ("average order value since 2020", ("average_order_value",), (), "2020-01-01",
         "2026-01-01"),
        ("panier moyen depuis 2020", ("average_order_value",), (), "2020-01-01", "2026-01-01"),
        ("revenue last year", ("revenue",), (), "2024-01-01", "2025-01-01"),
        ("chiffre d'affaires l'an dernier", ("revenue",), (), "2024-01-01", "2025-01-01"),
        ("support tickets this quarter", ("support_tickets",), (), "2025-10-01", "2026-01-01"),
        ("average CSAT over the last 6 months", ("average_csat",), (), "2025-07-01",
         "2026-01-01"),
        ("délai moyen de résolution par priorité en 2024", ("average_resolution_hours",),
         ("priority",), "2024-01-01", "2025-01-01"),
        ("taux d'annulation par canal en 2022", ("cancellation_rate",), ("channel",),
         "2022-01-01", "2023-01-01"),
        ("gross margin rate by product category in 2023", ("gross_margin_rate",), ("category",),
         "2023-01-01", "2024-01-01"),
        ("revenue per sales rep in 2024", ("revenue",), ("sales_rep",), "2024-01-01",
         "2025-01-01"),
    ],
)
def test_understands(question, metrics, dims, start, end) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert plan.metrics == metrics
    assert plan.dimensions == dims
    assert plan.period is not None
    assert (plan.period.start.isoformat(), plan.period.end.isoformat()) == (start, end)
    assert plan.sql and plan.explanation


def test_filters_match_values_loosely() -> None:
    plan = plan_question("revenue from entreprise customers in France in 2022", CTX)
    assert dict(plan.filters) == {"segment": ("Enterprise",), "region": ("France",)}
    assert "'Enterprise'" in plan.sql and "'France'" in plan.sql


def test_ranking_comparison_share_attainment() -> None:
    top = plan_question("Top 5 products by gross margin last year", CTX)
    assert top.ranking and top.ranking.limit == 5 and top.dimensions == ("product",)
    assert "LIMIT 5" in top.sql
    fr = plan_question("les 3 meilleurs commerciaux par chiffre d'affaires en 2023", CTX)
    assert fr.ranking and fr.ranking.limit == 3 and fr.dimensions == ("sales_rep",)
    vs = plan_question("revenue 2019 vs 2018", CTX)
    assert vs.comparison and vs.comparison[0].label == "2019"
    assert "pct_change" in vs.sql
    growth = plan_question("croissance du chiffre d'affaires en 2021", CTX)
    assert growth.comparison and growth.comparison[1].label == "2020"
    share = plan_question("share of revenue by channel in 2024", CTX)
    assert share.share and "OVER ()" in share.sql
    att = plan_question("revenue attainment against target by region in 2023", CTX)
    assert att.metrics == ("attainment",) and "revenue_targets" in att.sql


def test_ambiguity_is_stated() -> None:
    plan = plan_question("sales in 2020", CTX)
    assert plan.metrics == ("revenue",)
    assert "revenue" in plan.explanation.lower() and "units" in plan.explanation.lower()
    no_year = plan_question("revenue by region", CTX)
    assert "all dates" in no_year.explanation


def test_refuses_to_guess() -> None:
    for question in ("tell me about the weather", "what is the meaning of life",
                     "Quelle est la couleur préférée du PDG ?"):
        plan = plan_question(question, CTX)
        assert not plan.confident and plan.sql is None


def test_user_text_never_reaches_sql() -> None:
    plan = plan_question("revenue in 2019'; DROP TABLE orders; --", CTX)
    assert plan.sql is not None and "DROP" not in plan.sql.upper()


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("Chiffre d'affaires par région et par trimestre en 2021",
         "SELECT c.region, to_char(o.order_date, 'YYYY-\"Q\"Q'),"
         " sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FROM warehouse.orders o"
         " JOIN warehouse.order_items oi USING (order_id) JOIN warehouse.customers c"
         " USING (customer_id) WHERE o.status = 'completed' AND o.order_date >= '2021-01-01'"
         " AND o.order_date < '2022-01-01' GROUP BY 1, 2"),
        ("How did refund rate evolve by month in 2020?",
         "SELECT to_char(order_date, 'YYYY-MM'), count(*) FILTER (WHERE status = 'refunded')"
         "::numeric / count(*) FILTER (WHERE status IN ('completed', 'refunded'))"
         " FROM warehouse.orders WHERE order_date >= '2020-01-01' AND order_date < '2021-01-01'"
         " GROUP BY 1"),
        ("Top 5 products by gross margin last year",
         "SELECT p.name, sum(oi.quantity * (oi.unit_price * (1 - oi.discount) - p.unit_cost))"
         " AS m FROM warehouse.orders o JOIN warehouse.order_items oi USING (order_id)"
         " JOIN warehouse.products p USING (product_id) WHERE o.status = 'completed'"
         " AND o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01'"
         " GROUP BY 1 ORDER BY m DESC LIMIT 5"),
    ],
)
def test_numbers_match_gold_sql(resources, question, gold) -> None:
    plan = plan_question(question, resources.planning)
    with psycopg.connect(resources.urls.app) as conn:
        got = sorted(tuple(_round(v) for v in row) for row in conn.execute(plan.sql))
        want = sorted(tuple(_round(v) for v in row) for row in conn.execute(gold))
    assert got == want


def _round(value):
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return value
