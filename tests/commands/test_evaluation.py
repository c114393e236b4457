"""The evaluation harness: its comparison rules, the shipped sets, and the accuracy they measure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.commands.evaluation import (
    RAG_QUESTIONS,
    SQL_QUESTIONS,
    RagEvalReport,
    SqlEvalReport,
    compare_results,
    evaluate_rag,
    evaluate_sql,
    format_rag_report,
    format_sql_report,
    load_rag_questions,
    load_sql_questions,
)
from agents.errors import ConfigError
from agents.sql.planner import PlanningContext, plan_question
from agents.sql.semantic_model import load_semantic_model

ROOT = Path(__file__).resolve().parents[2]
# The retrieval target: hit@5 >= 0.9 (0.908, 69 of 76, when this was written, with at most two
# passages per document among the five and the answerability rules of agents/docs/retrieval.py).
# One question of slack: the HNSW graph is rebuilt for each test session.
RAG_HIT5_FLOOR = 0.89


# ---------------------------------------------------------------- comparison rules

REGIONS = [("EMEA", Decimal("103462194.96")), ("France", Decimal("98000000.10")),
           ("APAC", Decimal("45785412.99"))]


def test_row_order_does_not_matter_unless_asked() -> None:
    assert compare_results(REGIONS, list(reversed(REGIONS))).match
    verdict = compare_results(REGIONS, list(reversed(REGIONS)), ordered=True)
    assert not verdict.match and "order" in verdict.reason
    assert compare_results(REGIONS, REGIONS, ordered=True).match


def test_ties_of_a_ranking_may_come_in_either_order() -> None:
    gold = [("Chile", 103), ("Canada", 103), ("Brazil", 92)]
    assert compare_results(gold, [("Canada", 103), ("Chile", 103), ("Brazil", 92)],
                           ordered=True).match
    assert not compare_results(gold, [("Brazil", 92), ("Canada", 103), ("Chile", 103)],
                               ordered=True).match


def test_numbers_are_equal_within_one_hundredth_relative() -> None:
    assert compare_results([(100.0,)], [(100.9,)]).match
    assert compare_results([(Decimal("0.0500"),)], [(0.0504,)]).match
    assert not compare_results([(100.0,)], [(101.5,)]).match
    assert not compare_results([(0.05,)], [(0.0515,)]).match


def test_column_names_and_column_order_are_ignored() -> None:
    swapped = [(value, region) for region, value in REGIONS]
    assert compare_results(REGIONS, swapped).match
    assert compare_results(REGIONS, swapped, ordered=True).match


def test_extra_candidate_columns_are_context_but_missing_ones_fail() -> None:
    with_share = [(r, v, float(v) / 247e6) for r, v in REGIONS]
    assert compare_results(REGIONS, with_share).match
    verdict = compare_results(with_share, REGIONS)
    assert not verdict.match and "columns" in verdict.reason


def test_a_wrong_answer_fails() -> None:
    wrong_value = [("EMEA", 1.0), *REGIONS[1:]]
    assert not compare_results(REGIONS, wrong_value).match
    # Right values attached to the wrong regions.
    shuffled = [("EMEA", REGIONS[1][1]), ("France", REGIONS[0][1]), REGIONS[2]]
    assert not compare_results(REGIONS, shuffled).match
    verdict = compare_results(REGIONS, REGIONS[:2])
    assert not verdict.match and verdict.reason == "2 rows, expected 3"
    assert not compare_results([(1,)], []).match


def test_dates_strings_and_numbers_are_normalized() -> None:
    assert compare_results([(date(2024, 1, 1), "EMEA ")], [("2024-01-01", "emea")]).match
    assert compare_results([(datetime(2024, 1, 1), 2024)], [(date(2024, 1, 1), "2024")]).match
    assert compare_results([(Decimal("2024"), None)], [(2024, None)]).match
    assert not compare_results([(None,)], [(0,)]).match


# ---------------------------------------------------------------- the shipped sets


def test_shipped_sql_set_is_large_bilingual_and_covers_every_metric() -> None:
    questions = load_sql_questions(SQL_QUESTIONS)
    assert len(questions) >= 80
    assert sum(q.lang == "fr" for q in questions) * 2 >= len(questions)
    assert len({q.id for q in questions}) == len(questions)
    assert any(q.ordered for q in questions) and any(q.user for q in questions)
    model = load_semantic_model(ROOT / "seed_data" / "semantic_model.yaml")
    ctx = PlanningContext(model, date(2025, 12, 31))
    planned = {m for q in questions for m in plan_question(q.question, ctx).metrics}
    assert planned == set(model.metrics)


def test_shipped_rag_set_loads_with_its_restricted_questions() -> None:
    questions = load_rag_questions(RAG_QUESTIONS)
    restricted = [q for q in questions if q.groups]
    assert len(questions) - len(restricted) >= 60 and restricted


def test_malformed_sets_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("questions:\n  - question: revenue in 2019\n")
    with pytest.raises(ConfigError, match="gold_sql"):
        load_sql_questions(path)
    path.write_text("questions:\n  - {id: a, question: x, gold_sql: SELECT 1}\n"
                    "  - {id: a, question: y, gold_sql: SELECT 2}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_sql_questions(path)
    path.write_text("questions: []\nrestricted:\n  - {question: x, expected: y.md}\n")
    with pytest.raises(ConfigError):
        load_rag_questions(path)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def sql_report(resources: Any) -> SqlEvalReport:
    return evaluate_sql(SQL_QUESTIONS, resources)


@pytest.fixture(scope="module")
def rag_report(resources: Any) -> RagEvalReport:
    return evaluate_rag(RAG_QUESTIONS, resources)


def test_offline_execution_accuracy_on_the_shipped_set(sql_report: SqlEvalReport) -> None:
    assert sql_report.mode == "offline"
    assert sql_report.accuracy >= 0.90, format_sql_report(sql_report)
    assert sql_report.accuracy_for("en") >= 0.85 and sql_report.accuracy_for("fr") >= 0.85
    # Every gold query runs, including the scoped user's under row level security.
    assert not [o for o in sql_report.outcomes if "gold SQL" in o.reason]
    assert {o.user for o in sql_report.outcomes} >= {"alice", "bruno"}


def test_retrieval_quality_on_the_shipped_set(rag_report: RagEvalReport) -> None:
    assert rag_report.hit_at(5) >= RAG_HIT5_FLOOR, format_rag_report(rag_report)
    assert rag_report.hit_at(1) <= rag_report.hit_at(5) <= 1
    assert 0 < rag_report.mrr <= rag_report.hit_at(rag_report.depth)
    # alice is in exec but not in hr: the salary grid questions must find nothing of it.
    assert rag_report.hidden == 2 and rag_report.leaks == 0


def test_refusals_and_wrong_gold_count_as_misses(resources: Any, tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(
        "questions:\n"
        "  - id: right\n"
        "    question: How many orders did we get in 2018?\n"
        "    gold_sql: SELECT count(*) FROM warehouse.orders WHERE status = 'completed'"
        " AND order_date >= '2018-01-01' AND order_date < '2019-01-01'\n"
        "  - id: wrong-gold\n"
        "    question: How many orders did we get in 2018?\n"
        "    gold_sql: SELECT count(*) FROM warehouse.orders WHERE order_date >= '2018-01-01'"
        " AND order_date < '2019-01-01'\n"
        "  - id: off-topic\n"
        "    question: Tell me a joke about accountants\n"
        "    gold_sql: SELECT 1\n",
        encoding="utf-8",
    )
    report = evaluate_sql(path, resources)
    outcomes = {o.question.id: o.outcome for o in report.outcomes}
    assert outcomes == {"right": "pass", "wrong-gold": "miss", "off-topic": "refused"}
    assert report.accuracy == pytest.approx(1 / 3)
    table = format_sql_report(report)
    assert "Execution accuracy: 1/3 (33.3%)" in table and "wrong-gold" in table
