"""SQL workbench (analysts): run guarded SQL, save verified queries, review corrections.

Widgets and layout only; the guard, the execution and the review rules live in
agents/app/workbench.py.
"""

from __future__ import annotations

import streamlit as st

from agents.app import workbench
from agents.app.chat import pretty_sql
from agents.app.markup import plain_text
from agents.app.state import page_language, resources_or_stop, signed_in_user
from agents.ask.formats import format_value
from agents.errors import AssistantError
from agents.messages import say
from agents.sql.verified import is_analyst

lang = page_language()
st.title(say("workbench.title", lang))

resources = resources_or_stop()

user = signed_in_user(resources)
# The navigation hides this page from non-analysts; a direct link must not open it either.
if not is_analyst(user):
    st.error(say("workbench.not_an_analyst", lang))
    st.stop()

st.caption(say("workbench.caption", lang,
               rows=format_value(resources.settings.max_rows, None, lang)))
flash = st.session_state.pop("workbench_flash", None)
if flash:
    st.success(flash)

# The chat's "Open in SQL workbench" writes workbench_sql / workbench_question. Keyed widgets
# ignore a changed default, so new text is copied into their state, once per new value: the
# analyst's edits survive reruns until the chat sends something else.
for source, widget in (("workbench_sql", "wb_sql"), ("workbench_question", "wb_question")):
    incoming = st.session_state.get(source) or ""
    if widget not in st.session_state or incoming != st.session_state.get(f"_{widget}_loaded"):
        st.session_state[widget] = incoming
        st.session_state[f"_{widget}_loaded"] = incoming

with st.form("wb_editor", border=False):
    question = st.text_input(say("workbench.question", lang), key="wb_question")
    sql = st.text_area("SQL", key="wb_sql", height=220,
                       placeholder="SELECT … FROM warehouse.orders …")
    # One row sized to the labels: fixed columns cut the longer French one short.
    with st.container(horizontal=True):
        run_clicked = st.form_submit_button(say("workbench.run", lang), type="primary",
                                            key="wb_run")
        save_clicked = st.form_submit_button(say("workbench.save", lang), key="wb_save")

if run_clicked or save_clicked:
    # What the analyst submitted becomes the page's text, so leaving and coming back keeps it.
    for source, widget, value in (("workbench_sql", "wb_sql", sql),
                                  ("workbench_question", "wb_question", question)):
        st.session_state[source] = value
        st.session_state[f"_{widget}_loaded"] = value

if run_clicked:
    try:
        st.session_state["workbench_run"] = workbench.run_analyst_sql(sql, user, resources, lang)
    except AssistantError as exc:
        st.session_state.pop("workbench_run", None)
        st.error(exc.user_message)

if save_clicked:
    try:
        saved = workbench.save_query(resources, user, question, sql)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:
        st.session_state["workbench_flash"] = say("workbench.saved", lang, id=saved.verified_id,
                                                  question=saved.question)
        stale = st.session_state.get("workbench_run")
        if stale is not None and stale.error:  # an earlier refusal no longer applies
            st.session_state.pop("workbench_run", None)
        st.rerun()

run: workbench.WorkbenchRun | None = st.session_state.get("workbench_run")
if run is not None:
    if run.error:
        st.error(run.error)
    else:
        frame = workbench.result_frame(run)
        st.caption(workbench.rows_line(run, lang))
        with st.expander(say("workbench.sql_as_run", lang)):
            st.code(pretty_sql(run.verdict.sql), language="sql")
        if run.chart.kind == "metric" and run.rows and run.chart.y:
            figure = run.chart.y[0]
            st.metric(figure, format_value(run.rows[0][run.columns.index(figure)], None, lang))
        st.dataframe(frame, hide_index=True, column_config={
            name: st.column_config.NumberColumn(format=fmt)
            for name, fmt in workbench.number_formats(run).items()})
        plot = workbench.run_chart(run, lang)
        if plot is not None:
            st.altair_chart(plot, width="stretch")

