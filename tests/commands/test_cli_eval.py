"""`sourced eval sql|rag` as a user runs it: a table per question, the summary, exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


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
