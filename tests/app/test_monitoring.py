"""Monitoring: exact aggregates over a known log, the Wilson interval, the demo log, the page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from streamlit.testing.v1 import AppTest

from agents.app import monitoring
from agents.app import state as app_state
from agents.app.monitoring import MonitoringError, wilson_interval
from agents.store.users import User
from seed_data.demo_log import seed_demo_log

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "monitoring.py")
UNTIL = datetime(2024, 3, 10, 18, 0, tzinfo=UTC)
D0, D1, D2 = date(2024, 3, 10), date(2024, 3, 9), date(2024, 3, 8)
BLOCK = "is not a query: DELETE statements are not allowed"
ALICE = User(login="alice", name="Alice", groups=frozenset({"exec", "finance"}))
CHLOE = User(login="chloe", name="Chloé", groups=frozenset({"analyst", "curator"}))
EMMA = User(login="emma", name="Emma")
MEMO = {"number": 1, "title": "Project Heron memo", "path": "docs/board/heron.md",
        "section": "Offer price", "page": None}
GRID = {"number": 1, "title": "Salary grid 2025", "path": "docs/hr/salary_grid.md",
        "section": "Bands", "page": None}
TRAVEL = {"number": 2, "title": "Travel policy", "path": "docs/hr/travel.md",
          "section": "Meals", "page": None}


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def log(conn: psycopg.Connection, asked_at: datetime, route: str, timings: dict[str, float],
        *, variant: str | None = None, **columns: Any) -> str:
    answer_id = str(uuid.uuid4())
    values = {"answer_id": answer_id, "asked_at": asked_at, "user_name": "alice",
              "question": f"q-{answer_id[:8]}", "route": route, "variant": variant,
              "mode": "test", "timings_ms": Jsonb(timings), **columns}
    if "sources" in values:
        values["sources"] = Jsonb(values["sources"])
    names = ", ".join(values)
    conn.execute(
        f"INSERT INTO app.query_log ({names}) VALUES ({', '.join(['%s'] * len(values))})",
        list(values.values()),
    )
    return answer_id


def vote(conn: psycopg.Connection, answer_id: str, user: str, rating: int, when: datetime,
         comment: str | None = None) -> None:
    conn.execute(
        "INSERT INTO app.feedback (answer_id, user_name, rating, comment, created_at)"
        " VALUES (%s, %s, %s, %s, %s)", (answer_id, user, rating, comment, when),
    )


def prefer(conn: psycopg.Connection, a: str, variant_a: str, b: str, variant_b: str,
           preferred: str, when: datetime) -> None:
    conn.execute(
        "INSERT INTO app.ab_preferences (user_name, question, answer_a, variant_a, answer_b,"
        " variant_b, preferred, created_at) VALUES ('bruno', 'q', %s, %s, %s, %s, %s, %s)",
        (a, variant_a, b, variant_b, preferred, when),
    )


def document(conn: psycopg.Connection, path: str, title: str, groups: list[str]) -> None:
    conn.execute(
        "INSERT INTO app.documents (source_root, path, title, content_hash, modified_at,"
        " language, acl_groups) VALUES ('docs', %s, %s, 'x', now(), 'en', %s)",
        (path, title, groups))


def restricted_feedback(conn: psycopg.Connection, day: date = D0) -> dict[str, str]:
    """Alice (exec) gives 👎 on an answer from the board memo, David (hr) on one from the
    salary grid; both documents and a public one are indexed."""
    document(conn, MEMO["path"], MEMO["title"], ["exec"])
    document(conn, GRID["path"], GRID["title"], ["hr"])
    document(conn, TRAVEL["path"], TRAVEL["title"], ["everyone"])
    memo = log(conn, at(day, 9), "docs", {"total": 5}, question="What is the Heron deal?",
               sources=[MEMO, TRAVEL], answer_text="The offer is EUR 42m [1].")
    vote(conn, memo, "alice", -1, at(day, 10), "Need the exact Heron offer price of EUR 42m")
    grid = log(conn, at(day, 11), "docs", {"total": 5}, user_name="david",
               question="What is band B?", sources=[GRID], answer_text="EUR 51k [1].")
    vote(conn, grid, "david", -1, at(day, 12), "Band B is wrong")
    return {"memo": memo, "grid": grid}


@pytest.fixture
def conn(fresh_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
def known(conn: psycopg.Connection) -> dict[str, str]:
    """A small log whose every aggregate is worked out by hand in the tests below."""
    r: dict[str, str] = {}
    r["r1"] = log(conn, at(D2, 9), "sql", {"plan": 10, "execute": 100, "total": 120},
                  variant="A", sql="SELECT 1")
    r["r2"] = log(conn, at(D2, 10), "sql", {"plan": 20, "execute": 300, "total": 330},
                  variant="B", sql="SELECT 2")
    r["r3"] = log(conn, at(D2, 11), "docs", {"retrieve": 50, "total": 60}, variant="A",
                  sources=[{"number": 1, "title": "Travel policy", "path": "hr/travel.md",
                            "section": "Meals", "page": None}])
    r["r4"] = log(conn, at(D1, 9), "sql", {"plan": 30, "guard": 5, "total": 40}, variant="A",
                  guard_allowed=False, guard_reason=BLOCK, error="GuardRejected")
    r["r5"] = log(conn, at(D1, 10), "refused", {"route": 1, "total": 2},
                  guard_reason="writing code")
    r["r6"] = log(conn, at(D1, 11), "both", {"plan": 40, "total": 500}, variant="B")
    r["r7"] = log(conn, at(D0, 9), "sql", {"total": 100}, variant="A", sql="SELECT 7")
    r["r8"] = log(conn, at(D0, 10), "sql", {"total": 200}, variant="B")
    r["r9"] = log(conn, at(D0, 11), "sql", {"total": 300}, variant="B", error="QueryTimeout")
    r["r10"] = log(conn, at(D0, 12), "docs", {"total": 80})
    r["r11"] = log(conn, at(D0, 13), "refused", {"total": 1}, guard_reason="writing code")
    # Outside a 3-day window ending at UNTIL: after it, and a week before it.
    r["late"] = log(conn, at(D0, 19), "sql", {"total": 9_999}, variant="A")
    r["old"] = log(conn, at(date(2024, 3, 1), 9), "docs", {"total": 9_999}, variant="A")

    vote(conn, r["r1"], "alice", 1, at(D2, 12))
    vote(conn, r["r2"], "bruno", -1, at(D2, 12), "Wrong year")
    vote(conn, r["r2"], "bruno", -1, at(D2, 13), "Still wrong")  # a second click: one vote
    vote(conn, r["r3"], "chloe", -1, at(D2, 12))
    vote(conn, r["r3"], "chloe", 1, at(D2, 14))  # changed her mind: the last vote counts
    vote(conn, r["r7"], "alice", -1, at(D0, 12), "Not what I asked")
    vote(conn, r["r7"], "david", -1, at(D0, 12))
    vote(conn, r["r7"], "emma", 1, at(D0, 12))
    vote(conn, r["r8"], "bruno", 1, at(D0, 12))
    vote(conn, r["r9"], "chloe", 1, at(D0, 12))
    vote(conn, r["old"], "alice", -1, at(date(2024, 3, 1), 10))

    # Compare mode: B beats A 8 times (seen from either side), A wins 2, 3 ties.
    when = at(D0, 14)
    for _ in range(5):
        prefer(conn, r["r7"], "A", r["r8"], "B", "b", when)
    for _ in range(3):
        prefer(conn, r["r8"], "B", r["r7"], "A", "a", when)
    for _ in range(2):
        prefer(conn, r["r7"], "A", r["r8"], "B", "a", when)
    for _ in range(3):
        prefer(conn, r["r7"], "A", r["r8"], "B", "tie", when)
    prefer(conn, r["r7"], "A", r["r1"], "A", "a", when)  # a variant against itself: no evidence
    prefer(conn, r["r7"], "A", r["r8"], "B", "a", at(date(2024, 3, 1), 12))  # outside
    return r


# ---------------------------------------------------------------- the Wilson interval


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    # Reference values: statsmodels' proportion_confint(k, n, method="wilson"), equal to the
    # roots of (k/n - p)^2 = z^2 p (1 - p) / n solved in 40-digit decimal arithmetic.
    (8, 10, 0.4901625, 0.9433178),
    (2, 10, 0.0566822, 0.5098375),
    (0, 10, 0.0, 0.2775328),
    (10, 10, 0.7224672, 1.0),
    (50, 100, 0.4038315, 0.5961685),
    (1, 1, 0.2065493, 1.0),
])
def test_wilson_interval_matches_known_values(successes: int, trials: int, low: float,
                                              high: float) -> None:
    got = wilson_interval(successes, trials)
    assert got == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(8, 10) == pytest.approx((0.490, 0.943), abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)  # nothing known yet
    narrow, wide = wilson_interval(80, 100), wilson_interval(8, 10)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    low90, high90 = wilson_interval(8, 10, confidence=0.90)
    assert wide[0] < low90 and high90 < wide[1]
    for bad in ((11, 10), (-1, 10), (1, -1)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


# ---------------------------------------------------------------- aggregates


def test_questions_per_day_by_route(conn: psycopg.Connection, known: dict[str, str]) -> None:
    counts = {(c.day, c.route): c.questions
              for c in monitoring.questions_per_day(conn, 3, until=UNTIL)}
    assert counts == {
        (D2, "sql"): 2, (D2, "docs"): 1,
        (D1, "sql"): 1, (D1, "refused"): 1, (D1, "both"): 1,
        (D0, "sql"): 3, (D0, "docs"): 1, (D0, "refused"): 1,
    }
    # A longer window reaches the old row (the late one is still after `until`).
    assert sum(c.questions for c in monitoring.questions_per_day(conn, 10, until=UNTIL)) == 12
    frame = monitoring.routes_frame(monitoring.questions_per_day(conn, 5, until=UNTIL),
                                    monitoring.Window(5, UNTIL))
    assert list(frame.columns) == ["sql", "docs", "both", "refused"]
    assert len(frame) == 5 and frame.loc["2024-03-06"].sum() == 0  # quiet days are zeros
    assert frame.loc["2024-03-10", "sql"] == 3


def test_stage_latency_percentiles(conn: psycopg.Connection, known: dict[str, str]) -> None:
    stages = {s.stage: s for s in monitoring.stage_latency(conn, 3, until=UNTIL)}
    assert [s.stage for s in monitoring.stage_latency(conn, 3, until=UNTIL)] == [
        "plan", "route", "guard", "execute", "retrieve", "total"]
    # plan: 10, 20, 30, 40 -> median 25; p95 at rank 0.95 * 3 = 2.85 -> 30 + 0.85 * 10.
    assert stages["plan"].samples == 4
    assert stages["plan"].p50_ms == pytest.approx(25.0)
    assert stages["plan"].p95_ms == pytest.approx(38.5)
    # total: 1 2 40 60 80 [100] 120 200 300 330 500 -> median 100; p95 at rank 9.5 -> 415.
    assert stages["total"].samples == 11
    assert stages["total"].p50_ms == pytest.approx(100.0)
    assert stages["total"].p95_ms == pytest.approx(415.0)
    assert stages["execute"].p50_ms == pytest.approx(200.0)


def test_guard_blocks_refusals_and_reasons(conn: psycopg.Connection,
                                           known: dict[str, str]) -> None:
    daily = monitoring.blocks_per_day(conn, 3, until=UNTIL)
    assert [(d.day, d.guard_blocks, d.refusals) for d in daily] == [(D1, 1, 1), (D0, 0, 1)]
    reasons = monitoring.top_reasons(conn, 3, until=UNTIL)
    assert [(r.kind, r.reason, r.count) for r in reasons] == [
        ("refusal", "writing code", 2), ("guard block", BLOCK, 1)]
    assert len(monitoring.top_reasons(conn, 3, until=UNTIL, limit=1)) == 1


def test_thumbs_up_rate_counts_the_last_vote_of_each_user(
        conn: psycopg.Connection, known: dict[str, str]) -> None:
    daily = monitoring.thumbs_over_time(conn, 3, until=UNTIL)
    assert [(p.period, p.up, p.down) for p in daily] == [(D2, 2, 1), (D0, 3, 2)]
    assert daily[0].rate == pytest.approx(2 / 3)
    assert daily[1].rate == pytest.approx(0.6)
    weekly = monitoring.thumbs_over_time(conn, 3, until=UNTIL, bucket="week")
    assert [(p.period, p.up, p.down) for p in weekly] == [(date(2024, 3, 4), 5, 3)]
    summary = monitoring.summary(conn, 3, until=UNTIL)
    assert (summary.votes, summary.thumbs_up) == (8, 5)
    assert summary.thumbs_up_rate == pytest.approx(0.625)


def test_worst_rated_answers(conn: psycopg.Connection, known: dict[str, str]) -> None:
    worst = monitoring.worst_rated(conn, 3, until=UNTIL, viewer=CHLOE)
    assert [w.answer_id for w in worst] == [known["r7"], known["r2"]]
    assert (worst[0].thumbs_down, worst[0].thumbs_up) == (2, 1)
    assert worst[0].comments == ("Not what I asked",)
    assert worst[0].sql == "SELECT 7"
    assert worst[1].comments == ("Wrong year", "Still wrong")
    frame = monitoring.worst_frame(worst)
    assert list(frame["SQL or sources"]) == ["SELECT 7", "SELECT 2"]
    assert "user" not in " ".join(frame.columns).lower()


def test_worst_rated_shows_sources_of_document_answers(conn: psycopg.Connection) -> None:
    document(conn, "docs/hr/travel.md", "Travel policy", ["everyone"])
    document(conn, "docs/legal/msa.pdf", "MSA", ["everyone"])
    answer = log(conn, at(D0, 9), "docs", {"total": 5},
                 sources=[{"title": "Travel policy", "path": "docs/hr/travel.md",
                           "section": "Meals", "page": None},
                          {"title": "MSA", "path": "docs/legal/msa.pdf", "section": None,
                           "page": 4}])
    vote(conn, answer, "emma", -1, at(D0, 10), "  outdated  ")
    (worst,) = monitoring.worst_rated(conn, 1, until=UNTIL, viewer=EMMA)
    assert worst.sources == ("Travel policy (Meals)", "MSA (p. 4)")
    assert worst.comments == ("outdated",)
    frame = monitoring.worst_frame([worst])
    assert frame["SQL or sources"][0] == "Travel policy (Meals); MSA (p. 4)"


def test_worst_rated_withholds_what_the_viewer_may_not_read(conn: psycopg.Connection) -> None:
    ids = restricted_feedback(conn)
    # A source without a path cannot be checked: withheld like a forbidden one.
    unknown = log(conn, at(D0, 13), "docs", {"total": 5},
                  sources=[{"title": "Old memo", "section": None, "page": None}])
    vote(conn, unknown, "alice", -1, at(D0, 14), "old")
    seen = {w.answer_id: w for w in monitoring.worst_rated(conn, 1, until=UNTIL, viewer=CHLOE)}
    assert set(seen) == {ids["memo"], ids["grid"], unknown}  # every row stays
    memo, grid = seen[ids["memo"]], seen[ids["grid"]]
    assert memo.sources == ("Travel policy (Meals)",)  # the readable source only
    assert memo.comments == () and memo.answer_text is None
    assert memo.question == "What is the Heron deal?"
    assert grid.sources == () and grid.comments == () and grid.answer_text is None
    assert seen[unknown].sources == () and seen[unknown].comments == ()

    mine = {w.answer_id: w for w in monitoring.worst_rated(conn, 1, until=UNTIL, viewer=ALICE)}
    assert mine[ids["memo"]].sources == ("Project Heron memo (Offer price)",
                                         "Travel policy (Meals)")
    assert mine[ids["memo"]].comments == ("Need the exact Heron offer price of EUR 42m",)
    assert mine[ids["memo"]].answer_text == "The offer is EUR 42m [1]."
    assert mine[ids["grid"]].sources == () and mine[ids["grid"]].comments == ()


def test_ab_table(conn: psycopg.Connection, known: dict[str, str]) -> None:
    a, b = monitoring.ab_table(conn, 3, until=UNTIL)
    assert (a.variant, a.answers, a.votes, a.thumbs_up) == ("A", 4, 5, 3)
    assert (b.variant, b.answers, b.votes, b.thumbs_up) == ("B", 4, 3, 2)
    assert a.thumbs_up_rate == pytest.approx(0.6)
    # Ties are excluded from the win rate: B won 8 of the 10 decided duels.
    assert (b.wins, b.losses, b.ties) == (8, 2, 3)
    assert (a.wins, a.losses, a.ties) == (2, 8, 3)
    assert b.win_rate == pytest.approx(0.8)
    assert b.win_interval == pytest.approx((0.490, 0.943), abs=5e-4)
    assert a.win_interval == pytest.approx((0.057, 0.510), abs=5e-4)
    # Median of the totals: A 40 60 | 100 120 -> 80; B 200 300 | 330 500 -> 315.
    assert a.median_ms == pytest.approx(80.0)
    assert b.median_ms == pytest.approx(315.0)
    frame = monitoring.ab_frame([a, b])
    assert list(frame["Variant"]) == ["A", "B"]
    assert frame.loc[1, "95% CI low"] == pytest.approx(0.4902, abs=1e-4)


def test_error_counts_and_summary(conn: psycopg.Connection, known: dict[str, str]) -> None:
    errors = monitoring.error_counts(conn, 3, until=UNTIL)
    assert [(e.kind, e.count) for e in errors] == [("GuardRejected", 1), ("QueryTimeout", 1)]
    summary = monitoring.summary(conn, 3, until=UNTIL)
    assert (summary.questions, summary.users, summary.guard_blocks, summary.refusals,
            summary.errors) == (11, 1, 1, 2, 2)
    assert summary.p50_ms == pytest.approx(100.0)
    assert summary.has_any_log
    board = monitoring.load_dashboard(conn, 3, until=UNTIL, viewer=CHLOE)
    assert board.summary == summary and len(board.variants) == 2


def test_an_empty_log(conn: psycopg.Connection) -> None:
    board = monitoring.load_dashboard(conn, 30, viewer=CHLOE)
    assert board.summary.questions == 0 and not board.summary.has_any_log
    assert board.summary.p50_ms is None and board.summary.thumbs_up_rate is None
    assert not (board.routes or board.latency or board.worst or board.variants or board.errors)
    assert monitoring.routes_frame(board.routes, board.window).to_numpy().sum() == 0
    assert monitoring.ab_frame(board.variants).empty


def test_a_failing_database_is_a_plain_error(pg_server: str) -> None:
    # The server's own database has no app schema.
    with psycopg.connect(pg_server) as conn:
        with pytest.raises(MonitoringError) as raised:
            monitoring.summary(conn, 7)
        assert "does not exist" in raised.value.user_message
        conn.execute("SELECT 1")  # the caller's connection is still usable
    with ConnectionPool("postgresql://nobody@127.0.0.1:1/none", min_size=1, timeout=0.5,
                        open=True, reconnect_timeout=1) as pool:
        with pytest.raises(MonitoringError) as raised:
            monitoring.load_dashboard(pool, 7, viewer=CHLOE)
        assert "did not answer" in raised.value.user_message


# ---------------------------------------------------------------- the demo log


def test_demo_log_is_deterministic_and_complete(fresh_db: str) -> None:
    def snapshot(conn: psycopg.Connection) -> tuple[Any, ...]:
        return (
            conn.execute("SELECT answer_id, asked_at, route, variant, timings_ms, error"
                         " FROM app.query_log ORDER BY answer_id").fetchall(),
            conn.execute("SELECT answer_id, user_name, rating, comment, created_at"
                         " FROM app.feedback ORDER BY feedback_id").fetchall(),
        )

    with psycopg.connect(fresh_db) as conn:
        # An open transaction turns the seeder's own into a savepoint, so rollback undoes it.
        conn.execute("SELECT 1")
        report = seed_demo_log(conn, 30, seed=7, until=UNTIL)
        first = snapshot(conn)
        conn.rollback()
        conn.execute("SELECT 1")
        assert seed_demo_log(conn, 30, seed=7, until=UNTIL) == report
        assert snapshot(conn) == first
        conn.rollback()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        report = seed_demo_log(conn, 30, until=UNTIL)
        board = monitoring.load_dashboard(conn, 30, until=UNTIL, viewer=CHLOE)
        dup_votes = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM app.feedback GROUP BY answer_id, user_name"
            " HAVING count(*) > 1) d").fetchone()[0]
    assert board.summary.questions == report.answers > 300  # every row inside the window
    assert {r.route for r in board.routes} == {"sql", "docs", "both", "refused"}
    assert [v.variant for v in board.variants] == ["A", "B"]
    assert all(v.decided > 0 and v.votes > 0 for v in board.variants)
    assert sum(v.wins for v in board.variants) + sum(v.ties for v in board.variants) // 2 \
        == report.preferences
    assert board.summary.guard_blocks > 0 and board.summary.refusals > 0
    assert {"GuardRejected", "not_understood"} <= {e.kind for e in board.errors}
    assert board.worst and any(w.comments for w in board.worst)
    assert dup_votes > 0  # some users change their mind, as in the app
    assert len({p.period for p in board.thumbs}) >= 25


# ---------------------------------------------------------------- the page


@pytest.fixture
def page_resources(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The page's shared resources, pointed at a fresh database.

    The page reads `agents.app.state.shared_resources` at each run, so replacing it here
    leaves st.cache_resource (shared by every AppTest in this process) untouched.
    """
    from agents.config import load_settings
    from agents.resources import build_resources

    resources = build_resources(load_settings(database_url=fresh_db), prepare=False)
    monkeypatch.setattr(app_state, "shared_resources", lambda: resources)
    yield resources
    resources.close()


