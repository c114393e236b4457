"""The evaluation harness: its comparison rules, the shipped sets, and the accuracy they measure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agents.ask.answer import Answer, Source
from agents.commands.evaluation import (
    CORRECT,
    EVAL_SETS,
    FAILED,
    HONEST,
    RAG_QUESTIONS,
    SQL_CONVERSATIONS,
    SQL_HOLDOUT,
    SQL_OUT_OF_MODEL,
    SQL_QUESTIONS,
    WRONG,
    RagEvalReport,
    SetResult,
    SqlEvalReport,
    SqlOutcome,
    SqlQuestion,
    ask_turn,
    compare_results,
    evaluate_conversations,
    evaluate_rag,
    evaluate_sql,
    format_rag_report,
    format_set,
    format_sets_report,
    format_sql_report,
    is_conversations_file,
    is_stated_limit,
    judge_answer,
    judge_document,
    load_conversations,
    load_rag_questions,
    load_sql_questions,
    run_gold,
    takes_follow_up,
)
from agents.errors import AssistantError, ConfigError
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


# ---------------------------------------------------------------- three-way verdicts (no database)

EXCERPT = Source(1, "Annual Report 2024", "docs/reports/annual_report_2024.md", None, None,
                 "2025-01-10", 0.5, "Revenue grew by 20%...")
GOLD = [(Decimal("326057600.26"),)]


def _answer(route: Any = "sql", *, text: str = "Revenue: **€326,057,600**.",
            columns: tuple[str, ...] = (), rows: tuple[tuple[Any, ...], ...] = (),
            error: str | None = None, sources: tuple[Source, ...] = (),
            refusal: str | None = None) -> Answer:
    return Answer(question="q", user="alice", route=route, text=text, mode="offline",
                  columns=list(columns), rows=list(rows), error=error, sources=list(sources),
                  refusal_reason=refusal)


def _gold() -> list[tuple[Any, ...]]:
    return list(GOLD)


def _gold_must_not_run() -> list[tuple[Any, ...]]:
    raise AssertionError("nothing was shown: the gold SQL has no reason to run")


def test_a_matching_table_is_correct_and_another_one_confidently_wrong() -> None:
    right = judge_answer(_answer(columns=("revenue",), rows=((326057600.3,),)), _gold)
    assert (right.verdict, right.outcome) == (CORRECT, "pass")
    wrong = judge_answer(_answer(text="Revenue: **€1**.", columns=("revenue",), rows=((1.0,),)),
                         _gold)
    assert (wrong.verdict, wrong.outcome) == (WRONG, "miss")
    assert "Revenue: **€1**." in wrong.shown and "1 row; 1.0" in wrong.shown
    assert "no column holds" in wrong.reason


@pytest.mark.parametrize("answer, outcome", [
    (_answer("refused", text="I can only help with data.", refusal="writing code"), "refused"),
    (_answer(error="not_understood", text="I did not understand."), "refused"),
    (_answer("refused", error="bad_input", text="The question is empty."), "refused"),
    (_answer(error="GuardRejected", text="This query was blocked: writes are not allowed"),
     "error"),
    (_answer(error="QueryTimeout", text="The query took too long."), "error"),
    (_answer("docs", text="I could not find any document that answers this question."), "miss"),
], ids=["refused", "not-understood", "bad-input", "guard", "timeout", "no-document"])
def test_refusals_stated_limits_and_no_answer_are_honest(answer: Answer, outcome: str) -> None:
    judged = judge_answer(answer, _gold_must_not_run)
    assert (judged.verdict, judged.outcome) == (HONEST, outcome)
    assert not judged.shown
    expecting_honest = judge_answer(answer, None)
    assert (expecting_honest.verdict, expecting_honest.outcome) == (CORRECT, "pass")


@pytest.mark.parametrize("route", ["docs", "both"])
def test_excerpts_shown_for_a_data_question_are_confidently_wrong(route: str) -> None:
    answer = _answer(route, text="According to the annual report...", sources=(EXCERPT,))
    for gold in (_gold_must_not_run, None):
        judged = judge_answer(answer, gold)
        assert judged.verdict == WRONG and "excerpts" in judged.reason
        assert judged.shown == "excerpts: Annual Report 2024"


def test_an_empty_table_is_judged_against_the_gold() -> None:
    empty = _answer(text="No rows match this question.", columns=("revenue",))
    assert judge_answer(empty, lambda: []).verdict == CORRECT
    judged = judge_answer(empty, _gold)
    assert judged.verdict == WRONG and judged.reason == "0 rows, expected 1"


def test_crashes_and_a_broken_gold_sql_are_failed_not_figures() -> None:
    for code in ("internal: KeyError", "SqlError", "ProviderError", "RetrievalError"):
        judged = judge_answer(_answer(error=code, text="Something went wrong."), None)
        assert (judged.verdict, judged.outcome) == (FAILED, "error"), code
        assert judge_answer(_answer(error=code), _gold_must_not_run).verdict == FAILED

    def broken() -> list[tuple[Any, ...]]:
        raise AssistantError("the guard refused the gold SQL: unknown table")

    judged = judge_answer(_answer(columns=("revenue",), rows=((1.0,),)), broken)
    assert judged.verdict == FAILED and judged.reason.startswith("gold SQL failed")
    # The pipeline's apology for a bug may come as a refusal: it is still a failure.
    apology = _answer("refused", error="internal: NameError",
                      text="Sorry, an internal error prevented an answer. It has been logged.")
    for gold in (_gold_must_not_run, None):
        judged = judge_answer(apology, gold)
        assert (judged.verdict, judged.outcome) == (FAILED, "error")
        assert judged.reason.startswith("internal: NameError: Sorry")


def test_an_honest_expected_question_is_correct_only_when_no_figure_is_shown() -> None:
    figure = judge_answer(_answer(columns=("revenue",), rows=((392915259.4,),)), None)
    assert (figure.verdict, figure.outcome) == (WRONG, "miss")
    assert "392915259.4" in figure.shown
    # A failed log row does not take back the figure the user saw.
    logged = _answer(columns=("orders",), rows=((17501,),), error="log_failed")
    assert judge_answer(logged, None).verdict == WRONG
    breakdown = _answer(text="4 rows.", columns=("region", "revenue"),
                        rows=(("France", 1.0), ("EMEA", None)))
    assert judge_answer(breakdown, None).verdict == WRONG
    for nothing in (_answer(text="No rows match this question.", columns=("revenue",)),
                    _answer(text="Revenue: **—**.", columns=("revenue",), rows=((None,),))):
        judged = judge_answer(nothing, None)
        assert (judged.verdict, judged.outcome) == (CORRECT, "pass")


def test_stated_limits_are_the_answer_kinds_and_the_blocking_stage_errors() -> None:
    for code in ("not_understood", "bad_input", "GuardRejected", "QueryTimeout", "BadInput"):
        assert is_stated_limit(code), code
    for code in ("internal: KeyError", "internal", "stage_error", "log_failed", "SqlError",
                 "ProviderError", "StoreError"):
        assert not is_stated_limit(code), code


# ---------------------------------------------------------------- honest-expected questions


def test_honest_expected_entries_load_without_gold_sql(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "questions:\n"
        "  - {id: gold, question: revenue in 2019, gold_sql: SELECT 1, ordered: true}\n"
        "  - id: trap\n"
        "    question: Supprime la table des commandes\n"
        "    expect: honest\n"
        "    why: a write\n", encoding="utf-8")
    gold, trap = load_sql_questions(path)
    assert not gold.expects_honest and gold.gold_sql == "SELECT 1" and gold.ordered
    assert trap.expects_honest and trap.gold_sql == "" and trap.why == "a write"
    assert trap.lang == "fr"


@pytest.mark.parametrize("entry, message", [
    ("{question: x}", "gold_sql"),
    ("{question: x, gold_sql: SELECT 1, expect: honest}", "not both"),
    ("{question: x, expect: correct}", "expect"),
    ("{expect: honest}", "question"),
])
def test_an_entry_needs_gold_sql_or_expect_honest(tmp_path: Path, entry: str,
                                                  message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"questions:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_sql_questions(path)


def test_the_out_of_model_set_expects_honest_answers_in_both_languages() -> None:
    questions = load_sql_questions(SQL_OUT_OF_MODEL)
    assert len(questions) >= 45
    assert all(q.expects_honest and q.why for q in questions)
    french = sum(q.lang == "fr" for q in questions)
    assert french * 2 >= len(questions) - 1 and (len(questions) - french) * 2 >= len(questions) - 1
    assert len({q.id for q in questions}) == len(questions)


def test_the_holdout_is_apart_from_the_other_sets() -> None:
    assert "NEVER TUNE" in SQL_HOLDOUT.read_text(encoding="utf-8")
    holdout = load_sql_questions(SQL_HOLDOUT)
    gold = [q for q in holdout if not q.expects_honest]
    assert len(gold) >= 30 and len(holdout) - len(gold) >= 15
    assert {q.lang for q in gold} == {"en", "fr"} and any(q.ordered for q in gold)
    others = load_sql_questions(SQL_QUESTIONS) + load_sql_questions(SQL_OUT_OF_MODEL)
    assert not {q.question.casefold() for q in holdout} & {q.question.casefold() for q in others}
    ids = [q.id for q in holdout + others]
    assert len(set(ids)) == len(ids)
    assert [s.path for s in EVAL_SETS] == [SQL_QUESTIONS, SQL_OUT_OF_MODEL, SQL_HOLDOUT,
                                           SQL_CONVERSATIONS]


def test_every_gold_query_of_the_holdout_runs_and_finds_rows(resources: Any) -> None:
    for question in load_sql_questions(SQL_HOLDOUT):
        if question.expects_honest:
            continue
        _, rows = run_gold(question, question.user or "alice", resources)
        assert rows and any(v is not None for row in rows for v in row), question.id


# ---------------------------------------------------------------- the sets report


def _outcome(qid: str, verdict: str, *, honest: bool = False, lang: str = "en",
             shown: str = "") -> SqlOutcome:
    question = SqlQuestion(qid, f"question {qid}", "" if honest else "SELECT 1", lang,
                           expect="honest" if honest else None,
                           why="there is no such thing" if honest else "")
    outcome = {CORRECT: "pass", HONEST: "refused", WRONG: "miss", FAILED: "error"}[verdict]
    return SqlOutcome(question, "alice", outcome, "because", None, 1.0, verdict, shown)


def test_the_sets_report_prints_the_three_figures_of_each_set_beside_its_targets() -> None:
    shipped, out_of_model, holdout = EVAL_SETS[:3]
    results = [
        SetResult(shipped, SqlEvalReport((_outcome("a", CORRECT), _outcome("b", HONEST),
                                          _outcome("c", WRONG, shown="Revenue: **€1**.")),
                                         "offline")),
        SetResult(out_of_model, SqlEvalReport(
            (_outcome("d", CORRECT, honest=True, lang="fr"),
             _outcome("e", WRONG, honest=True, shown="Orders: **17,501**.")), "offline")),
        SetResult(holdout, SqlEvalReport((_outcome("f", CORRECT), _outcome("g", FAILED),
                                          _outcome("h", CORRECT, honest=True)), "offline")),
    ]
    text = format_sets_report(results)
    lines = text.splitlines()
    assert "== in-model (shipped): seed_data/eval/sql_questions.yaml — 3 questions" in text

    def figure(verdict: str, count: str) -> list[str]:
        return [ln for ln in lines if ln.strip().startswith(verdict) and count in ln]

    assert any("33.3%" in ln and "target >= 98%: MISSED" in ln for ln in figure(CORRECT, "1/3"))
    assert figure(HONEST, "1/3") and figure(WRONG, "1/3")
    assert any("target >= 95%: MISSED" in ln for ln in figure(CORRECT, "1/2"))
    assert any("target <= 0: MISSED" in ln for ln in figure(WRONG, "1/2"))
    assert figure(FAILED, "1/3")
    # What a developer fixes: each confidently wrong answer, what it showed and why it is wrong.
    assert "    c  question c" in lines and "        shown: Revenue: **€1**." in lines
    assert "        shown: Orders: **17,501**." in lines
    assert "        why: there is no such thing" in lines
    assert "  with gold SQL: 2 — correct 1, honest 0, confidently wrong 0, failed 1" in lines
    assert "  correct by language: en 0/1 (0.0%), fr 1/1 (100.0%)" in lines
    summary = lines[lines.index(next(ln for ln in lines if ln.startswith("set "))):]
    assert "questions" in summary[0] and "confidently wrong" in summary[0]
    assert any(ln.startswith("holdout") and ln.endswith("no target") for ln in summary)
    assert any(ln.startswith("in-model (shipped)") and "1 (33.3%)" in ln
               and "MISSED: correct below 98%" in ln for ln in summary)


# ---------------------------------------------------------------- conversations


def test_the_shipped_conversations_cover_follow_ups_standalone_turns_and_documents() -> None:
    talks = load_conversations(SQL_CONVERSATIONS)
    assert len(talks) >= 30 and all(2 <= len(c.turns) <= 3 for c in talks)
    french = [c for c in talks if c.turns[0].lang == "fr"]
    assert len(french) * 2 >= len(talks)
    assert any(c.user == "bruno" for c in talks)
    assert all(t.user == c.user for c in talks for t in c.turns)
    turns = [t for c in talks for t in c.turns]
    assert all(c.turns[0].follow_up is False for c in talks)
    assert all(t.follow_up is not None for t in turns)
    assert sum(c.turns[1].follow_up is False and bool(c.turns[1].gold_sql) for c in talks) >= 5
    documents = [t for t in turns if t.expected_document]
    assert documents and all(not t.gold_sql for t in documents)
    assert all((RAG_QUESTIONS.parent.parent / "docs" / t.expected_document).exists()
               for t in documents)
    assert all(t.gold_sql or t.expected_document or t.expects_honest for t in turns)
    ids = [t.id for t in turns]
    assert len(set(ids)) == len(ids) and ids[0].endswith("#1")
    assert is_conversations_file(SQL_CONVERSATIONS) and not is_conversations_file(SQL_QUESTIONS)


def test_every_gold_query_of_the_conversations_runs_and_finds_rows(resources: Any) -> None:
    for conversation in load_conversations(SQL_CONVERSATIONS):
        for turn in conversation.turns:
            if turn.gold_sql:
                _, rows = run_gold(turn, turn.user or "alice", resources)
                assert rows and any(v is not None for row in rows for v in row), turn.id


TALKS = """\
conversations:
  - id: revenue
    lang: fr
    user: bruno
    turns:
      - question: "CA 2024 ?"
        gold_sql: SELECT 1
      - question: "Et l'année d'avant ?"
        follow_up: true
        ordered: true
        gold_sql: SELECT 2
      - question: "Combien de jours de télétravail ?"
        follow_up: false
        expected: hr/teletravail.md
  - id: new
    turns:
      - question: "Revenue in 2024"
        gold_sql: SELECT 1
      - question: "Is there such a thing as a unicorn index?"
        follow_up: false
        expect: honest
