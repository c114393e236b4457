"""Feedback and monitoring: how Sourced is used and where it fails.

Layout only; every query, frame and visibility rule is in agents/app/monitoring/. Tables show
their cells as text (no Markdown), so document titles and comments need no escaping here.
"""

from __future__ import annotations

import streamlit as st

from agents.app import monitoring
from agents.app.state import may_see_page, page_language, resources_or_stop, signed_in_user
from agents.ask.formats import format_value
from agents.errors import AssistantError
from agents.messages import say

lang = page_language()
st.title(say("monitoring.title", lang))

resources = resources_or_stop()
user = signed_in_user(resources)
# The navigation hides this page from other groups; a direct link must not open it either.
if not may_see_page(user, "monitoring"):
    st.error(say("pages.monitoring_forbidden", lang))
    st.stop()


def col(name: str) -> str:
    return monitoring.column(name, lang)


def count(value: int) -> str:
    return format_value(value, None, lang)


days = st.selectbox(say("monitoring.window", lang), monitoring.WINDOWS, index=2,
                    format_func=lambda d: monitoring.window_label(d, lang),
                    key="monitoring_window")
# A 90-day line of daily rates is mostly noise; weeks read better there.
bucket: monitoring.Bucket = "week" if days > 31 else "day"
try:
    # Sources and comments about documents this user may not read are withheld (see
    # agents/app/monitoring/visibility.py); every count is the same for every viewer.
    board = monitoring.load_dashboard(resources.app_pool, days, bucket=bucket, viewer=user)
except monitoring.MonitoringError as exc:
    st.error(exc.text(lang))
    st.stop()
except AssistantError as exc:
    st.error(exc.user_message)
    st.stop()

summary = board.summary
if not summary.has_any_log:
    st.info(say("monitoring.no_log", lang))
    st.stop()
if summary.questions == 0:
    st.info(say("monitoring.empty_window", lang,
                window=monitoring.window_label(days, lang).lower()))
    st.stop()

st.caption(say("monitoring.window_caption", lang, window=monitoring.window_label(days, lang),
               first=monitoring.day_text(board.window.first_day, lang),
               last=monitoring.day_text(board.window.last_day, lang)))
cards = st.columns(7)
cards[0].metric(say("monitoring.questions", lang), count(summary.questions),
                help=say("monitoring.questions_help", lang, users=summary.users))
cards[1].metric(say("monitoring.card.thumbs", lang),
                monitoring.share_text(summary.thumbs_up_rate, lang),
                delta=say("monitoring.votes", lang, votes=count(summary.votes)),
                delta_color="off", delta_arrow="off",
                help=say("monitoring.thumbs_help", lang, votes=count(summary.votes)))
cards[2].metric(say("monitoring.p50", lang), monitoring.duration_text(summary.p50_ms, lang),
                help=say("monitoring.p50_help", lang))
cards[3].metric(say("monitoring.p95", lang), monitoring.duration_text(summary.p95_ms, lang),
                help=say("monitoring.p95_help", lang))
cards[4].metric(say("monitoring.card.blocks", lang), count(summary.guard_blocks),
                help=say("monitoring.guard_blocks_help", lang))
cards[5].metric(col("refusals"), count(summary.refusals),
                help=say("monitoring.refusals_help", lang))
cards[6].metric(say("monitoring.errors", lang), count(summary.errors),
                help=say("monitoring.errors_help", lang))

st.subheader(say("monitoring.per_day", lang))
st.bar_chart(monitoring.routes_frame(board.routes, board.window, lang),
             y_label=say("monitoring.questions", lang))

left, right = st.columns(2)
with left:
    st.subheader(say("monitoring.latency", lang))
    latency = monitoring.latency_frame(board.latency, lang)
    st.bar_chart(latency[[col("p50"), col("p95")]], horizontal=True, stack=False, sort=False,
                 x_label="ms")
    st.caption(say("monitoring.latency_caption", lang))
with right:
    st.subheader(col("thumbs_rate"))
    if board.thumbs:
        thumbs = monitoring.thumbs_frame(board.thumbs, lang=lang)
        rate = col("thumbs_rate")
        if thumbs[rate].notna().any():
            st.line_chart(thumbs[[rate]].dropna() * 100,
                          y_label=say("monitoring.thumbs_axis", lang))
        st.caption(say(f"monitoring.thumbs_caption_{bucket}", lang,
                       min=monitoring.MIN_VOTES_FOR_RATE))
        st.dataframe(monitoring.thumbs_table(thumbs), hide_index=True, height=200,
                     column_config={rate: st.column_config.NumberColumn(format="percent")})
    else:
        st.caption(say("monitoring.no_votes", lang))

left, right = st.columns(2)
with left:
    st.subheader(say("monitoring.blocks_title", lang))
    st.bar_chart(monitoring.blocks_frame(board.blocks, board.window, lang),
                 y_label=say("monitoring.questions", lang))
    if board.reasons:
        st.dataframe(monitoring.reasons_frame(board.reasons, lang), hide_index=True)
with right:
    st.subheader(say("monitoring.errors_title", lang))
    if board.errors:
        st.bar_chart(monitoring.errors_frame(board.errors, lang), horizontal=True,
                     sort=f"-{col('answers')}")
    else:
        st.caption(say("monitoring.no_errors", lang))

st.subheader(say("monitoring.worst_title", lang))
if board.worst:
    st.dataframe(monitoring.worst_frame(board.worst, lang), hide_index=True)
else:
    st.caption(say("monitoring.no_thumbs_down", lang))

st.subheader(say("monitoring.ab_title", lang))
if board.variants:
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        monitoring.ab_frame(board.variants, lang), hide_index=True,
        column_config={col("thumbs_rate"): percent, col("win_rate"): percent,
                       col("ci_low"): percent, col("ci_high"): percent,
                       col("median_ms"): st.column_config.NumberColumn(format="%.0f")},
    )
    st.caption(say("monitoring.ab_caption", lang))
else:
    st.caption(say("monitoring.no_variants", lang))
