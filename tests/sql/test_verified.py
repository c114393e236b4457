"""Verified queries and the review queue: saved by analysts, guard-checked twice, reused by
rephrased questions, never learned without review."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import Any

import psycopg
import pytest

from agents.ask import pipeline
from agents.errors import BadInput, GuardRejected
from agents.sql.verified import (
    approve_review,
    match_verified,
    pending_reviews,
    question_terms,
    reject_review,
    save_verified,
    signature_from_plan,
)
from agents.store.query_log import record_feedback
from agents.store.users import User
from sql_guard import Policy
from tests.conftest import ROOT

DISCOUNT_QUESTION = "Average discount granted to enterprise customers per year"
DISCOUNT_SQL = (
    "SELECT extract(year FROM o.order_date)::int AS year, round(avg(oi.discount), 4) AS"
    " avg_discount FROM warehouse.orders o JOIN warehouse.order_items oi"
    " ON oi.order_id = o.order_id JOIN warehouse.customers c ON c.customer_id = o.customer_id"
    " WHERE c.segment = 'Enterprise' GROUP BY 1 ORDER BY 1"
)
ANALYST = User(login="chloe", name="Chloé", groups=frozenset({"analyst"}))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agents.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_analyst_saves_from_the_cli_and_a_rephrased_question_reuses_it(
    resources: Any, seeded: str, clean_verified: None
) -> None:
    saved = cli("verify", DISCOUNT_QUESTION, "--sql", DISCOUNT_SQL, "--user", "chloe")
    assert saved.returncode == 0, saved.stderr
    assert "Saved verified query" in saved.stdout and "Traceback" not in saved.stderr

    answer = pipeline.ask("average discount for enterprise customers by year", "alice",
                          resources)

    assert answer.sql_source == "verified", answer.text
    assert answer.verified_by == f"Verified by chloe on {date.today().isoformat()}"
    assert answer.verified_by in (answer.explanation or "")
    with psycopg.connect(seeded) as conn:
        expected = conn.execute(DISCOUNT_SQL).fetchall()
        used = conn.execute("SELECT times_used FROM app.verified_queries").fetchone()
        logged = conn.execute("SELECT sql_source, verified_id FROM app.query_log"
                              " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert [tuple(r) for r in answer.rows] == [tuple(r) for r in expected]
    assert used == (1,) and logged is not None and logged[0] == "verified" and logged[1]


@pytest.mark.parametrize("near_miss", [
    "Average discount granted to SMB customers per year",  # another segment
    "Average order value of enterprise customers per year",  # another metric
    "Number of enterprise customers per year",  # another metric, similarity 0.77
    "Average discount granted to enterprise customers in 2021",  # a year, not per year
])
def test_a_close_but_different_question_does_not_reuse_it(
    resources: Any, clean_verified: None, near_miss: str
) -> None:
    save_verified(resources.app_pool, resources.embedder, ANALYST, DISCOUNT_QUESTION,
                  DISCOUNT_SQL, Policy())
    vector = resources.embedder.embed([near_miss])[0]

    def terms(q: str) -> frozenset[str]:
        from agents.sql.planner import plan_question
        return question_terms(q, resources.model,
                              lambda x: signature_from_plan(plan_question(x, resources.planning)))

    with resources.app_pool.connection() as conn:
        assert match_verified(conn, vector, resources.embedder.name,
                              resources.settings.verified_threshold, terms(near_miss),
                              lambda v: terms(v.question)) is None


def test_only_analysts_save_and_the_guard_checks_the_sql(
    resources: Any, seeded: str, clean_verified: None
) -> None:
    refused = cli("verify", DISCOUNT_QUESTION, "--sql", DISCOUNT_SQL, "--user", "emma")
    assert refused.returncode == 2 and "analyst" in refused.stderr
    assert "Traceback" not in refused.stderr
    with pytest.raises(GuardRejected, match=r"DELETE|read"):
        save_verified(resources.app_pool, resources.embedder, ANALYST, "Remove orders",
                      "DELETE FROM warehouse.orders", Policy())
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM app.verified_queries").fetchone() == (0,)


def test_verified_sql_is_checked_again_when_it_runs(
    resources: Any, seeded: str, clean_verified: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Saved by an analyst whose policy allowed it, reused by someone whose policy does not.
    question = "Headcount per department"
    save_verified(resources.app_pool, resources.embedder, ANALYST, question,
                  "SELECT department, count(*) FROM warehouse.employees GROUP BY department",
                  Policy())
    ran: list[str] = []
    monkeypatch.setattr(pipeline, "run_query", lambda v, *a, **k: ran.append(v.sql))

    answer = pipeline.ask(question, "emma", resources)

    assert answer.error == "GuardRejected" and ran == []
    assert answer.rows == []


def test_thumbs_down_goes_to_review_and_only_approval_teaches(
    resources: Any, seeded: str, clean_verified: None
) -> None:
    first = pipeline.ask("What was revenue in 2018?", "bruno", resources)
    record_feedback(resources.app_pool, first.answer_id, "bruno", -1,
                    comment="should include cancelled orders")
    corrected = first.sql.replace("'completed'", "'cancelled'") if first.sql else ""
    second = pipeline.ask("How many orders in 2019?", "alice", resources)
    record_feedback(resources.app_pool, second.answer_id, "alice", -1,
                    corrected_sql="SELECT 1 AS nonsense")
    thumbs_up = pipeline.ask("How many customers in 2020?", "alice", resources)
    record_feedback(resources.app_pool, thumbs_up.answer_id, "alice", 1)

    queue = pending_reviews(resources.app_pool)
    assert [r.answer_id for r in queue] == [first.answer_id, second.answer_id]
    assert queue[0].comment == "should include cancelled orders"
    assert queue[0].original_sql == first.sql and queue[1].proposed_sql == "SELECT 1 AS nonsense"
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM app.verified_queries").fetchone() == (0,)

    listed = cli("review", "list")
    assert listed.returncode == 0 and "should include cancelled orders" in listed.stdout

    emma = resources.directory.get("emma")
    with pytest.raises(BadInput, match="analyst"):
        approve_review(resources.app_pool, resources.embedder, queue[0].review_id, emma,
                       Policy())
    verified = approve_review(resources.app_pool, resources.embedder, queue[0].review_id,
                              resources.directory.get("chloe"), Policy(), sql=corrected)
    reject_review(resources.app_pool, queue[1].review_id, resources.directory.get("chloe"),
                  "not a correction")
    assert pending_reviews(resources.app_pool) == []
    with psycopg.connect(seeded) as conn:
        rows = conn.execute("SELECT v.sql, v.created_by, r.status, r.reviewed_by"
                            " FROM app.verified_queries v JOIN app.review_queue r USING"
                            " (review_id)").fetchall()
        statuses = dict(conn.execute("SELECT review_id, status FROM app.review_queue WHERE"
                                     " review_id = ANY(%s)",
                                     ([r.review_id for r in queue],)).fetchall())
    assert rows == [(corrected, "chloe", "approved", "chloe")]
    assert statuses == {queue[0].review_id: "approved", queue[1].review_id: "rejected"}
    assert verified.sql == corrected
    with pytest.raises(BadInput, match="already"):
        reject_review(resources.app_pool, queue[0].review_id, resources.directory.get("chloe"))


def test_verified_queries_are_few_shot_examples_for_the_model(
    llm_resources: Any, fake_llm: Any, clean_verified: None
) -> None:
    from tests.fake_openai import asks_for_route, asks_for_sql

    save_verified(llm_resources.app_pool, llm_resources.embedder, ANALYST, DISCOUNT_QUESTION,
                  DISCOUNT_SQL, Policy())
    fake_llm.on(asks_for_route, '{"route": "sql", "reason": "x"}')
    fake_llm.on(asks_for_sql, "```sql\nSELECT 'cannot answer' AS problem\n```")
    pipeline.ask("What is the median order value per customer segment?", "alice",
                 llm_resources)
    prompt = fake_llm.chat_requests(asks_for_sql)[0]["messages"][1]["content"]
    assert "Verified examples" in prompt and DISCOUNT_SQL in prompt



def test_pending_reviews_name_the_documents_their_answers_cited(
    resources: Any, seeded: str, clean_verified: None
) -> None:
    import json
    import uuid

    from agents.sql.verified import propose_correction

    cited, plain = str(uuid.uuid4()), str(uuid.uuid4())
    sources = [{"title": "Memo", "path": "docs/board/memo.md"}, {"title": "No path"}]
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute("INSERT INTO app.query_log (answer_id, user_name, question, route, mode,"
                     " sources) VALUES (%s, 'alice', 'q1', 'docs', 'test', %s),"
                     " (%s, 'bruno', 'q2', 'sql', 'test', DEFAULT)",
                     (cited, json.dumps(sources), plain))
    first = propose_correction(resources.app_pool, cited, "alice", comment="c1")
    second = propose_correction(resources.app_pool, plain, "bruno", comment="c2")
    queue = {r.review_id: r for r in pending_reviews(resources.app_pool)}
    assert queue[first].documents == ("docs/board/memo.md", "")
    assert queue[second].documents == ()