def _page(viewer: User = CHLOE) -> AppTest:
    page = AppTest.from_file(PAGE, default_timeout=60)
    page.session_state[app_state.SIGNED_IN] = viewer
    return page


def _worst_table(page: AppTest) -> Any:
    return next(d.value for d in page.dataframe if "Comments" in d.value.columns)


def test_page_withholds_documents_the_viewer_may_not_read(page_resources: Any) -> None:
    with page_resources.app_pool.connection() as conn:
        restricted_feedback(conn, datetime.now(UTC).date() - timedelta(days=1))
    page = _page(CHLOE)
    page.run()
    assert not page.exception and not page.error
    table = _worst_table(page)
    shown = " ".join(str(v) for v in table.to_numpy().ravel())
    assert "Heron memo" not in shown and "Salary grid" not in shown
    assert "Offer price" not in shown and "Bands" not in shown
    assert "EUR 42m" not in shown and "Band B is wrong" not in shown
    assert "Travel policy (Meals)" in shown  # what Chloé may read stays
    assert len(table) == 2  # the rows themselves stay

    page = _page(ALICE)
    page.run()
    shown = " ".join(str(v) for v in _worst_table(page).to_numpy().ravel())
    assert "Project Heron memo (Offer price)" in shown
    assert "Need the exact Heron offer price of EUR 42m" in shown
    assert "Salary grid" not in shown and "Band B is wrong" not in shown