with st.expander(say("workbench.tables", lang)):
    try:
        tables = workbench.schema_tables(resources, user, lang)
    except AssistantError as exc:
        st.error(exc.user_message)
        tables = []
    for table in tables:
        st.markdown(f"**`{table.name}`**" + (f" — {plain_text(table.comment)}"
                                             if table.comment else ""))
        st.dataframe(workbench.columns_frame(table, lang), hide_index=True)

st.divider()
st.subheader(say("workbench.review_queue", lang))
st.caption(say("workbench.review_caption", lang))
try:
    reviews = workbench.review_queue(resources, user, lang)
except AssistantError as exc:
    st.error(exc.user_message)
    reviews = []
if not reviews:
    st.caption(say("workbench.nothing_to_review", lang))
# What users wrote is shown as text (plain_text): a question or comment cannot plant an
# image or a link. Who raised a review about a document this analyst may not read, and their
# comment, are withheld (agents/app/workbench.py).
for review in reviews:
    title = f"#{review.review_id} · {plain_text(review.question)}"
    with st.expander(title, expanded=len(reviews) <= 3):
        when = f"{review.created_at:%Y-%m-%d %H:%M}"
        st.markdown(say("pages.review_raised_by", lang, who=plain_text(review.proposed_by),
                        when=when) if review.proposed_by
                    else say("pages.review_raised_on", lang, when=when))
        if review.comment:
            st.markdown(f"> {plain_text(review.comment)}")
        if review.original_sql:
            st.markdown(say("workbench.original_sql", lang))
            st.code(pretty_sql(review.original_sql), language="sql")
        if review.proposed_sql:
            st.markdown(say("workbench.proposed_sql", lang))
            st.code(pretty_sql(review.proposed_sql), language="sql")
        with st.form(f"wb_review_{review.review_id}", border=False):
            corrected = st.text_area(
                say("workbench.sql_to_approve", lang),
                value=pretty_sql(review.proposed_sql or review.original_sql),
                key=f"wb_review_sql_{review.review_id}", height=160)
            note = st.text_input(say("workbench.note", lang),
                                 key=f"wb_review_note_{review.review_id}")
            with st.container(horizontal=True):
                tried = st.form_submit_button(say("workbench.try", lang),
                                              key=f"wb_try_{review.review_id}")
                approved = st.form_submit_button(
                    say("workbench.approve", lang), type="primary",
                    key=f"wb_approve_{review.review_id}")
                rejected = st.form_submit_button(
                    say("workbench.reject", lang), key=f"wb_reject_{review.review_id}")
        if tried:
            try:
                st.session_state[f"wb_review_run_{review.review_id}"] = \
                    workbench.run_analyst_sql(corrected, user, resources, lang)
            except AssistantError as exc:
                st.error(exc.user_message)
        trial = st.session_state.get(f"wb_review_run_{review.review_id}")
        if trial is not None:  # what approving would make later answers show
            if trial.error:
                st.error(trial.error)
            else:
                st.caption(say("workbench.trial", lang,
                               rows=format_value(len(trial.rows), None, lang)))
                st.dataframe(workbench.result_frame(trial), hide_index=True, column_config={
                    name: st.column_config.NumberColumn(format=fmt)
                    for name, fmt in workbench.number_formats(trial).items()})
        try:
            if approved:
                verified = workbench.approve(resources, user, review.review_id, corrected)
                st.session_state["workbench_flash"] = say(
                    "workbench.approved", lang, id=review.review_id,
                    verified=verified.verified_id)
                st.rerun()
            if rejected:
                workbench.reject(resources, user, review.review_id, note)
                st.session_state["workbench_flash"] = say("workbench.rejected", lang,
                                                          id=review.review_id)
                st.rerun()
        except AssistantError as exc:
            st.error(exc.user_message)

st.divider()
st.subheader(say("workbench.verified", lang))
try:
    verified_list = workbench.verified_queries(resources, user)
except AssistantError as exc:
    st.error(exc.user_message)
    verified_list = []
if verified_list:
    st.dataframe(workbench.verified_frame(verified_list, lang), hide_index=True)
else:
    st.caption(say("workbench.no_verified", lang))
