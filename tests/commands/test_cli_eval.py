"""`sourced eval sql|rag` as a user runs it: a table per question, the summary, exit 0; with no
`--questions`, the SQL sets (the conversations too), each with its correct / honest / confidently
wrong figures; a conversations file is asked turn by turn."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def sourced(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agents.commands.cli", *args], capture_output=True, text=True,
        env=os.environ.copy(), timeout=300,
    )


def test_eval_sql_prints_each_outcome_and_the_accuracy(resources: Any, tmp_path: Path) -> None:
    questions = tmp_path / "sql.yaml"
    questions.write_text(
        "questions:\n"
        "  - id: orders-2018\n"
        "    question: Combien de commandes en 2018 ?\n"
        "    lang: fr\n"
        "    gold_sql: SELECT count(*) FROM warehouse.orders WHERE status = 'completed'"
        " AND order_date >= '2018-01-01' AND order_date < '2019-01-01'\n"
        "  - id: scoped-regions\n"
        "    question: revenue by region in 2019\n"
        "    lang: en\n"
        "    user: bruno\n"
        "    gold_sql: SELECT 'EMEA', 1.0\n",
        encoding="utf-8",
    )
    done = sourced("eval", "sql", "--questions", str(questions))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("pass") and "orders-2018" in line for line in lines)
    # bruno sees EMEA only, but the gold's number is wrong: a miss, with the reason shown.
    assert any(line.startswith("miss") and "scoped-regions" in line and "bruno" in line
               and "no column holds" in line for line in lines)
    assert "Execution accuracy: 1/2 (50.0%)" in done.stdout
    assert "fr 1/1 (100.0%)" in done.stdout and "mode offline" in done.stdout


def test_eval_rag_prints_ranks_hits_and_the_leak_check(resources: Any, tmp_path: Path) -> None:
    questions = tmp_path / "rag.yaml"
    questions.write_text(
        "questions:\n"
        "  - question: Combien de jours de télétravail par semaine ai-je le droit de prendre ?\n"
        "    expected: hr/teletravail.md\n"
        "    lang: fr\n"
        "restricted:\n"
        "  - question: How much are we paying to acquire Nordlys Data?\n"
        "    expected: board/project_heron_memo.md\n"
        "    groups: [exec]\n",
        encoding="utf-8",
    )
    done = sourced("eval", "rag", "--questions", str(questions), "--user", "emma")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert any(r.startswith("1 ") and "hr/teletravail.md" in r for r in rows)
    assert any(r.startswith("hidden") and "project_heron_memo" in r for r in rows)
    assert "hit@1 1.000  hit@5 1.000" in done.stdout and "(user emma)" in done.stdout
    assert "1 checked, 0 leaked" in done.stdout


def test_eval_refuses_an_unknown_user_or_file_with_exit_2(resources: Any) -> None:
    unknown = sourced("eval", "sql", "--user", "mallory")
    assert unknown.returncode == 2 and "Unknown user" in unknown.stderr
    missing = sourced("eval", "rag", "--questions", "/nonexistent/rag.yaml")
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    for done in (unknown, missing):
        assert "Traceback" not in done.stderr and done.stdout == ""


def test_eval_sql_judges_questions_that_expect_an_honest_answer(resources: Any,
                                                               tmp_path: Path) -> None:
    questions = tmp_path / "honest.yaml"
    questions.write_text(
        "questions:\n"
        "  - id: joke\n"
        "    question: Tell me a joke about accountants\n"
        "    expect: honest\n"
        "    why: entertainment\n"
        # Not out of the model at all: marked honest here to see a figure judged wrong.
        "  - id: figure\n"
        "    question: How many orders did we get in 2018?\n"
        "    expect: honest\n",
        encoding="utf-8",
    )
    done = sourced("eval", "sql", "--questions", str(questions))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("pass") and "correct" in line and "joke" in line
               for line in lines)
    assert any(line.startswith("miss") and "confidently wrong" in line and "figure" in line
               for line in lines)
    assert ("Verdicts: correct 1 (50.0%), honest 0 (0.0%), confidently wrong 1 (50.0%),"
            " failed 0 (0.0%)") in done.stdout


def test_eval_sql_without_a_file_reports_the_three_sets(resources: Any) -> None:
    from agents.commands.evaluation import EVAL_SETS, load_conversations, load_sql_questions

    done = sourced("eval", "sql")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    for spec in EVAL_SETS:
        total = (sum(len(c.turns) for c in load_conversations(spec.path)) if spec.conversations
                 else len(load_sql_questions(spec.path)))
        start = next(i for i, ln in enumerate(lines) if ln.startswith(f"== {spec.name}: "))
        block = lines[start:]
        for verdict in ("correct", "honest", "confidently wrong", "failed"):
            assert any(ln.strip().startswith(verdict) and f"/{total}" in ln and "%" in ln
                       for ln in block[:8]), (spec.name, verdict)
    assert "target >= 98%" in done.stdout  # the in-model set
    assert "target >= 95%" in done.stdout and "target <= 0" in done.stdout  # out-of-model
    header = next(ln for ln in lines if ln.startswith("set "))
    assert all(word in header for word in ("correct", "honest", "confidently wrong", "targets"))
    summary = lines[lines.index(header) + 2:]
    # The shipped sets, then each sample warehouse (its model drafted from its catalog).
    from agents.commands.evaluation.samples import samples

    expected = [s.name for s in EVAL_SETS]
    for sample in samples():
        expected.append(f"sample warehouse {sample.name} (drafted model)")
        if sample.holdout is not None:
            expected.append(f"sample warehouse {sample.name}, holdout")
    assert [ln.split("  ")[0] for ln in summary] == expected
    # The conversations: turn accuracy, follow-up turns right and leaks, beside their targets.
    assert any(ln.startswith("  turn accuracy: ") for ln in lines)
    assert any(ln.startswith("  follow-up turns right: ") and "target >= 95%" in ln
               for ln in lines)
    assert any(ln.startswith("  context leaks: ") and "target 0" in ln for ln in lines)


def test_eval_sql_asks_a_conversations_file_turn_by_turn(resources: Any, tmp_path: Path) -> None:
    talks = tmp_path / "talks.yaml"
    talks.write_text(
        "conversations:\n"
        "  - id: orders-then-tickets\n"
        "    lang: fr\n"
        "    turns:\n"
        "      - question: Combien de commandes en 2018 ?\n"
        "        gold_sql: SELECT count(*) FROM warehouse.orders WHERE status = 'completed'"
        " AND order_date >= '2018-01-01' AND order_date < '2019-01-01'\n"
        "      - question: Combien de jours de télétravail par semaine ai-je le droit"
        " de prendre ?\n"
        "        follow_up: false\n"
        "        expected: hr/teletravail.md\n",
        encoding="utf-8",
    )
    done = sourced("eval", "sql", "--questions", str(talks))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any("orders-then-tickets#1" in ln and "standalone" in ln for ln in lines)
    assert any(ln.startswith("pass") and "orders-then-tickets#2" in ln for ln in lines)
    assert "turn accuracy: 2/2 (100.0%) over 1 conversations" in done.stdout
    assert "follow-up turns right: 0/0 (-)" in done.stdout
    assert "context leaks: 0 of 2 standalone turns" in done.stdout


@pytest.mark.parametrize("verdict, code", [("confidently wrong", 0), ("failed", 1)])
def test_the_three_sets_exit_0_whatever_the_figures_and_1_when_a_question_crashed(
        settings_env: Any, monkeypatch: pytest.MonkeyPatch, verdict: str, code: int) -> None:
    from agents import resources as resources_module
    from agents.commands import cli, evaluation
    from agents.config import load_settings

    class Closed:
        def close(self) -> None:
            pass

    question = evaluation.SqlQuestion("q", "revenue 2024", "SELECT 1", "en")
    outcome = evaluation.SqlOutcome(question, "alice", "error", "internal: KeyError",
                                    verdict=verdict)
    report = evaluation.SqlEvalReport((outcome,), "offline")
    monkeypatch.setattr(resources_module, "build_resources", lambda *a, **k: Closed())
    monkeypatch.setattr(evaluation, "evaluate_sets",
                        lambda *a, **k: tuple(evaluation.SetResult(s, report)
                                              for s in evaluation.EVAL_SETS))
    from agents.commands.evaluation import samples

    monkeypatch.setattr(samples, "evaluate_samples", lambda *a, **k: ())
    # _eval rather than main: main sets up this process's logging, which other tests rely on.
    args = argparse.Namespace(what="sql", questions=None, user=None)
    assert cli._eval(load_settings(), args) == code
