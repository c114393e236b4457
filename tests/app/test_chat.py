"""The chat says what it understood: above a data answer's table, and in the honest answer to a
question it could not place, whose close questions are buttons that ask them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agents.ask import pipeline
from agents.sql.planner import Plan, PlanningContext
from tests.app.test_app import _ask

APP = str(Path(__file__).resolve().parents[2] / "app.py")
UNKNOWN = "churned"


def test_a_data_answer_shows_what_it_understood_above_its_table(resources: Any) -> None:
    at = _ask("What was total revenue in 2018?")
    understood = [c.value for c in at.caption if c.value.startswith("Understood as: ")]
    assert len(understood) == 1 and "2018" in understood[0], [c.value for c in at.caption]
    assert len(at.dataframe) == 1


def test_a_french_data_answer_says_it_in_french(resources: Any) -> None:
    at = _ask("Combien de clients actifs en 2017 ?")
    assert any(c.value.startswith("Compris comme : ") and "2017" in c.value for c in at.caption)


def test_the_honest_answer_highlights_the_word_and_its_suggestions_ask_when_clicked(
    resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.plan_question

    def planner(question: str, ctx: PlanningContext) -> Plan:
        plan = real(question, ctx)
        if UNKNOWN not in question:
            return plan
        return replace(plan, confident=False, sql=None, not_understood=(UNKNOWN,))

    monkeypatch.setattr(pipeline, "plan_question", planner)

    at = _ask(f"How many {UNKNOWN} customers in 2021?")

    assert not at.dataframe
    assert any(f"I don't know what “{UNKNOWN}” means" in m.value for m in at.markdown)
    assert any(m.value.startswith("Not understood: ") and f"[{UNKNOWN}]" in m.value
               and "background" in m.value for m in at.markdown)
    sidebar = {b.label for b in at.sidebar.button}
    offered = [b for b in at.main.button if b.label not in sidebar
               and (b.key or "").startswith("sug-")]
    assert 2 <= len(offered) <= 3
    # Shown as buttons, not a second time as a list in the text.
    assert not any(f"- {offered[0].label}" in m.value for m in at.markdown)

    chosen = offered[0].label
    offered[0].click().run()

    assert not at.exception
    assert any(m.value == chosen for m in at.markdown)  # asked as the user's question
    assert len(at.dataframe) == 1
    assert any(c.value.startswith("Understood as: ") for c in at.caption)


# Follow-up questions (issue 14): each new question is asked with the last answer shown as its
# context, until "New topic"; the pipeline decides whether it uses it.
FOLLOW_UP = "and in 2022?"
FOLLOWS = "↪ follow-up of your previous question"
NEW_TOPIC = "— New topic: the next question is asked on its own —"


def _say(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def _answer_ids(at: AppTest) -> list[str]:
    return [turn.answer.answer_id for turn in at.session_state["history"]]


def test_each_question_is_asked_with_the_last_answer_as_context_until_a_new_topic(
    resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the page passes to `ask`, whatever the pipeline makes of it."""
    from agents.ask import stream

    real = pipeline.ask
    asked: list[dict[str, Any]] = []

    def recording(question: object, user: Any, res: Any, *, follow_up_of: str | None = None,
                  **options: Any) -> Any:
        asked.append({"question": question, "follow_up_of": follow_up_of, **options})
        return real(question, user, res, follow_up_of=follow_up_of, **options)

    monkeypatch.setattr(pipeline, "ask", recording)
    monkeypatch.setattr(stream, "ask", recording)

    at = _ask("Revenue by region in 2023")
    assert asked[-1]["follow_up_of"] is None  # the first question has no context
    _say(at, FOLLOW_UP)
    first, second = _answer_ids(at)
    assert asked[-1]["follow_up_of"] == first

    at.button(key=f"again-{second}").click().run()  # offline: rephrase, not regenerate
    assert not at.exception
    assert asked[-1]["follow_up_of"] == first and len(asked) == 2

    new_topic = at.sidebar.button(key="new-topic")
    assert new_topic.label == "New topic"
    new_topic.click().run()
    assert any(c.value == NEW_TOPIC for c in at.caption)
    assert len(at.chat_message) == 5  # the visible history is kept (and the rephrase offer)
    _say(at, FOLLOW_UP)
    assert asked[-1]["follow_up_of"] is None
    assert any(c.value == NEW_TOPIC for c in at.caption)  # still marks where the topic began

    next(b for b in at.sidebar.button if (b.key or "").startswith("ex-")).click().run()
    assert not at.exception
    assert asked[-1]["follow_up_of"] == _answer_ids(at)[-2]  # an example follows up too


def test_a_follow_up_question_is_answered_in_context_until_a_new_topic(resources: Any) -> None:
    at = _ask("Revenue by region in 2023")
    _say(at, FOLLOW_UP)

    answer = at.chat_message[-1]
    assert len(answer.dataframe) == 1
    understood = [c.value for c in answer.caption if c.value.startswith("Understood as: ")]
    assert len(understood) == 1, [c.value for c in answer.caption]
    assert "2022" in understood[0] and "following your previous question" in understood[0]
    assert any(c.value == FOLLOWS for c in answer.caption)

    at.sidebar.button(key="new-topic").click().run()
    _say(at, FOLLOW_UP)

    answer = at.chat_message[-1]
    assert not any(c.value == FOLLOWS for c in answer.caption)
    assert not any("following your previous question" in c.value for c in answer.caption)
    assert sum(c.value == FOLLOWS for c in at.caption) == 1  # the earlier follow-up keeps its own
