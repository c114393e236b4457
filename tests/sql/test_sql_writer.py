"""The LLM SQL writer against a real (fake) OpenAI-compatible server and the real database."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest

from agents.ask import pipeline
from agents.docs.embeddings import OfflineEmbedder
from agents.sql.writer import (
    build_catalog,
    build_sql_prompt,
    extract_sql,
    read_tables,
    select_tables,
)
from tests.fake_openai import (
    Reply,
    asks_about_documents,
    asks_for_route,
    asks_for_sql,
    asks_for_summary,
    user_text,
)

# Questions the offline planner does not map with confidence (checked below, so a better
# planner cannot silently turn these tests into planner tests).
MEDIAN_QUESTION = "What is the median order value per customer segment?"
ITEMS_QUESTION = "How many orders have more than 3 items?"
GOOD_SQL = (
    "SELECT c.segment, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.value) AS median_order_value"
    " FROM (SELECT o.order_id, o.customer_id, SUM(oi.quantity * oi.unit_price) AS value"
    " FROM warehouse.orders o JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " GROUP BY o.order_id, o.customer_id) t"
    " JOIN warehouse.customers c ON c.customer_id = t.customer_id GROUP BY c.segment"
    " ORDER BY c.segment"
)


def fenced(sql: str) -> str:
    return f"Here is the query.\n```sql\n{sql}\n```"


def route(name: str) -> str:
    return json.dumps({"route": name, "reason": "scripted"})


def test_the_questions_here_are_beyond_the_planner(resources: Any) -> None:
    from agents.sql.planner import plan_question

    for question in (MEDIAN_QUESTION, ITEMS_QUESTION):
        assert not plan_question(question, resources.planning).confident


def test_model_writes_sql_that_runs_and_a_streamed_summary(
    llm_resources: Any, fake_llm: Any, seeded: str, spy_executor: list[str]
) -> None:
    fake_llm.on(asks_for_route, route("sql"))
    fake_llm.on(asks_for_sql, fenced(GOOD_SQL))
    fake_llm.on(asks_for_summary, "Enterprise customers have the highest median order [7].")
    streamed: list[str] = []

    answer = pipeline.ask(MEDIAN_QUESTION, "chloe", llm_resources, on_token=streamed.append)

    assert answer.error is None, answer.text
    assert answer.route == "sql" and answer.sql_source == "llm"
    with psycopg.connect(seeded) as conn:
        expected = conn.execute(GOOD_SQL).fetchall()
    assert [tuple(r) for r in answer.rows] == [tuple(r) for r in expected]
    assert len(streamed) > 1 and "".join(streamed).strip() == answer.text
    assert answer.guard_allowed is True and "LIMIT" in (answer.sql or "").upper()
    assert spy_executor == [answer.sql]
    # The prompt held the definitions, the relevant tables, the dialect and the question.
    sql_request = fake_llm.chat_requests(asks_for_sql)[0]
    system = sql_request["messages"][0]["content"]
    assert "PostgreSQL" in system and "TABLE warehouse.orders" in system
    assert "Revenue" in system and "o.status = 'completed'" in system
    assert "(values: " in system  # low-cardinality values listed (segments, statuses...)
    with psycopg.connect(seeded) as conn:
        logged = conn.execute(
            "SELECT route, sql_source, sql, tokens, timings_ms ? 'llm_sql' FROM app.query_log"
            " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert logged is not None
    assert logged[:3] == ("sql", "llm", answer.sql) and logged[3] and logged[4]


def test_prompt_never_shows_a_table_the_user_may_not_query(
    llm_resources: Any, fake_llm: Any
) -> None:
    fake_llm.on(asks_for_route, route("sql"))
    fake_llm.on(asks_for_sql, fenced("SELECT 'cannot answer' AS problem"))
    for login, sees_employees in (("emma", False), ("david", True)):
        pipeline.ask("How many employees joined per department each year?", login,
                     llm_resources)
        system = fake_llm.chat_requests(asks_for_sql)[-1]["messages"][0]["content"]
        assert ("warehouse.employees" in system) is sees_employees, login


def test_database_error_is_repaired_from_the_exact_message(
    llm_resources: Any, fake_llm: Any, spy_executor: list[str]
) -> None:
    broken = GOOD_SQL.replace("c.segment", "c.segmnt", 1)
    fake_llm.on(asks_for_route, route("sql"))
    fake_llm.on(asks_for_sql, fenced(broken), fenced(GOOD_SQL))
    fake_llm.on(asks_for_summary, "Done.")

    answer = pipeline.ask(MEDIAN_QUESTION, "alice", llm_resources)

    assert answer.error is None and answer.rows
    sql_requests = fake_llm.chat_requests(asks_for_sql)
    assert len(sql_requests) == 2
    repair = user_text(sql_requests[1])
    assert "c.segmnt" in repair and "does not exist" in repair
    assert len(spy_executor) == 2  # the broken one ran (read-only) and failed; then the fix


@pytest.mark.parametrize("bad_sql, reason_word", [
    ("DELETE FROM warehouse.orders", "DELETE"),
    ("SELECT pg_sleep(100)", "pg_sleep"),
])
def test_model_sql_refused_by_the_guard_never_runs(
    llm_resources: Any, fake_llm: Any, seeded: str, spy_executor: list[str],
    bad_sql: str, reason_word: str,
) -> None:
    with psycopg.connect(seeded) as conn:
        before = conn.execute("SELECT count(*) FROM warehouse.orders").fetchone()
    fake_llm.on(asks_for_route, route("sql"))
    fake_llm.on(asks_for_sql, fenced(bad_sql))
    started = time.perf_counter()

    answer = pipeline.ask(ITEMS_QUESTION, "alice", llm_resources)

    assert time.perf_counter() - started < 20
    assert spy_executor == []
    assert answer.error == "GuardRejected" and answer.guard_allowed is False
    assert "blocked" in answer.text and reason_word.lower() in answer.text.lower()
    assert answer.rows == []
    # Two repair rounds, each told the guard's exact reason, then the user is told.
    sql_requests = fake_llm.chat_requests(asks_for_sql)
    assert len(sql_requests) == 3
    assert all("read-only guard refused" in user_text(r) for r in sql_requests[1:])
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM warehouse.orders").fetchone() == before
        logged = conn.execute("SELECT guard_allowed, guard_reason, error FROM app.query_log"
                              " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert logged is not None and logged[0] is False and reason_word.lower() in logged[1].lower()


@pytest.mark.parametrize("reply, words", [
    (Reply("boom", status=500), "HTTP 500"),
    (Reply("slow down", status=429, headers={"retry-after": "0"}), "rate limited"),
    (Reply("too late", delay_s=3.0), "in time"),
])
def test_provider_failures_become_a_plain_message_with_what_works_offline(
    llm_resources: Any, fake_llm: Any, spy_executor: list[str], reply: Reply, words: str
) -> None:
    fake_llm.on(lambda r: True, reply)
    resources = llm_resources.with_settings(
        llm_resources.settings.model_copy(update={"llm_timeout_s": 1.0}))
    started = time.perf_counter()

    answer = pipeline.ask(ITEMS_QUESTION, "alice", resources)

    elapsed = time.perf_counter() - started
    assert answer.error == "ProviderError"
    assert words in answer.text and "Traceback" not in answer.text
    assert answer.suggestions and answer.suggestions[0] in answer.text
    # Bounded: llm_max_retries=1 means two attempts per call, each cut at llm_timeout_s=1.
    router_and_writer_calls = len(fake_llm.chat_requests())
    assert router_and_writer_calls == 4, router_and_writer_calls
    assert elapsed < 15
    assert spy_executor == []


def test_a_planner_question_never_calls_the_model_for_sql(
    llm_resources: Any, fake_llm: Any
) -> None:
    answer = pipeline.ask("What was revenue in 2018?", "alice", llm_resources)
    assert answer.sql_source == "planner" and answer.rows
    assert fake_llm.chat_requests() == []


def test_extract_sql_takes_the_last_fenced_block() -> None:
    reply = "First ```sql\nSELECT 1\n``` then better:\n```SQL\nSELECT 2;\n```"
    assert extract_sql(reply) == "SELECT 2"
    assert extract_sql("SELECT 3;") == "SELECT 3"
    assert extract_sql("I cannot do that.") is None


# ---------------------------------------------------------------- large warehouses

TOKEN_BUDGET = 3_000


def test_prompt_stays_bounded_on_a_warehouse_of_300_tables(fresh_db: str) -> None:
    topics = ["invoice", "shipment", "payroll", "campaign", "ticket", "inventory", "supplier",
              "contract", "lead", "budget", "asset", "claim", "course", "vehicle", "patent"]
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA lake")
        for i in range(310):
            topic = topics[i % len(topics)]
            name = f"{topic}_{i:03d}"
            conn.execute(
                f"CREATE TABLE lake.{name} (id int PRIMARY KEY, {topic}_date date,"
                f" amount numeric, status text, region text, note text)"
            )
            conn.execute(f"COMMENT ON TABLE lake.{name} IS"
                         f" 'Records of {topic} number {i} for the {topic} team'")
        conn.execute("CREATE TABLE lake.wind_turbines (turbine_id int PRIMARY KEY,"
                     " site text, capacity_mw numeric, commissioned date)")
        conn.execute("COMMENT ON TABLE lake.wind_turbines IS 'Wind turbines we operate:"
                     " one row per turbine, its site and installed capacity in megawatts'")
        conn.execute("COMMENT ON COLUMN lake.wind_turbines.capacity_mw IS"
                     " 'Installed electrical capacity in megawatts'")
        tables = read_tables(conn, ["lake"])
    assert len(tables) == 311
    embedder = OfflineEmbedder()
    catalog = build_catalog(tables, embedder)
    question = "What is the total installed capacity of our wind turbines per site?"
    chosen = select_tables(catalog, question, embedder.embed([question])[0], None, TOKEN_BUDGET)
    prompt = build_sql_prompt(question, chosen, "(definitions)", [])
    assert "lake.wind_turbines" in prompt.tables
    assert len(prompt.tables) < 20
    assert sum(len(t.describe()) for t in chosen) / 4 <= TOKEN_BUDGET
    assert prompt.tokens <= TOKEN_BUDGET + 1_000  # + the fixed instructions and the question


def test_documents_grounded_answer_streams_and_drops_unknown_citations(
    llm_resources: Any, fake_llm: Any
) -> None:
    fake_llm.on(asks_for_route, route("docs"))
    fake_llm.on(asks_about_documents,
                "Employees may work remotely up to three days a week [1]. See also [9].")
    streamed: list[str] = []
    answer = pipeline.ask("What does the remote work policy allow?", "emma", llm_resources,
                          on_token=streamed.append)
    assert answer.route == "docs" and answer.sources
    assert "[1]" in answer.text and "[9]" not in answer.text
    assert "".join(streamed).strip() == answer.text