def test_page_refuses_users_outside_its_groups(page_resources: Any) -> None:
    with page_resources.app_pool.connection() as conn:
        restricted_feedback(conn, datetime.now(UTC).date() - timedelta(days=1))
    page = _page(EMMA)
    page.run()
    assert not page.exception
    assert [e.value for e in page.error] == [
        "Monitoring is for members of the analyst and exec groups. Ask one of them if you need "
        "these figures."]
    assert not page.metric and not page.dataframe and not page.selectbox


def test_page_renders_a_seeded_log(page_resources: Any) -> None:
    with page_resources.app_pool.connection() as conn:
        # One day short of the page's 30-day window, so a midnight in between loses nothing.
        report = seed_demo_log(conn, 29)
    page = _page()
    page.run()
    assert not page.exception
    assert not page.error
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Questions"] == f"{report.answers:,}"
    assert metrics["Thumbs-up rate"].endswith("%")
    assert {"Latency p50", "Latency p95", "Guard blocks", "Refusals", "Errors"} <= set(metrics)
    frames = [d.value for d in page.dataframe]
    ab = next(f for f in frames if "Win rate" in f.columns)
    assert list(ab["Variant"]) == ["A", "B"]
    assert ab["95% CI low"].between(0, 1).all()
    assert any("Comments" in f.columns for f in frames)  # the worst-rated answers
    subheaders = [s.value for s in page.subheader]
    assert "A/B variants" in subheaders and "Worst-rated answers" in subheaders

    page.selectbox[0].set_value(90).run()  # weekly thumbs, still no traceback
    assert not page.exception and not page.error
    assert page.metric[0].value == f"{report.answers:,}"


