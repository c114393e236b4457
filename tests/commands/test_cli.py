"""`sourced` as a user runs it: numbers match the definitions' SQL, bad input exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import psycopg
import pytest

REVENUE_SQL = (
    "SELECT sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FROM warehouse.orders o"
    " JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " WHERE o.status = 'completed' AND o.order_date >= %s AND o.order_date < %s"
)


def sourced(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agents.commands.cli", *args], capture_output=True, text=True,
        input=stdin, env=os.environ.copy(), timeout=120,
    )


def ask_json(question: str, user: str = "alice") -> dict:
    done = sourced("ask", question, "--user", user, "--json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 * max(abs(b), 1)


def test_revenue_2018_matches_definition(resources, app_conn: psycopg.Connection) -> None:
    expected = app_conn.execute(REVENUE_SQL, ("2018-01-01", "2019-01-01")).fetchone()[0]
    out = ask_json("What was total revenue in 2018?")
    assert out["route"] == "sql" and out["mode"] == "offline"
    assert close(out["rows"][0][0], float(expected))
    assert out["sql"].lower().startswith("select")
    assert set(out) >= {"question", "user", "route", "answer", "sql", "columns", "rows",
                        "sources", "mode", "timings_ms"}
    assert "total" in out["timings_ms"]
    assert out["explanation"] and "completed" in out["explanation"]


def test_active_customers_in_french(resources, app_conn: psycopg.Connection) -> None:
    expected = app_conn.execute(
        "SELECT count(DISTINCT customer_id) FROM warehouse.orders WHERE status = 'completed'"
        " AND order_date >= '2017-01-01' AND order_date < '2018-01-01'").fetchone()[0]
    out = ask_json("Combien de clients actifs en 2017 ?")
    assert out["rows"] == [[expected]]
    assert "Clients actifs" in out["answer"]


def test_revenue_by_region(resources, app_conn: psycopg.Connection) -> None:
    expected = dict(app_conn.execute(
        "SELECT c.region, sum(oi.quantity * oi.unit_price * (1 - oi.discount))"
        " FROM warehouse.orders o JOIN warehouse.order_items oi USING (order_id)"
        " JOIN warehouse.customers c USING (customer_id) WHERE o.status = 'completed'"
        " AND o.order_date BETWEEN '2019-01-01' AND '2019-12-31' GROUP BY 1").fetchall())
    out = ask_json("revenue by region in 2019")
    got = {row[0]: row[1] for row in out["rows"]}
    assert set(got) == set(expected)
    for region, value in expected.items():
        assert close(got[region], float(Decimal(value)))
    scoped = ask_json("revenue by region in 2019", user="bruno")
    assert [row[0] for row in scoped["rows"]] == ["EMEA"]
    assert close(scoped["rows"][0][1], float(expected["EMEA"]))


def test_docs_question_cites_the_expected_document(resources) -> None:
    out = ask_json("How many days of remote work are allowed per week?")
    assert out["route"] == "docs"
    assert out["sources"], out
    assert any("teletravail" in s["path"] or "remote" in s["path"] for s in out["sources"][:3])
    first = out["sources"][0]
    assert {"title", "path", "score"} <= set(first)
    assert "[1]" in out["answer"]


def test_json_says_what_was_understood(resources) -> None:
    out = ask_json("What was total revenue in 2018?")
    assert out["answer_id"] and isinstance(out["answer_id"], str)
    assert isinstance(out["understood_as"], str)
    assert "Revenue" in out["understood_as"] and "2018" in out["understood_as"]
    assert out["not_understood"] == []
    french = ask_json("Combien de clients actifs en 2017 ?")
    assert "Clients actifs" in french["understood_as"] and "2017" in french["understood_as"]


def test_json_of_a_question_with_an_unknown_word_names_it(resources) -> None:
    out = ask_json("What is the average frobnication of zorblax customers in 2021?")
    assert out["answer_id"] and out["route"] == "sql"
    assert out["error"] == "not_understood" and out["rows"] == [] and out["sql"] is None
    assert isinstance(out["not_understood"], list)
    assert all(isinstance(w, str) for w in out["not_understood"])
    assert sum(map(len, out["not_understood"])) <= 200
    assert out["understood_as"] is None or isinstance(out["understood_as"], str)
    assert 1 <= len(out["suggestions"]) <= 3
    assert all(f"- {s}" in out["answer"] for s in out["suggestions"])
    for word in out["not_understood"]:
        assert word in out["answer"]


def test_json_of_a_document_answer_has_the_fields_empty(resources) -> None:
    out = ask_json("What does the travel policy say about train tickets?")
    assert out["route"] == "docs" and out["answer_id"]
    assert out["understood_as"] is None and out["not_understood"] == []


def test_stdin_question(resources) -> None:
    done = sourced("ask", "-", "--json", stdin="What was total revenue in 2018?\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["route"] == "sql"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", ""), "empty"),
        (("ask", "   "), "empty"),
        (("ask", "revenue in 2018", "--user", "mallory"), "Unknown user"),
        (("ask", "x" * 5000), "limit is 2,000"),
    ],
)
def test_bad_input_exits_2_without_traceback(resources, args, message) -> None:
    done = sourced(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_after_asks_a_follow_up_of_an_earlier_answer(resources,
                                                     app_conn: psycopg.Connection) -> None:
    expected = app_conn.execute(REVENUE_SQL, ("2019-01-01", "2020-01-01")).fetchone()[0]
    first = ask_json("What was total revenue in 2018?")
    assert first["follow_up_of"] is None
    done = sourced("ask", "and in 2019?", "--after", first["answer_id"], "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["follow_up_of"] == first["answer_id"] and out["route"] == "sql"
    assert close(out["rows"][0][0], float(expected))
    plain = sourced("ask", "et en 2019 ?", "--after", first["answer_id"])
    assert plain.returncode == 0, plain.stderr
    assert "Traceback" not in plain.stderr


def test_after_an_unknown_or_another_users_answer_exits_2(resources) -> None:
    mine = ask_json("What was total revenue in 2018?", user="alice")
    for after, user in ((mine["answer_id"], "bruno"), (str(uuid.uuid4()), "alice"),
                        ("not-an-id", "alice")):
        done = sourced("ask", "and in 2019?", "--after", after, "--user", user)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == "sourced: I can't find that earlier answer."
        assert done.stdout == ""
    french = sourced("ask", "et en 2019 ?", "--after", mine["answer_id"], "--user", "bruno")
    assert french.returncode == 2
    assert french.stderr.strip() == "sourced: Je ne trouve pas cette réponse précédente."


def test_db_url_prints_the_configured_database(settings_env) -> None:
    done = sourced("db", "url")
    assert done.returncode == 0
    assert "sourced_test" in done.stdout


def test_db_url_masks_the_password_unless_asked(settings_env, monkeypatch) -> None:
    monkeypatch.setenv("SOURCED_DATABASE_URL", "postgresql://owner:s3cret-Pa55@127.0.0.1:1/sourced")
    masked = sourced("db", "url")
    assert masked.returncode == 0, masked.stderr
    assert "s3cret-Pa55" not in masked.stdout and "password=***" in masked.stdout
    shown = sourced("db", "url", "--show-password")
    assert shown.returncode == 0 and "s3cret-Pa55" in shown.stdout


def test_a_reader_that_goes_away_is_no_error(resources, app_conn: psycopg.Connection) -> None:
    # `sourced ask ... | head -1`: the pipe closes before the answer is written.
    process = subprocess.Popen(
        [sys.executable, "-m", "agents.commands.cli", "ask", "Revenue by country in 2019"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert stderr == ""
    # The answer was logged all the same.
    logged = app_conn.execute("SELECT count(*) FROM app.query_log WHERE question = %s",
                              ("Revenue by country in 2019",)).fetchone()
    assert logged is not None and logged[0] >= 1
