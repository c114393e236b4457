"""The offline planner: what it understands in English and French, and the numbers it gets.

The cases are data, one file per theme in tests/sql/planner/: each row is a question and what
its plan must show; a row checks only the fields it lists (see `EXPECTATIONS`).
"""

from __future__ import annotations

import ast
import re
import time
import tokenize
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from agents.sql.planner import Plan, PlanningContext, plan_question
from agents.sql.planner.coverage import MAX_ECHO
from agents.sql.semantic_model import load_semantic_model

MODEL = load_semantic_model(Path(__file__).resolve().parents[2] / "seed_data" /
                            "semantic_model.yaml")
CTX = PlanningContext(MODEL, date(2025, 12, 31), date(2017, 1, 1))
CASES_DIR = Path(__file__).resolve().parent / "planner"
THEMES = ("periods", "metrics", "values", "ranking", "problems", "words", "limits", "entities")


def _cases(theme: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(
        (CASES_DIR / f"{theme}.yaml").read_text(encoding="utf-8"))["cases"]
    return cases


def _params(themes: tuple[str, ...]) -> list[Any]:
    return [pytest.param(case, id=f"{theme}: {case['question']}")
            for theme in themes for case in _cases(theme)]


# ---------------------------------------------------------------- expectations, by row field


def _confident(plan: Plan, want: bool) -> None:
    if want:
        assert plan.confident, plan.problem
        assert plan.sql and plan.explanation
    else:
        assert not plan.confident and plan.sql is None


def _period(plan: Plan, want: list[str]) -> None:
    assert plan.period is not None
    assert [plan.period.start.isoformat(), plan.period.end.isoformat()] == want


def _comparison(plan: Plan, want: list[str]) -> None:
    assert plan.comparison is not None
    assert [plan.comparison[0].label, plan.comparison[1].label] == want


def _ranking(plan: Plan, want: list[Any]) -> None:
    limit, descending = want
    assert plan.ranking is not None
    assert (plan.ranking.limit, plan.ranking.descending) == (limit, descending)
    assert plan.sql is not None and f"LIMIT {limit}" in plan.sql


def _sql_contains(plan: Plan, want: list[str]) -> None:
    assert plan.sql is not None
    for text in want:
        assert text in plan.sql


def _sql_lacks(plan: Plan, want: list[str]) -> None:
    assert plan.sql is not None
    for text in want:
        assert text not in plan.sql.upper()


def _explanation_contains(plan: Plan, want: list[str]) -> None:
    for text in want:
        assert text in plan.explanation


EXPECTATIONS: dict[str, Callable[[Plan, Any], None]] = {
    "confident": _confident,
    "metrics": lambda plan, want: _equal(plan.metrics, tuple(want)),
    "dimensions": lambda plan, want: _equal(plan.dimensions, tuple(want)),
    "filters": lambda plan, want: _equal(dict(plan.filters),
                                         {k: tuple(v) for k, v in want.items()}),
    "period": _period,
    "comparison": _comparison,
    "ranking": _ranking,
    "share": lambda plan, want: _equal(plan.share, want),
    "problem": lambda plan, want: _equal(want in (plan.problem or "").lower(), True),
    "sql_contains": _sql_contains,
    "sql_lacks": _sql_lacks,
    "explanation_contains": _explanation_contains,
    "not_understood": lambda plan, want: _equal(plan.not_understood, tuple(want)),
    "understood_as": lambda plan, want: _equal(plan.understood_as, want),
    "corrections": lambda plan, want: _equal(plan.corrections, tuple(tuple(c) for c in want)),
}


def _equal(got: object, want: object) -> None:
    assert got == want


@pytest.mark.parametrize("case", _params(THEMES))
def test_reads_the_question(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    # Product and sales rep names come from the warehouse: those rows need the resources.
    ctx = request.getfixturevalue("resources").planning if case.get("warehouse") else CTX
    plan = plan_question(case["question"], ctx)
    checked = [key for key in case if key in EXPECTATIONS]
    assert checked, "a case must check something"
    for key in checked:
        EXPECTATIONS[key](plan, case[key])


def test_every_case_field_is_known() -> None:
    for theme in THEMES:
        for case in _cases(theme):
            assert set(case) <= {"question", "warehouse", *EXPECTATIONS}, case


# ---------------------------------------------------------------- the numbers


@pytest.mark.parametrize("case", _params(("gold_sql",)))
def test_numbers_match_gold_sql(resources: Any, case: dict[str, Any]) -> None:
    plan = plan_question(case["question"], resources.planning)
    assert plan.sql is not None
    with psycopg.connect(resources.urls.app) as conn:
        got = sorted(tuple(_round(v) for v in row) for row in conn.execute(plan.sql))
        want = sorted(tuple(_round(v) for v in row) for row in conn.execute(case["gold"]))
    assert got == want


def _round(value: Any) -> Any:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return value


# ---------------------------------------------------------------- the vocabulary


def test_vocabulary_is_one_deterministic_trie() -> None:
    again = PlanningContext(MODEL, date(2025, 12, 31)).vocabulary
    assert again.trie == CTX.vocabulary.trie
    assert again.entries["france"][0] == ("value", "region", "France")
    assert len(CTX.vocabulary.phrases) >= len(CTX.vocabulary.entries)


# ---------------------------------------------------------------- nothing of the demo in the code

PLANNER_DIR = Path(__file__).resolve().parents[2] / "agents" / "sql" / "planner"


def _model_names() -> tuple[set[str], set[str]]:
    """The model's keys (as string literals) and its value strings and prefixes (as words)."""
    keys = {*MODEL.metrics, *(k for k, d in MODEL.dimensions.items() if not d.is_time),
            *MODEL.sources}
    names = {v for d in MODEL.dimensions.values() for v in d.values}
    names |= {d.strip_prefix.strip() for d in MODEL.dimensions.values() if d.strip_prefix}
    return keys, names


def _literal(token: str) -> str:
    try:
        return str(ast.literal_eval(token))
    except ValueError:  # an f-string: its text is enough to compare with a key
        return token.lstrip("rRbBfF").strip("\"'")


def _code(path: Path) -> tuple[list[str], str]:
    """The file's string literals (docstrings left out) and its text without comments."""
    strings, kept = [], []
    previous = tokenize.NEWLINE
    with path.open("rb") as f:
        for token in tokenize.tokenize(f.readline):
            if token.type == tokenize.COMMENT:
                continue
            docstring = token.type == tokenize.STRING and previous in (
                tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
            if token.type == tokenize.STRING and not docstring:
                strings.append(_literal(token.string))
            if not docstring:
                kept.append(token.string)
            if token.type not in (tokenize.NL, tokenize.COMMENT):
                previous = token.type
    return strings, " ".join(kept)


def test_the_planner_code_names_nothing_of_the_model() -> None:
    # The model's metric, dimension and source keys, its values and prefixes, and the data's
    # years: none in the planner's code (comments and docstrings may give examples).
    keys, names = _model_names()
    for path in PLANNER_DIR.glob("*.py"):
        strings, code = _code(path)
        assert not keys & set(strings), (path.name, keys & set(strings))
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", code), (path.name, name)
        assert not re.search(r"\b(?:19|20)[0-9]{2}\b", code), path.name


def test_not_understood_never_echoes_more_than_its_limit() -> None:
    plan = plan_question("revenue " + " ".join(f"zorglub{i}" for i in range(80)), CTX)
    assert not plan.confident and plan.not_understood
    assert sum(len(w) for w in plan.not_understood) <= MAX_ECHO
    assert len(plan.problem or "") < 2 * MAX_ECHO + 200


def test_planning_stays_fast() -> None:
    questions = [case["question"] for theme in THEMES for case in _cases(theme)]
    took = []
    for question in questions * 3:
        start = time.perf_counter()
        plan_question(question, CTX)
        took.append(time.perf_counter() - start)
    assert sorted(took)[len(took) // 2] < 0.005


@pytest.mark.parametrize(("text", "taken", "phrases"), [
    # the longest phrase at a word wins, then the scan goes on after it
    ("gross margin % by region", (), ["gross margin %", "region"]),
    ("gross margin by region", (), ["gross margin", "region"]),
    # "%" glued to a word is not the phrase's "%"
    ("gross margin %s", (), ["gross margin"]),
    # a masked span between two words breaks a phrase
    ("gross      margin", ((6, 10),), ["margin"]),
    ("chiffre d affaires par region", (), ["chiffre d affaires", "region"]),
])
def test_phrases_are_found_leftmost_longest(text: str, taken: tuple[tuple[int, int], ...],
                                            phrases: list[str]) -> None:
    from agents.sql.planner.vocabulary import find_phrases

    found = find_phrases(text, text, CTX.vocabulary, taken)
    assert [m.phrase for m in found] == phrases
    assert all(text[m.start:m.end].replace("-", " ") == m.phrase for m in found)
