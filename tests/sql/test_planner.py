"""The offline planner: what it understands in English and French, and the numbers it gets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from agents.sql.planner import PlanningContext, plan_question
from agents.sql.semantic_model import load_semantic_model

MODEL = load_semantic_model(Path(__file__).resolve().parents[2] / "seed_data" /
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


# ---------------------------------------------------------------- phrasings added with the eval set


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("revenue in the first half of 2024", "2024-01-01", "2024-07-01"),
        ("orders in H2 2023", "2023-07-01", "2024-01-01"),
        ("chiffre d'affaires au premier semestre 2025", "2025-01-01", "2025-07-01"),
        ("taux de remboursement au S2 2024", "2024-07-01", "2025-01-01"),
        ("units sold in 2022 H1", "2022-01-01", "2022-07-01"),
    ],
)
def test_half_years(question, start, end) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert (plan.period.start.isoformat(), plan.period.end.isoformat()) == (start, end)


@pytest.mark.parametrize(
    ("question", "current", "previous"),
    [
        ("How did gross margin change in Q2 2025 versus the same quarter last year?",
         "Q2 2025", "Q2 2024"),
        ("Revenue in March 2024 vs the same month a year earlier", "2024-03", "2023-03"),
        ("Commandes au T1 2025 par rapport au même trimestre de l'an dernier", "Q1 2025",
         "Q1 2024"),
        ("Avons-nous gagné plus de nouveaux clients en 2023 qu'en 2022 ?", "2023", "2022"),
        ("Did we get more orders in 2021 than in 2020?", "2021", "2020"),
        ("Orders in H1 2025 versus H1 2024", "H1 2025", "H1 2024"),
    ],
)
def test_comparisons_with_an_earlier_period(question, current, previous) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert plan.comparison is not None
    assert (plan.comparison[0].label, plan.comparison[1].label) == (current, previous)
    assert plan.dimensions == () and "pct_change" in plan.sql


@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("How much money did we bring in during 2022?", "revenue"),
        ("Combien avons-nous encaissé au 2e trimestre 2021 ?", "revenue"),
        ("How much did Insight Pro generate in 2023?", "revenue"),
        ("How many Edge Appliance XL did we sell last year?", "units_sold"),
        ("Combien de grands comptes ont passé commande en 2023 ?", "active_customers"),
        ("En combien de temps résolvons-nous les tickets en Asie depuis 2024 ?",
         "average_resolution_hours"),
        ("What share of our orders were cancelled in 2022?", "cancellation_rate"),
        ("How close did we get to target in Q4 2025?", "attainment"),
        ("Did EMEA meet its target last quarter?", "attainment"),
        ("What did SMB customers spend in 2025?", "revenue"),
    ],
)
def test_verbs_and_cues_say_which_metric(question, metric) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert plan.metrics == (metric,)


@pytest.mark.parametrize(
    ("question", "metrics", "filters"),
    [
        ("What's our refund rate for online orders in 2023?", ("refund_rate",),
         {"channel": ("online",)}),
        ("Revenue from SMB customers between 2020 and 2022", ("revenue",),
         {"segment": ("SMB",)}),
        ("What's the average time to resolve high priority tickets in 2024?",
         ("average_resolution_hours",), {"priority": ("high",)}),
        ("Quel est le panier moyen de nos clients allemands en 2023 ?",
         ("average_order_value",), {"country": ("Germany",)}),
        ("Nombre de tickets ouverts par des clients néerlandais entre 2022 et 2024",
         ("support_tickets",), {"country": ("Netherlands",)}),
        ("revenue and orders by channel in 2023", ("revenue", "orders"), {}),
        ("Taux d'annulation au Royaume Uni en 2021", ("cancellation_rate",),
         {"country": ("United Kingdom",)}),
    ],
)
def test_counted_nouns_qualify_another_metric(question, metrics, filters) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert plan.metrics == metrics
    assert dict(plan.filters) == filters


@pytest.mark.parametrize(
    ("question", "dims", "limit", "descending"),
    [
        ("What were our five best-selling products in 2024 in terms of revenue?", ("product",),
         5, True),
        ("Quels sont les 3 produits qui ont le moins rapporté en 2023 ?", ("product",), 3,
         False),
        ("Which 3 countries had the lowest revenue in 2024?", ("country",), 3, False),
        ("Classement des cinq meilleurs commerciaux en CA sur 2022", ("sales_rep",), 5, True),
        ("Les deux catégories avec le meilleur taux de marge en 2021", ("category",), 2, True),
        ("Which region brought in the most revenue last year?", ("region",), 1, True),
        ("Who sold the most in France in 2023?", ("sales_rep",), 1, True),
        ("Top 10 countries by number of orders over the last 6 months", ("country",), 10,
         True),
    ],
)
def test_rankings_count_and_direction(question, dims, limit, descending) -> None:
    plan = plan_question(question, CTX)
    assert plan.confident, plan.problem
    assert plan.dimensions == dims
    assert plan.ranking is not None
    assert (plan.ranking.limit, plan.ranking.descending) == (limit, descending)
    assert f"LIMIT {limit}" in plan.sql


def test_rankings_leave_out_the_empty_group() -> None:
    # Online orders have no sales rep: their NULL group must not win a ranking of reps.
    plan = plan_question("Who were our top 3 salespeople in Q4 2025?", CTX)
    assert "NOT r.name IS NULL" in plan.sql
    breakdown = plan_question("revenue by region in 2024", CTX)
    assert "IS NULL" not in breakdown.sql


def test_nouns_that_introduce_or_qualify_do_not_group(resources) -> None:
    # Product names come from the warehouse: this needs the resources' planning context.
    value = plan_question("revenue for the product Lumen Gateway in 2024", resources.planning)
    assert value.dimensions == () and dict(value.filters) == {"product": ("Lumen Gateway",)}
    qualified = plan_question("Chiffre d'affaires par gamme de produits sur les 12 derniers mois",
                              CTX)
    assert qualified.dimensions == ("category",)
    assert (qualified.period.start.isoformat(), qualified.period.end.isoformat()) == (
        "2025-01-01", "2026-01-01")


def test_a_name_shared_by_two_dimensions_takes_the_one_the_metric_has() -> None:
    # "France" is a region and a country; targets only know regions.
    plan = plan_question("La France a-t-elle atteint ses objectifs en 2022 ?", CTX)
    assert plan.confident, plan.problem
    assert plan.metrics == ("attainment",) and dict(plan.filters) == {"region": ("France",)}
    assert plan_question("revenue in France in 2022", CTX).filters == (("region", ("France",)),)


def test_everyday_words_are_not_names(resources) -> None:
    us = plan_question("How many customers bought something from us in 2019?", CTX)
    assert us.filters == () and us.metrics == ("active_customers",)
    assert dict(plan_question("Show revenue in the US in 2023", CTX).filters) == {
        "country": ("United States",)}
    ca = plan_question("ça marche comment le télétravail ?", CTX)
    assert ca.metrics == () and not ca.confident
    product = plan_question("Revenue of Forecast in 2024", resources.planning)
    assert dict(product.filters) == {"product": ("Lumen Forecast",)}
    forecast = plan_question("What is our revenue forecast for 2025?", resources.planning)
    assert forecast.filters == () and not forecast.confident


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("What is our revenue forecast for 2025?", "forecast"),
        ("Revenue in 2026", "data ends"),
        ("Average discount granted to enterprise customers per year", "average"),
        ("What is the median order value per customer segment?", "metric"),
        ("How many orders have more than 3 items?", "number"),
        ("Number of cancelled orders in 2022", "rate"),
        ("Combien de commandes annulées en ligne en 2024 ?", "taux"),
        ("Revenue from refunded orders in 2023", "rates"),
    ],
)
def test_refuses_what_it_cannot_answer(question, problem) -> None:
    plan = plan_question(question, CTX)
    assert not plan.confident and plan.sql is None
    assert problem in (plan.problem or "").lower()


def test_a_verb_alone_does_not_make_a_data_question() -> None:
    # Without a period, a value, a breakdown or a rank, these stay document questions.
    for question in ("What made the outage happen?", "Les amendes de stationnement sont-elles "
                     "remboursées ?", "How do I generate an expense report?"):
        assert plan_question(question, CTX).metrics == (), question
    assert plan_question("What made the most money in 2024, by channel?", CTX).metrics == (
        "revenue",)


def test_vocabulary_is_one_deterministic_alternation() -> None:
    again = PlanningContext(MODEL, date(2025, 12, 31)).vocabulary
    assert again.pattern.pattern == CTX.vocabulary.pattern.pattern
    assert again.entries["france"][0] == ("value", "region", "France")
    assert len(CTX.vocabulary.phrases) >= len(CTX.vocabulary.entries)


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("What share of revenue came from online in 2024?",
         "SELECT sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FILTER (WHERE o.channel"
         " = 'online'), sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FILTER (WHERE"
         " o.channel = 'online') / sum(oi.quantity * oi.unit_price * (1 - oi.discount))"
         " FROM warehouse.orders o JOIN warehouse.order_items oi USING (order_id)"
         " WHERE o.status = 'completed' AND o.order_date >= '2024-01-01'"
         " AND o.order_date < '2025-01-01'"),
        ("Who were our top 3 salespeople in Q4 2025?",
         "SELECT r.name, sum(oi.quantity * oi.unit_price * (1 - oi.discount)) AS v"
         " FROM warehouse.orders o JOIN warehouse.order_items oi USING (order_id)"
         " JOIN warehouse.sales_reps r ON r.rep_id = o.rep_id WHERE o.status = 'completed'"
         " AND o.order_date >= '2025-10-01' AND o.order_date < '2026-01-01'"
         " GROUP BY 1 ORDER BY v DESC LIMIT 3"),
        ("How did gross margin change in Q2 2025 versus the same quarter last year?",
         "WITH m AS (SELECT sum(oi.quantity * (oi.unit_price * (1 - oi.discount) - p.unit_cost))"
         " FILTER (WHERE o.order_date >= '2025-01-01') AS cur, sum(oi.quantity * (oi.unit_price"
         " * (1 - oi.discount) - p.unit_cost)) FILTER (WHERE o.order_date < '2025-01-01') AS prev"
         " FROM warehouse.orders o JOIN warehouse.order_items oi USING (order_id)"
         " JOIN warehouse.products p USING (product_id) WHERE o.status = 'completed' AND"
         " ((o.order_date >= '2025-04-01' AND o.order_date < '2025-07-01') OR"
         " (o.order_date >= '2024-04-01' AND o.order_date < '2024-07-01')))"
         " SELECT cur, prev, cur - prev, (cur - prev) / prev FROM m"),
    ],
)
def test_new_shapes_match_gold_sql(resources, question, gold) -> None:
    plan = plan_question(question, resources.planning)
    with psycopg.connect(resources.urls.app) as conn:
        got = sorted(tuple(_round(v) for v in row) for row in conn.execute(plan.sql))
        want = sorted(tuple(_round(v) for v in row) for row in conn.execute(gold))
    assert got == want
