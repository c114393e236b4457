"""Sourced: the chat. Widgets and layout only; every query, rule and model call lives in agents/."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from agents.answer import Answer, answer_table, source_line
from agents.app_state import shared_resources
from agents.errors import AssistantError
from agents.pipeline import ask
from agents.store import record_feedback

EXAMPLES = [
    "What was total revenue in 2018?",
    "Chiffre d'affaires par région et par trimestre en 2021",
    "Top 5 products by gross margin last year",
    "Combien de clients actifs en 2017 ?",
    "How many days of remote work are allowed per week?",
]
STREAMLIT_FORMATS = {"eur": "euro", "percent": "percent", "count": "localized",
                     "score": "%.2f", "hours": "%.1f h"}


@dataclass
class Turn:
    question: str
    answer: Answer


st.set_page_config(page_title="Sourced", page_icon="📊", layout="wide")

try:
    resources = shared_resources()
except AssistantError as exc:
    st.error(exc.user_message)
    st.stop()

with st.sidebar:
    st.title("Sourced")
    st.caption("Answers from the warehouse (with their SQL) and from documents (with sources).")
    logins = sorted(resources.directory.users)
    st.badge("demo mode", color="orange")
    login = st.selectbox("Signed in as (demo)", logins, key="login",
                         format_func=lambda u: f"{resources.directory.users[u].name} ({u})")
    user = resources.directory.users[login]
    # Widget keys are dropped on other pages; this plain key carries the user to them.
    st.session_state["user_login"] = login
    st.write("Groups: " + ", ".join(sorted(user.all_groups)))
    if user.scope_region:
        st.write(f"Data scope: region {user.scope_region}")
    st.write(f"Mode: **{resources.settings.mode}**")
    st.subheader("Try")
    for example in EXAMPLES:
        if st.button(example, key=f"ex-{example}", use_container_width=True):
            st.session_state["pending"] = example

history: list[Turn] = st.session_state.setdefault("history", [])


def render_answer(answer: Answer, index: int) -> None:
    st.markdown(answer.text)
    if answer.columns:
        headers, rows = answer_table(answer)
        frame = pd.DataFrame(rows, columns=headers)
        config = {
            answer.column_labels.get(c, h): st.column_config.NumberColumn(
                format=STREAMLIT_FORMATS[answer.column_formats[c]])
            for c, h in zip(answer.columns, headers, strict=True)
            if answer.column_formats.get(c) in STREAMLIT_FORMATS
        }
        chart = answer.chart
        if chart.kind == "metric" and rows:
            st.metric(headers[0], _short(answer, 0))
        st.dataframe(frame, hide_index=True, column_config=config)
        if chart.kind in ("line", "bar") and chart.x and chart.y:
            x = answer.column_labels.get(chart.x, chart.x)
            y = [answer.column_labels.get(c, c) for c in chart.y]
            plot = frame.set_index(x)[y]
            (st.line_chart if chart.kind == "line" else st.bar_chart)(plot)
        if answer.truncated:
            st.caption(f"Truncated at {answer.row_cap:,} rows.")
        st.download_button("Download CSV", frame.to_csv(index=False), f"sourced-{index}.csv",
                           "text/csv", key=f"csv-{answer.answer_id}")
    if answer.explanation:
        st.caption(answer.explanation)
    if answer.sql:
        with st.expander("SQL"):
            st.code(answer.sql, language="sql")
    for source in answer.sources:
        with st.expander(source_line(source, answer.lang)):
            st.markdown(source.passage)
    if answer.origin:
        st.caption(answer.origin.capitalize())
    left, right, _ = st.columns([1, 1, 6])
    if left.button("👍", key=f"up-{answer.answer_id}"):
        _feedback(answer, 1)
    if right.button("👎", key=f"down-{answer.answer_id}"):
        _feedback(answer, -1)


def _short(answer: Answer, column: int) -> str:
    from agents.answer import format_value

    name = answer.columns[column]
    return format_value(answer.rows[0][column], answer.column_formats.get(name), answer.lang)


def _feedback(answer: Answer, rating: int) -> None:
    try:
        record_feedback(resources.app_pool, answer.answer_id, answer.user, rating)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:
        st.toast("Thanks, your feedback was saved.")


for i, turn in enumerate(history):
    with st.chat_message("user"):
        st.markdown(turn.question)
    with st.chat_message("assistant"):
        render_answer(turn.answer, i)

question = st.chat_input("Ask about revenue, customers, orders… or the company's documents")
question = question or st.session_state.pop("pending", None)
if question:
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"), st.spinner("Looking…"):
        answer = ask(question, login, resources)
        history.append(Turn(question, answer))
        render_answer(answer, len(history) - 1)