def test_page_shows_the_empty_state(page_resources: Any) -> None:
    page = _page()
    page.run()
    assert not page.exception
    assert any("No questions logged yet" in i.value for i in page.info)
    assert not page.metric and not page.dataframe


def test_page_says_when_the_window_is_empty(page_resources: Any) -> None:
    with page_resources.app_pool.connection() as conn:
        log(conn, datetime.now(UTC) - timedelta(days=60), "sql", {"total": 5})
    page = _page()
    page.run()
    assert not page.exception
    assert any("No questions in this window" in i.value for i in page.info)


def test_page_survives_a_failing_database(pg_server: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> Any:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(app_state, "shared_resources", unreachable)
    page = _page()
    page.run()
    assert not page.exception
    assert "cannot be reached" in page.error[0].value

    # Reachable, but without the app schema: the page says so in a sentence.
    with ConnectionPool(pg_server, min_size=1, open=True, timeout=5) as pool:
        monkeypatch.setattr(app_state, "shared_resources",
                            lambda: SimpleNamespace(app_pool=pool))
        page = _page(CHLOE)
        page.run()
    assert not page.exception
    assert "query log does not exist" in page.error[0].value


def test_worst_answers_redact_secrets_logged_before_redaction(seeded: str, resources: Any) -> None:
    """A row written before questions were redacted at the write is redacted when shown."""
    from agents.app.monitoring.queries import worst_rated

    key = "sk-proj-" + "Z" * 24
    with psycopg.connect(seeded, autocommit=True) as conn:
        answer_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO app.query_log (answer_id, user_name, question, route, mode, answer_text)"
            " VALUES (%s, 'alice', %s, 'sql', 'offline', 'ok')",
            (answer_id, f"revenue 2019 my key {key} password=hunter22"))
        conn.execute("INSERT INTO app.feedback (answer_id, user_name, rating, comment)"
                     " VALUES (%s, 'alice', -1, %s)", (answer_id, f"token {key}"))
    try:
        rows = worst_rated(resources.app_pool, 30, viewer=resources.directory.get("alice"))
        mine = [r for r in rows if r.answer_id == answer_id]
        assert mine
        shown = mine[0].question + " ".join(mine[0].comments)
        assert key not in shown and "hunter22" not in shown
    finally:
        with psycopg.connect(seeded, autocommit=True) as conn:
            conn.execute("DELETE FROM app.feedback WHERE answer_id = %s", (answer_id,))
            conn.execute("DELETE FROM app.query_log WHERE answer_id = %s", (answer_id,))
