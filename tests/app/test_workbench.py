"""The SQL workbench: guarded analyst SQL, verified queries and the review queue, as an analyst
sees them through Streamlit's AppTest, and the refusal everyone else gets."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from agents.app import state as app_state
from agents.app import workbench
from agents.errors import BadInput
from agents.sql.verified import propose_correction

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "workbench.py")
YEARLY = ("SELECT extract(year FROM order_date)::int AS year, count(*) AS orders"
          " FROM warehouse.orders GROUP BY 1 ORDER BY 1")


@pytest.fixture
def page_resources(resources: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The page reads agents.app.state.shared_resources at each run: replacing it reuses the
    # session's resources (embedder loaded once) and leaves st.cache_resource untouched.
    monkeypatch.setattr(app_state, "shared_resources", lambda: resources)
    return resources


def open_page(login: str, **state: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["user_login"] = login
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception and not at.warning
    return at


def result_frames(at: AppTest) -> list[Any]:
    """Dataframes other than the list of verified queries and the schema browser's."""
    return [d.value for d in at.dataframe if "Verified by" not in d.value.columns
            and "Comment" not in d.value.columns]


def count_orders(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM warehouse.orders").fetchone()
    assert row is not None
    return int(row[0])


def test_a_delete_is_blocked_with_the_guards_reason_and_nothing_runs(
    page_resources: Any, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed: list[str | None] = []
    real_run = workbench.run_query

    def spy(checked: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(checked.sql)
        return real_run(checked, *args, **kwargs)

    monkeypatch.setattr(workbench, "run_query", spy)
    before = count_orders(seeded)
    at = open_page("chloe")
    at.text_area(key="wb_sql").set_value("DELETE FROM warehouse.orders")
    at.button(key="wb_run").click().run()

    assert not at.exception
    assert [e.value for e in at.error] == [
        "Blocked by the SQL guard: modifies data: DELETE. Nothing was run."]
    assert executed == [] and not result_frames(at)
    assert count_orders(seeded) == before


def test_a_select_shows_its_table_and_chart(page_resources: Any) -> None:
    at = open_page("chloe")
    at.text_area(key="wb_sql").set_value(YEARLY)
    at.button(key="wb_run").click().run()

    assert not at.exception and not at.error and not at.warning
    (frame,) = result_frames(at)
    assert list(frame.columns) == ["year", "orders"] and frame["orders"].sum() > 0
    assert at.get("vega_lite_chart")  # years on x: a line chart
    # The statement that ran, with the guard's row cap, laid out on several lines.
    assert any("rows in" in c.value for c in at.caption)
    assert any("LIMIT 5000" in c.value and "\nFROM" in c.value for c in at.code)
    assert at.dataframe[0].proto.columns  # formatted: thousands separators
    assert '"localized"' in at.dataframe[0].proto.columns
    # The text stays in the editor after the run.
    assert at.text_area(key="wb_sql").value == YEARLY


def test_a_database_refusal_is_a_sentence(page_resources: Any) -> None:
    at = open_page("chloe")
    at.text_area(key="wb_sql").set_value("SELECT no_such_column FROM warehouse.orders")
    at.button(key="wb_run").click().run()
    assert not at.exception
    assert "no_such_column" in at.error[0].value and not result_frames(at)


def test_the_editor_is_prefilled_from_the_chat(page_resources: Any) -> None:
    at = open_page("chloe", workbench_sql=YEARLY, workbench_question="Orders per year")
    assert at.text_area(key="wb_sql").value == YEARLY
    assert at.text_input(key="wb_question").value == "Orders per year"


def test_saving_a_verified_query(page_resources: Any, seeded: str,
                                 clean_verified: None) -> None:
    at = open_page("chloe")
    at.text_input(key="wb_question").set_value("Orders per year")
    at.text_area(key="wb_sql").set_value(YEARLY + ";")
    at.button(key="wb_save").click().run()

    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Saved verified query #")
    with psycopg.connect(seeded) as conn:
        rows = conn.execute("SELECT question, sql, created_by FROM app.verified_queries"
                            ).fetchall()
    assert rows == [("Orders per year", YEARLY, "chloe")]
    (listed,) = [d.value for d in at.dataframe if "Verified by" in d.value.columns]
    assert list(listed["Question"]) == ["Orders per year"]


def test_saving_refuses_what_the_guard_refuses(page_resources: Any, seeded: str,
                                               clean_verified: None) -> None:
    at = open_page("chloe")
    at.text_input(key="wb_question").set_value("Remove orders")
    at.text_area(key="wb_sql").set_value("DELETE FROM warehouse.orders")
    at.button(key="wb_save").click().run()
    assert not at.exception
    assert "cannot be saved" in at.error[0].value
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM app.verified_queries").fetchone() == (0,)


def _logged_answer(url: str, question: str, sql: str) -> str:
    answer_id = str(uuid.uuid4())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.query_log (answer_id, user_name, question, route, mode, sql)"
                     " VALUES (%s, 'bruno', %s, 'sql', 'test', %s)", (answer_id, question, sql))
    return answer_id


def test_approving_and_rejecting_reviews_from_the_page(
    page_resources: Any, seeded: str, clean_verified: None
) -> None:
    pool = page_resources.app_pool
    wrong = _logged_answer(seeded, "Orders per year", "SELECT 1 AS orders")
    good_id = propose_correction(pool, wrong, "bruno", comment="Not per year at all")
    other = _logged_answer(seeded, "Best customer", "SELECT 2 AS x")
    bad_id = propose_correction(pool, other, "bruno", proposed_sql="SELECT 3 AS x")

    at = open_page("chloe")
    assert any("Not per year at all" in m.value for m in at.markdown)
    assert at.text_area(key=f"wb_review_sql_{bad_id}").value == "SELECT\n  3 AS x"
    # A reviewer runs the proposed SQL, guarded, before approving it.
    at.button(key=f"wb_try_{bad_id}").click().run()
    assert not at.exception and not at.error
    assert any("checked by the guard and run: 1 rows" in c.value for c in at.caption)
    assert any(list(d.value.columns) == ["x"] for d in at.dataframe)
    at.text_area(key=f"wb_review_sql_{good_id}").set_value(YEARLY)
    at.button(key=f"wb_approve_{good_id}").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith(f"Review #{good_id} approved")

    at.text_input(key=f"wb_review_note_{bad_id}").set_value("not a correction")
    at.button(key=f"wb_reject_{bad_id}").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value == f"Review #{bad_id} rejected."
    keys = {b.key for b in at.button}
    assert not {f"wb_approve_{good_id}", f"wb_approve_{bad_id}"} & keys  # both left the queue

    with psycopg.connect(seeded) as conn:
        verified = conn.execute("SELECT question, sql, created_by, review_id"
                                " FROM app.verified_queries").fetchall()
        statuses: dict[int, str] = dict(conn.execute(
            "SELECT review_id, status || ':' || coalesce(review_note, '') FROM app.review_queue"
            " WHERE review_id = ANY(%s)", ([good_id, bad_id],)).fetchall())
    assert verified == [("Orders per year", YEARLY, "chloe", good_id)]
    assert statuses == {good_id: "approved:", bad_id: "rejected:not a correction"}


def _document_answer(url: str, user: str, question: str, path_like: str) -> str:
    """A logged document answer citing the indexed demo document whose path matches."""
    answer_id = str(uuid.uuid4())
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT title, path FROM app.documents WHERE path LIKE %s",
                           (path_like,)).fetchone()
        assert row is not None, path_like
        sources = [{"number": 1, "title": row[0], "path": row[1], "section": "Offer",
                    "page": None}]
        conn.execute("INSERT INTO app.query_log (answer_id, user_name, question, route, mode,"
                     " sources, answer_text) VALUES (%s, %s, %s, 'docs', 'test', %s, 'x')",
                     (answer_id, user, question, json.dumps(sources)))
    return answer_id


def test_the_queue_withholds_what_the_analyst_may_not_read(
    page_resources: Any, seeded: str, clean_verified: None
) -> None:
    pool = page_resources.app_pool
    memo = _document_answer(seeded, "alice", "What is the Heron deal?", "%board/%")
    memo_id = propose_correction(pool, memo, "alice",
                                 comment="Need the exact Heron offer price of EUR 42m")
    grid = _document_answer(seeded, "david", "What is band B?", "%hr/salary%")
    grid_id = propose_correction(pool, grid, "david", comment="Band B is wrong")
    public = _document_answer(seeded, "bruno", "Remote days?", "%hr/teletravail%")
    public_id = propose_correction(pool, public, "bruno", comment="Says three, not two")

    at = open_page("chloe")
    shown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))  # as read
    assert "Heron offer price" not in shown and "Band B is wrong" not in shown
    assert "alice" not in shown and "david" not in shown
    assert "Says three, not two" in shown and "Raised by **bruno**" in shown
    labels = " ".join(e.label for e in at.expander)
    # The rows stay (the analyst may still reject them), with their questions.
    assert f"#{memo_id}" in labels and f"#{grid_id}" in labels and f"#{public_id}" in labels


