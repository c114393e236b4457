"""Follow-up questions: read against the conversation's previous questions, or standing alone.

The cases are data (tests/sql/planner/followups.yaml); a row checks only the fields it lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.sql.planner import Plan, looks_like_follow_up, plan_follow_up
from tests.sql.test_planner import CTX, EXPECTATIONS

CASES = yaml.safe_load((Path(__file__).resolve().parent / "planner" / "followups.yaml")
                       .read_text(encoding="utf-8"))["cases"]


def _period(plan: Plan, want: str) -> None:
    assert plan.period is not None and plan.period.label == want


CHECKS = {**EXPECTATIONS, "period": _period}
FOLLOW_UPS = [c for c in CASES if "history" in c and not c.get("standalone")]


def _params(cases: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(c, id=f"{' / '.join(c.get('history', []))} -> {c['question']}")
            for c in cases]


@pytest.mark.parametrize("case", _params(FOLLOW_UPS))
def test_reads_the_follow_up(case: dict[str, Any]) -> None:
    first_row = case.get("leader")
    plan = plan_follow_up(case["question"], case["history"], CTX,
                          None if first_row is None else first_row.get)
    assert plan is not None
    checked = [key for key in case if key in CHECKS]
    assert checked, "a case must check something"
    for key in checked:
        CHECKS[key](plan, case[key])
    suffix = "question précédente" if plan.lang == "fr" else "your previous question"
    assert plan.understood_as.endswith(suffix)


@pytest.mark.parametrize("case", _params([c for c in CASES if c.get("standalone")]))
def test_a_question_of_its_own_takes_nothing_of_the_conversation(case: dict[str, Any]) -> None:
    assert plan_follow_up(case["question"], case["history"], CTX) is None


@pytest.mark.parametrize("case", _params([c for c in CASES if "looks_like" in c]))
def test_looks_like_a_follow_up(case: dict[str, Any]) -> None:
    assert looks_like_follow_up(case["question"]) is case["looks_like"]


def test_every_case_field_is_known() -> None:
    for case in CASES:
        assert set(case) <= {"history", "question", "standalone", "looks_like", "leader",
                             *CHECKS}, case


def test_enough_cases() -> None:
    standalone = [c for c in CASES if c.get("standalone")]
    assert len(FOLLOW_UPS) >= 24 and len(standalone) >= 6