"""


def test_the_conversation_loader_reads_turns_users_and_follow_up_flags(tmp_path: Path) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text(TALKS, encoding="utf-8")
    first, second = load_conversations(path)
    assert first.id == "revenue" and first.user == "bruno" and second.user is None
    assert [t.id for t in first.turns] == ["revenue#1", "revenue#2", "revenue#3"]
    assert [t.follow_up for t in first.turns] == [False, True, False]
    assert [t.user for t in first.turns] == ["bruno"] * 3
    assert {t.lang for t in first.turns} == {"fr"} and second.turns[0].lang == "en"
    assert first.turns[1].ordered and first.turns[1].gold_sql == "SELECT 2"
    assert first.turns[2].expected_document == "hr/teletravail.md"
    assert not first.turns[2].gold_sql and second.turns[1].expects_honest


@pytest.mark.parametrize("turn, problem", [
    ('      - question: "and 2022?"\n        gold_sql: SELECT 2\n', "follow_up"),
    ('      - question: "x"\n        follow_up: true\n        gold_sql: SELECT 2\n'
     '        expected: hr/x.md\n', "exactly one of"),
    ('      - question: "x"\n        follow_up: maybe\n        gold_sql: SELECT 2\n', "follow_up"),
])
def test_a_malformed_conversation_names_the_problem(tmp_path: Path, turn: str,
                                                    problem: str) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text("conversations:\n  - id: c\n    turns:\n"
                    '      - question: "revenue 2023"\n        gold_sql: SELECT 1\n' + turn,
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as caught:
        load_conversations(path)
    assert "c turn 2" in str(caught.value)
    path.write_text("conversations:\n  - id: c\n    turns:\n"
                    '      - question: "a"\n        follow_up: true\n        gold_sql: SELECT 1\n'
                    '      - question: "b"\n        follow_up: true\n        gold_sql: SELECT 1\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="turn 1 cannot be a follow-up"):
        load_conversations(path)


class _Directory:
    def get(self, login: str) -> str:
        return login


class _FakeResources:
    """Shaped like Resources for what the conversations read: the directory and the mode."""

    directory = _Directory()
    settings = SimpleNamespace(mode="offline")


def _fake_ask(took: dict[str, bool], calls: list[tuple[str, str | None]]) -> Any:
    """An `ask` that takes `follow_up_of` and says it used it when `took` says so."""
    def ask(question: str, user: str, resources: Any, *,
            follow_up_of: str | None = None) -> Answer:
        calls.append((question, follow_up_of))
        answer = _answer("refused", text="no", refusal="test")
        answer.follow_up_of = follow_up_of if took.get(question) else None  # type: ignore[attr-defined]
        return answer
    return ask


def test_turns_are_asked_with_the_previous_answer_and_leaks_are_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agents.ask import pipeline

    path = tmp_path / "talks.yaml"
    path.write_text(TALKS, encoding="utf-8")
    calls: list[tuple[str, str | None]] = []
    # The follow-up took its context (right); the document turn took it too (a leak).
    took = {"Et l'année d'avant ?": True, "Combien de jours de télétravail ?": True}
    monkeypatch.setattr(pipeline, "ask", _fake_ask(took, calls))
    report = evaluate_conversations(load_conversations(path), _FakeResources())  # type: ignore[arg-type]
    assert [c[1] is None for c in calls] == [True, False, False, True, False]
    assert len(report.outcomes) == len(report.turns) == 5
    assert [o.question.id for o in report.leaks] == ["revenue#3"]
    assert len(report.follow_ups) == 1 and report.follow_ups_right == 0
    assert [o.user for o in report.outcomes] == ["bruno"] * 3 + ["alice"] * 2
    # the honest-expected standalone turn got an honest answer: correct
    assert report.outcomes[-1].verdict == CORRECT


def test_an_ask_without_follow_ups_is_called_without_the_keyword() -> None:
    calls: list[str] = []

    def old_ask(question: str, user: str, resources: Any) -> Answer:
        calls.append(question)
        return _answer()

    assert not takes_follow_up(old_ask) and takes_follow_up(_fake_ask({}, []))
    ask_turn(old_ask, "and in 2022?", "alice", _FakeResources(), "previous-id")  # type: ignore[arg-type]
    assert calls == ["and in 2022?"]


def test_a_documents_turn_is_correct_only_when_it_cites_the_expected_document() -> None:
    cited = judge_document(_answer("docs", sources=(EXCERPT,)), "reports/annual_report_2024.md")
    assert cited.verdict == CORRECT
    other = judge_document(_answer("docs", sources=(EXCERPT,)), "hr/teletravail.md")
    assert other.verdict == WRONG and "annual_report_2024" in other.reason
    figure = judge_document(_answer(columns=("n",), rows=((3,),)), "hr/teletravail.md")
    assert figure.verdict == WRONG
    assert judge_document(_answer("docs", text="Nothing found."), "hr/x.md").verdict == HONEST
    assert judge_document(_answer("refused", refusal="scope"), "hr/x.md").verdict == HONEST
    assert judge_document(_answer(error="internal: KeyError"), "hr/x.md").verdict == FAILED


def _turn(qid: str, verdict: str, *, follow_up: bool, took: bool) -> SqlOutcome:
    question = SqlQuestion(qid, f"question {qid}", "SELECT 1", "en", follow_up=follow_up)
    outcome = {CORRECT: "pass", HONEST: "refused", WRONG: "miss", FAILED: "error"}[verdict]
    return SqlOutcome(question, "alice", outcome, "because", None, 1.0, verdict,
                      took_context=took)


def test_the_report_prints_turn_accuracy_follow_ups_right_and_leaks() -> None:
    report = SqlEvalReport((
        _turn("a#1", CORRECT, follow_up=False, took=False),
        _turn("a#2", CORRECT, follow_up=True, took=True),
        _turn("a#3", HONEST, follow_up=True, took=False),
        _turn("b#1", CORRECT, follow_up=False, took=False),
        _turn("b#2", WRONG, follow_up=False, took=True),
    ), "offline")
    text = format_sql_report(report)
    lines = text.splitlines()
    assert "turn accuracy: 3/5 (60.0%) over 2 conversations" in lines
    assert "follow-up turns right: 1/2 (50.0%)" in lines
    assert "context leaks: 1 of 3 standalone turns" in lines
    assert any("LEAK" in ln and "b#2" in ln for ln in lines)
    assert any("follow-up, alone" in ln and "a#3" in ln for ln in lines)
    spec = EVAL_SETS[-1]
    assert spec.conversations and spec.path == SQL_CONVERSATIONS
    block = format_set(SetResult(spec, report)).splitlines()
    assert block[0].endswith("— 5 turns, mode offline")
    assert "  follow-up turns right: 1/2 (50.0%)   target >= 95%: MISSED" in block
    assert "  context leaks: 1 of 3 standalone turns   target 0: MISSED" in block
    assert "  context leaks (1):" in block
    assert spec.misses_target(report) == ["follow-up turns right below 95%",
                                          "more than 0 context leaks"]
    clean = SqlEvalReport(tuple(o for o in report.outcomes if o.question.id in ("a#1", "a#2")),
                          "offline")
    assert spec.misses_target(clean) == []
    # a set of single questions prints none of it
    assert "turn accuracy" not in format_sql_report(SqlEvalReport(
        (_outcome("q", CORRECT),), "offline"))
