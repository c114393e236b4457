"""Feedback and monitoring: how Sourced is used and where it fails.

Layout only; every query, frame and visibility rule is in agents/app/monitoring/. Tables show
their cells as text (no Markdown), so document titles and comments need no escaping here.
"""

from __future__ import annotations

import streamlit as st

from agents.app import monitoring
from agents.app.state import may_see_page, resources_or_stop, signed_in_user
from agents.errors import AssistantError
from agents.messages import say

st.title("Feedback and monitoring")

resources = resources_or_stop()
user = signed_in_user(resources)
# The navigation hides this page from other groups; a direct link must not open it either.
if not may_see_page(user, "monitoring"):
    st.error(say("pages.monitoring_forbidden", "en"))
    st.stop()


def _window_label(days: int) -> str:
    return "Today (UTC)" if days == 1 else f"Last {days} days"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:,.1f} s"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


days = st.selectbox("Window", monitoring.WINDOWS, index=2, format_func=_window_label,
                    key="monitoring_window")
# A 90-day line of daily rates is mostly noise; weeks read better there.
bucket: monitoring.Bucket = "week" if days > 31 else "day"
try:
    # Sources and comments about documents this user may not read are withheld (see
    # agents/app/monitoring/visibility.py); every count is the same for every viewer.
    board = monitoring.load_dashboard(resources.app_pool, days, bucket=bucket, viewer=user)
except AssistantError as exc:
    st.error(exc.user_message)
    st.stop()

summary = board.summary
if not summary.has_any_log:
    st.info("No questions logged yet. Every question asked in the chat shows up here; for a "
            "demo, `python -m seed_data.demo_log` writes a month of synthetic activity.")
    st.stop()
if summary.questions == 0:
    st.info(f"No questions in this window ({_window_label(days).lower()}); pick a longer one.")
    st.stop()

st.caption(f"{_window_label(days)}: {board.window.first_day:%d %b %Y} to "
           f"{board.window.last_day:%d %b %Y}, by the day each question was asked (UTC).")
cards = st.columns(7)
cards[0].metric("Questions", f"{summary.questions:,}", help=f"Asked by {summary.users} users.")
cards[1].metric("Thumbs-up rate", _share(summary.thumbs_up_rate),
                delta=f"{summary.votes:,} votes", delta_color="off", delta_arrow="off",
                help=f"{summary.votes:,} votes; only the current (last) vote of each user on "
                     "an answer counts.")
cards[2].metric("Latency p50", _ms(summary.p50_ms), help="Total time per answer, median.")
cards[3].metric("Latency p95", _ms(summary.p95_ms), help="95% of answers were faster.")
cards[4].metric("Guard blocks", f"{summary.guard_blocks:,}",
                help="Generated SQL the guard refused to run.")
cards[5].metric("Refusals", f"{summary.refusals:,}",
                help="Questions refused: off-topic, unsafe, SQL typed in the chat, bad input.")
cards[6].metric("Errors", f"{summary.errors:,}",
                help="Answers that ended with an error of any kind (guard blocks included).")

st.subheader("Questions per day by route")
st.bar_chart(monitoring.routes_frame(board.routes, board.window), y_label="Questions")

left, right = st.columns(2)
with left:
    st.subheader("Latency per stage")
    latency = monitoring.latency_frame(board.latency)
    st.bar_chart(latency[["p50 (ms)", "p95 (ms)"]], horizontal=True, stack=False, sort=False,
                 x_label="ms")
    st.caption("Continuous percentiles over the answers that went through each stage.")
with right:
    st.subheader("Thumbs-up rate")
    if board.thumbs:
        thumbs = monitoring.thumbs_frame(board.thumbs)
        if thumbs["Thumbs-up rate"].notna().any():
            st.line_chart(thumbs[["Thumbs-up rate"]].dropna() * 100, y_label="Thumbs up (%)")
        st.caption(f"Per {bucket} the answers were asked; a {bucket} with fewer than "
                   f"{monitoring.MIN_VOTES_FOR_RATE} votes has no point (its rate would swing "
                   "0–100%).")
        st.dataframe(monitoring.thumbs_table(thumbs), hide_index=True, height=200,
                     column_config={"Thumbs-up rate": st.column_config.NumberColumn(
                         format="percent")})
    else:
        st.caption("No votes in this window.")

left, right = st.columns(2)
with left:
    st.subheader("Guard blocks and refusals")
    st.bar_chart(monitoring.blocks_frame(board.blocks, board.window), y_label="Questions")
    if board.reasons:
        st.dataframe(monitoring.reasons_frame(board.reasons), hide_index=True)
with right:
    st.subheader("Errors by kind")
    if board.errors:
        st.bar_chart(monitoring.errors_frame(board.errors), horizontal=True, sort="-Answers")
    else:
        st.caption("No errors in this window.")

st.subheader("Worst-rated answers")
if board.worst:
    st.dataframe(monitoring.worst_frame(board.worst), hide_index=True)
else:
    st.caption("No thumbs down in this window.")

st.subheader("A/B variants")
if board.variants:
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        monitoring.ab_frame(board.variants), hide_index=True,
        column_config={"Thumbs-up rate": percent, "Win rate": percent,
                       "95% CI low": percent, "95% CI high": percent,
                       "Median latency (ms)": st.column_config.NumberColumn(format="%.0f")},
    )
    st.caption("Win rate: the share of compare-mode duels a variant won, ties excluded (a tie "
               "says neither answer was better), with Wilson's 95% score interval. With two "
               "variants one's wins are the other's losses: the data favours a variant only "
               "when its interval lies entirely above 50%.")
else:
    st.caption("No answer in this window carries a variant: A/B testing is off.")
