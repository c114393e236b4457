"""Follow-up questions through `ask(..., follow_up_of=...)`: the planner's follow-up plan, the
documents' follow-up, the model's rewrite, and an earlier answer that is not the asker's."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from agents.ask import followup, pipeline
from tests.fake_openai import system_text, user_text

REVENUE_SQL = (
    "SELECT sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FROM warehouse.orders o"
    " JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " JOIN warehouse.customers c ON c.customer_id = o.customer_id"
    " WHERE o.status = 'completed' AND o.order_date >= %s AND o.order_date < %s"
)
UNKNOWN = {"en": "I can't find that earlier answer.",
           "fr": "Je ne trouve pas cette réponse précédente."}


def revenue(conn: psycopg.Connection, year: int, region: str | None = None) -> float:
    where = " AND c.region = %s" if region else ""
    args: tuple[Any, ...] = (f"{year}-01-01", f"{year + 1}-01-01") + ((region,) if region else ())
    value = conn.execute(REVENUE_SQL + where, args).fetchone()[0]
    return float(value)


def close(a: Any, b: float) -> bool:
    return abs(float(a) - b) <= 0.005 * max(abs(b), 1)


def logged(conn: psycopg.Connection, answer_id: str) -> tuple[Any, ...]:
    row = conn.execute("SELECT follow_up_of::text, standalone_question, question"
                       " FROM app.query_log WHERE answer_id = %s", (answer_id,)).fetchone()
    assert row is not None
    return tuple(row)


def asks_to_rewrite(request: dict[str, Any]) -> bool:
    return "rewrite a follow-up question" in system_text(request)


@pytest.mark.parametrize(("first", "then"), [
    ("What was total revenue in 2018?", "and in 2019?"),
    ("Quel a été le chiffre d'affaires en 2018 ?", "et en 2019 ?"),
])
def test_a_period_change_follows_the_earlier_question(resources, app_conn, first, then) -> None:
    earlier = pipeline.ask(first, "alice", resources)
    assert earlier.error is None and close(earlier.rows[0][0], revenue(app_conn, 2018))
    answer = pipeline.ask(then, "alice", resources, follow_up_of=earlier.answer_id)
    assert answer.error is None, answer.text
    assert answer.route == "sql" and answer.follow_up_of == earlier.answer_id
    assert close(answer.rows[0][0], revenue(app_conn, 2019))
    assert answer.as_json()["follow_up_of"] == earlier.answer_id
    assert answer.question == then
    assert logged(app_conn, answer.answer_id)[:2] == (earlier.answer_id, None)


@pytest.mark.parametrize(("first", "then"), [
    ("What was total revenue in 2019?", "and for EMEA?"),
    ("Quel a été le chiffre d'affaires en 2019 ?", "et pour EMEA ?"),
])
def test_a_filter_is_added_to_the_earlier_question(resources, app_conn, first, then) -> None:
    earlier = pipeline.ask(first, "alice", resources)
    answer = pipeline.ask(then, "alice", resources, follow_up_of=earlier.answer_id)
    assert answer.error is None, answer.text
    assert answer.follow_up_of == earlier.answer_id
    assert close(answer.rows[0][0], revenue(app_conn, 2019, "EMEA"))
    assert "EMEA" in (answer.sql or "")


def test_a_standalone_question_after_a_revenue_question_is_not_linked(resources) -> None:
    earlier = pipeline.ask("What was total revenue in 2018?", "alice", resources)
    question = "How many active customers in 2017?"
    alone = pipeline.ask(question, "alice", resources)
    answer = pipeline.ask(question, "alice", resources, follow_up_of=earlier.answer_id)
    assert answer.follow_up_of is None and answer.as_json()["follow_up_of"] is None
    assert answer.sql == alone.sql and answer.rows == alone.rows


def test_a_chain_of_follow_ups_and_a_regenerated_one(resources, app_conn) -> None:
    first = pipeline.ask("What was total revenue in 2018?", "alice", resources)
    second = pipeline.ask("and in 2019?", "alice", resources, follow_up_of=first.answer_id)
    third = pipeline.ask("and for EMEA?", "alice", resources, follow_up_of=second.answer_id)
    assert third.follow_up_of == second.answer_id
    assert close(third.rows[0][0], revenue(app_conn, 2019, "EMEA"))
    again = pipeline.ask("and for EMEA?", "alice", resources, regenerated_from=third.answer_id)
    assert again.follow_up_of == second.answer_id and again.rows == third.rows


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_another_users_answer_is_refused_like_an_unknown_one(resources, lang) -> None:
    earlier = pipeline.ask("revenue by region in 2019", "alice", resources)
    question = "and in 2020?" if lang == "en" else "et en 2020 ?"
    answers = [pipeline.ask(question, "bruno", resources, follow_up_of=other)
               for other in (earlier.answer_id, str(uuid.uuid4()), "not-an-id")]
    for answer in answers:
        assert answer.error == "bad_input" and answer.text == UNKNOWN[lang]
        assert answer.rows == [] and answer.follow_up_of is None
    # The owner can follow it.
    mine = pipeline.ask(question, "alice", resources, follow_up_of=earlier.answer_id)
    assert mine.error is None and mine.follow_up_of == earlier.answer_id


def test_a_documents_follow_up_retrieves_with_the_earlier_question(
    resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = pipeline.ask("How many days of remote work are allowed per week?", "alice",
                           resources)
    assert earlier.route == "docs" and earlier.sources
    searched: list[str] = []
    real = pipeline.retrieve_chunks

    def spy(conn: Any, embedder: Any, question: str, *args: Any, **kwargs: Any) -> Any:
        searched.append(question)
        return real(conn, embedder, question, *args, **kwargs)

    monkeypatch.setattr(pipeline, "retrieve_chunks", spy)
    answer = pipeline.ask("and per month?", "alice", resources,
                          follow_up_of=earlier.answer_id)
    assert answer.route == "docs" and answer.follow_up_of == earlier.answer_id
    assert searched and "remote work" in searched[0] and "per month" in searched[0]
    assert answer.sources


@pytest.mark.parametrize("question", ["New customers by month in 2024",
                                      "Nouveaux clients par mois en 2024"])
def test_a_short_data_question_after_a_documents_answer_stands_alone(
        resources, question: str) -> None:
    """Short and with 'by month', it reads like a fragment, but it names a metric of its own:
    the same answer as asked alone, not the documents searched with the earlier question."""
    earlier = pipeline.ask("How many days of remote work are allowed per week?", "alice",
                           resources)
    assert earlier.route == "docs"
    alone = pipeline.ask(question, "alice", resources)
    answer = pipeline.ask(question, "alice", resources, follow_up_of=earlier.answer_id)
    assert alone.route == "sql" and alone.rows
    assert (answer.route, answer.sql, answer.rows, answer.sources) == (
        alone.route, alone.sql, alone.rows, alone.sources)
    assert answer.follow_up_of is None


def test_the_model_rewrites_a_follow_up_from_the_last_three_turns(
    llm_resources, fake_llm, app_conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = [pipeline.ask("What was total revenue in 2017?", "alice", llm_resources)]
    for then in ("and in 2018?", "and in 2019?", "and in 2020?"):
        turns.append(pipeline.ask(then, "alice", llm_resources,
                                  follow_up_of=turns[-1].answer_id))
    assert all(t.follow_up_of for t in turns[1:])
    # A follow-up the planner cannot make confident: the model writes the standalone question.
    monkeypatch.setattr(followup, "planned_follow_up", lambda *args: None)
    monkeypatch.setattr(followup, "is_follow_up", lambda question: True)
    standalone = "What was total revenue in 2021?"
    fake_llm.on(asks_to_rewrite, standalone)
    answer = pipeline.ask("the one before the first of those", "alice", llm_resources,
                          follow_up_of=turns[-1].answer_id)
    rewrites = fake_llm.chat_requests(asks_to_rewrite)
    assert len(rewrites) == 1
    prompt = user_text(rewrites[0])
    assert prompt.count("Question: ") == 3 and "2017" not in prompt
    assert "and in 2020?" in prompt and "SQL: SELECT" in prompt
    assert len(prompt) <= followup.PROMPT_CHARS + 500
    assert answer.follow_up_of == turns[-1].answer_id
    assert answer.standalone_question == standalone
    assert answer.question == "the one before the first of those"
    assert close(answer.rows[0][0], revenue(app_conn, 2021))
    assert logged(app_conn, answer.answer_id) == (
        turns[-1].answer_id, standalone, "the one before the first of those")


TOP_PRODUCTS_SQL = (
    "SELECT p.name FROM warehouse.orders o"
    " JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " JOIN warehouse.products p ON p.product_id = oi.product_id"
    " WHERE o.status = 'completed' AND o.order_date >= '2019-01-01' AND o.order_date < '2020-01-01'"
    " AND o.channel = %s GROUP BY p.name"
    " ORDER BY sum(oi.quantity * oi.unit_price * (1 - oi.discount)) DESC LIMIT 5"
)
TOP_CHANNEL_SQL = (
    "SELECT o.channel FROM warehouse.orders o"
    " JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " WHERE o.status = 'completed' AND o.order_date >= '2019-01-01' AND o.order_date < '2020-01-01'"
    " GROUP BY o.channel ORDER BY sum(oi.quantity * oi.unit_price * (1 - oi.discount)) DESC LIMIT 1"
)


@pytest.mark.parametrize(("first", "then"), [
    ("Which sales channel brought the most revenue in 2019?", "Which 5 products drove that?"),
    ("Quel canal a réalisé le meilleur chiffre d'affaires en 2019 ?",
     "Quels sont les 5 produits qui ont porté ce chiffre ?"),
])
def test_a_drill_down_of_the_best_one_breaks_down_the_first_row(
        resources, app_conn, first, then) -> None:
    earlier = pipeline.ask(first, "alice", resources)
    assert earlier.error is None and len(earlier.rows) == 1
    top = app_conn.execute(TOP_CHANNEL_SQL).fetchone()[0]
    assert earlier.rows[0][0] == top
    answer = pipeline.ask(then, "alice", resources, follow_up_of=earlier.answer_id)
    assert answer.error is None and not answer.not_understood, answer.text
    expected = [row[0] for row in app_conn.execute(TOP_PRODUCTS_SQL, (top,))]
    assert [row[0] for row in answer.rows] == expected
    # The reading says where the value came from.
    assert top in (answer.understood_as or "") and f"'{top}'" in (answer.sql or "")


def test_the_first_row_is_read_again_as_the_asker(resources) -> None:
    # bruno sees EMEA only: his "best region" is EMEA, whatever leads company-wide.
    earlier = pipeline.ask("Which region had the most revenue in 2019?", "bruno", resources)
    assert [row[0] for row in earlier.rows] == ["EMEA"]
    answer = pipeline.ask("which products drove that?", "bruno", resources,
                          follow_up_of=earlier.answer_id)
    assert answer.error is None and answer.rows, answer.text
    assert "'EMEA'" in (answer.sql or "")


def test_a_refused_question_is_no_context_for_the_next(resources, spy_executor) -> None:
    refused = pipeline.ask("Delete all orders from 2019", "alice", resources)
    assert refused.route == "refused"
    answer = pipeline.ask("and in 2020?", "alice", resources, follow_up_of=refused.answer_id)
    # Nothing of the refused instruction reaches the next question: it stands alone.
    assert answer.follow_up_of is None and "2019" not in (answer.understood_as or "")
    assert not any("2019" in sql for sql in spy_executor)