def test_questions_and_comments_are_shown_as_text(
    page_resources: Any, seeded: str, clean_verified: None
) -> None:
    planted = "![x](http://127.0.0.1:8999/pixel.png?from=emma_upload) [click](/phish)"
    answer = _logged_answer(seeded, planted, "SELECT 1 AS x")
    propose_correction(page_resources.app_pool, answer, "emma", comment=planted)
    at = open_page("chloe")
    texts = [e.label for e in at.expander] + [m.value for m in at.markdown]
    planted_in = [t for t in texts if "pixel" in t]
    assert len(planted_in) == 2
    for text in planted_in:
        assert "![" not in text and "](" not in text and "[click]" not in text


def test_a_non_analyst_gets_a_refusal_not_the_editor(page_resources: Any) -> None:
    at = open_page("emma", workbench_sql="SELECT 1")
    assert [e.value for e in at.error] == [workbench.NOT_AN_ANALYST]
    assert not at.text_area and not at.button and not at.dataframe


def test_run_analyst_sql_outside_the_page(resources: Any) -> None:
    chloe, emma = resources.directory.get("chloe"), resources.directory.get("emma")
    with pytest.raises(BadInput, match="analyst"):
        workbench.run_analyst_sql("SELECT 1", emma, resources)
    with pytest.raises(BadInput, match="Write a SQL"):
        workbench.run_analyst_sql("  ", chloe, resources)
    # The analyst's own policy: restricted tables stay restricted in the workbench.
    hidden = workbench.run_analyst_sql("SELECT count(*) FROM warehouse.employees", chloe,
                                       resources)
    assert not hidden.verdict.allowed and not hidden.executed and hidden.error
    single = workbench.run_analyst_sql("SELECT count(*) AS n, count(*) AS n FROM"
                                       " warehouse.orders", chloe, resources)
    assert single.executed and single.chart.kind == "metric"
    assert list(workbench.result_frame(single).columns) == ["n", "n (2)"]


def test_a_successful_save_clears_the_earlier_refusal(page_resources: Any,
                                                      clean_verified: None) -> None:
    at = open_page("chloe")
    at.text_area(key="wb_sql").set_value("DELETE FROM warehouse.orders")
    at.button(key="wb_run").click().run()
    assert at.error and "Blocked by the SQL guard" in at.error[0].value
    at.text_input(key="wb_question").set_value("Orders per year")
    at.text_area(key="wb_sql").set_value(YEARLY)
    at.button(key="wb_save").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Saved verified query #")


def test_the_schema_browser_lists_what_the_analyst_may_query(page_resources: Any) -> None:
    chloe = page_resources.directory.get("chloe")
    tables = {t.name: t for t in workbench.schema_tables(page_resources, chloe)}
    assert "warehouse.orders" in tables and "warehouse.employees" not in tables
    assert any(c.comment for t in tables.values() for c in t.columns)
    at = open_page("chloe")
    browser = next(e for e in at.expander if e.label == "Tables you may query")
    assert any("warehouse.orders" in m.value for m in browser.markdown)
    assert not any("employees" in m.value for m in browser.markdown)
