"""The chat: questions, answers with their table, chart, SQL and sources, feedback, regenerate,
and the A/B compare mode. Widgets and layout only; every rule lives in agents/.

Follow-up questions: each new question is asked with the last answer shown as its context
(`follow_up_of`), until the user starts a new topic; the pipeline decides whether it uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from agents.app.markup import plain_text, safe_markdown
from agents.app.state import may_see_page, resources_or_stop, signed_in_user
from agents.ask.answer import Answer, answer_table, shown_text, source_line
from agents.ask.formats import format_value
from agents.ask.stream import AnswerStream
from agents.ask.understood import highlighted, markdown_literal
from agents.errors import AssistantError
from agents.messages import say
from agents.models.providers import variants
from agents.store.query_log import record_feedback, record_preference

EXAMPLES = [
    "What was total revenue in 2018?",
    "Chiffre d'affaires par région et par trimestre en 2021",
    "Top 5 products by gross margin last year",
    "Combien de clients actifs en 2017 ?",
    "How many days of remote work are allowed per week?",
    "Que dit la politique de notes de frais sur les repas ?",
]
STREAMLIT_FORMATS = {"eur": "euro", "percent": "percent", "count": "localized",
                     "score": "%.2f", "hours": "%.1f h"}


@dataclass
class Turn:
    question: str
    answer: Answer
    rival: Answer | None = None  # compare mode: the other variant's answer
    preferred: str | None = None
    follow_up_of: str | None = None  # the context it was asked with: a regenerate keeps it


resources = resources_or_stop()
user = signed_in_user(resources)
settings = resources.settings
arms = variants(settings)
can_compare = settings.llm_enabled and len(arms) == 2

with st.sidebar:
    compare = st.toggle("Compare two variants", key="compare", disabled=not can_compare,
                        help="Ask both A/B variants and say which answer is better."
                        if can_compare else "Needs a model and two variants configured.")
    st.subheader("Try")
    for example in EXAMPLES:
        if st.button(example, key=f"ex-{example}", use_container_width=True):
            st.session_state["pending"] = example
    if st.button("Clear the conversation"):
        st.session_state["history"] = []
        st.session_state["topic_starts"] = []

history: list[Turn] = st.session_state.setdefault("history", [])
# Where a new topic starts: the index in `history` of its first turn (maybe one still to come).
topic_starts: list[int] = st.session_state.setdefault("topic_starts", [])
last_lang = history[-1].answer.lang if history else "en"
with st.sidebar:
    if st.button(say("app.new_topic", last_lang), key="new-topic", disabled=not history,
                 help=say("app.new_topic_help", last_lang)) and len(history) not in topic_starts:
        topic_starts.append(len(history))


def context_now() -> str | None:
    """The answer a new question follows up: the last one shown, unless a new topic started."""
    if not history or len(history) in topic_starts:
        return None
    return history[-1].answer.answer_id


def render_answer(answer: Answer, *, show_text: bool = True, actions: bool = True) -> None:
    if answer.regenerated_from:
        st.caption("↻ Regenerated answer")
    if answer.follow_up_of:  # set only when the pipeline used the context
        st.caption(say("app.follow_up_of", answer.lang))
    _render_reading(answer)
    if show_text:
        st.markdown(safe_markdown(shown_text(answer)))
    _render_suggestions(answer)
    if answer.verified_by:
        st.success(f"✔ {answer.verified_by}", icon="✅")
    if answer.columns:
        _render_table(answer)
    # A not-understood answer has no definition to show: its explanation is the problem, said
    # in the text already.
    if answer.explanation and answer.error != "not_understood":
        st.caption(("Definition used: " if answer.sql_source != "verified" else "")
                   + answer.explanation)
    if answer.sql:
        with st.expander("SQL"):
            st.code(answer.sql, language="sql")
            if may_see_page(user, "workbench") and st.button(
                    "Open in SQL workbench", key=f"wb-{answer.answer_id}"):
                st.session_state["workbench_sql"] = answer.sql
                st.session_state["workbench_question"] = answer.question
                st.switch_page("pages/workbench.py")
    if answer.sources:
        st.markdown("**Sources**")
        for source in answer.sources:
            # Documents are data, not markup: no remote image or link from a passage renders.
            with st.expander(safe_markdown(source_line(source, answer.lang))):
                st.markdown(plain_text(source.passage))
    origin = answer.origin.capitalize() if answer.origin else ""
    variant = f" · variant {answer.variant}" if answer.variant and settings.llm_enabled else ""
    if origin or variant:
        st.caption(f"{origin}{variant} · {answer.mode}")
    if actions:
        _render_actions(answer)


def _render_reading(answer: Answer) -> None:
    """What a data answer understood, and the words it did not, above everything else."""
    if answer.understood_as:
        st.caption(say("app.understood_as", answer.lang,
                       text=markdown_literal(answer.understood_as)))
    if answer.not_understood:
        st.markdown(say("app.not_understood", answer.lang,
                        words=highlighted(answer.not_understood)))


def _render_suggestions(answer: Answer) -> None:
    """Close questions as buttons: a click asks it, as the sidebar's examples do."""
    for i, suggestion in enumerate(answer.suggestions):
        if st.button(suggestion, key=f"sug-{answer.answer_id}-{i}"):
            st.session_state["pending"] = suggestion


def _render_table(answer: Answer) -> None:
    headers, rows = answer_table(answer)
    frame = pd.DataFrame(rows, columns=headers)
    config = {
        h: st.column_config.NumberColumn(format=STREAMLIT_FORMATS[answer.column_formats[c]])
        for c, h in zip(answer.columns, headers, strict=True)
        if answer.column_formats.get(c) in STREAMLIT_FORMATS
    }
    chart = answer.chart
    if chart.kind == "metric" and rows and chart.y:
        index = answer.columns.index(chart.y[0])
        st.metric(headers[index], format_value(answer.rows[0][index],
                                               answer.column_formats.get(chart.y[0]),
                                               answer.lang))
    st.dataframe(frame, hide_index=True, column_config=config)
    if chart.kind in ("line", "bar") and chart.x and chart.y:
        labels = dict(zip(answer.columns, headers, strict=True))
        x, y = labels.get(chart.x, chart.x), [labels.get(c, c) for c in chart.y]
        plot = frame.set_index(x)[y]
        (st.line_chart if chart.kind == "line" else st.bar_chart)(plot)
    if answer.truncated:
        st.caption(f"Truncated at {answer.row_cap:,} rows.")
    st.download_button("Download CSV", frame.to_csv(index=False),
                       f"sourced-{answer.answer_id[:8]}.csv", "text/csv",
                       key=f"csv-{answer.answer_id}")


def _render_actions(answer: Answer) -> None:
    up, down, again, _ = st.columns([1, 1, 2, 6])
    if up.button("👍", key=f"up-{answer.answer_id}", help="A good answer"):
        _feedback(answer, 1, None, None)
    with down.popover("👎", help="A wrong or unhelpful answer"), \
            st.form(f"down-{answer.answer_id}", clear_on_submit=True):
            comment = st.text_area("What is wrong? (optional)")
            corrected = (st.text_area("Corrected SQL (optional, reviewed by an analyst)")
                         if answer.sql and may_see_page(user, "workbench") else None)
            if st.form_submit_button("Send"):
                _feedback(answer, -1, comment, corrected)
    if again.button("↻ Regenerate", key=f"again-{answer.answer_id}",
                    help="Ask again (with a model: warmer, or the other variant)"):
        st.session_state["regenerate"] = answer.answer_id


def _feedback(answer: Answer, rating: int, comment: str | None, corrected: str | None) -> None:
    try:
        record_feedback(resources.app_pool, answer.answer_id, user.login, rating,
                        comment=comment, corrected_sql=corrected)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:  # only once the row is committed
        st.toast("Thanks, your feedback was saved." + (
            " An analyst will review it." if rating < 0 else ""))


def _stream_safely(stream: AnswerStream) -> None:
    """The model's words as they come, made safe as a whole each time: a link or an image split
    across two tokens must not render either."""
    box, text = st.empty(), ""
    for token in stream.tokens():
        text += token
        box.markdown(safe_markdown(text))


def _ask_and_show(question: str, *, regenerated_from: str | None = None,
                  variant: str | None = None, follow_up_of: str | None = None) -> Answer:
    """Ask; with a model the words appear as they come, then the rest of the answer."""
    stream = AnswerStream(question, user, resources, regenerated_from=regenerated_from,
                          variant=variant, follow_up_of=follow_up_of)
    if settings.llm_enabled:
        _stream_safely(stream)
        answer = stream.result()
        if answer.error:  # the stream showed nothing useful: show the plain message
            st.markdown(safe_markdown(shown_text(answer)))
        render_answer(answer, show_text=False, actions=False)
    else:
        with st.spinner("Looking…"):
            answer = stream.result()
        render_answer(answer, actions=False)
    return answer


def _render_compare(turn: Turn, index: int) -> None:
    left, right = st.columns(2)
    for column, label, answer in ((left, "A", turn.answer), (right, "B", turn.rival)):
        with column:
            st.markdown(f"**Answer {label}** (variant {answer.variant if answer else '?'})")
            if answer is not None:
                render_answer(answer, actions=False)
    if turn.preferred:
        st.caption(f"You preferred: {turn.preferred}")
        return
    choice = st.radio("Which answer is better?", ["A", "B", "Tie"], horizontal=True,
                      index=None, key=f"pref-{index}")
    if choice and st.button("Record my preference", key=f"pref-save-{index}"):
        assert turn.rival is not None
        try:
            record_preference(resources.app_pool, user.login, turn.question,
                              turn.answer.answer_id, turn.answer.variant or "",
                              turn.rival.answer_id, turn.rival.variant or "",
                              choice.lower())
        except AssistantError as exc:
            st.error(exc.user_message)
        else:
            turn.preferred = choice
            st.toast("Thanks, your preference was saved.")


def _topic_caption(index: int) -> None:
    if index in topic_starts and index > 0:
        st.caption(say("app.new_topic_started", history[index - 1].answer.lang))


for i, turn in enumerate(history):
    _topic_caption(i)
    with st.chat_message("user"):
        st.markdown(plain_text(turn.question))
    with st.chat_message("assistant"):
        if turn.rival is not None:
            _render_compare(turn, i)
        else:
            render_answer(turn.answer)
_topic_caption(len(history))

again_id = st.session_state.pop("regenerate", None)
question = st.chat_input("Ask about revenue, customers, orders… or the company's documents")
question = question or st.session_state.pop("pending", None)
if again_id:
    previous = next((t for t in history if t.answer.answer_id == again_id), None)
    if previous is not None:
        with st.chat_message("user"):
            st.markdown(plain_text(previous.question))
        with st.chat_message("assistant"):
            answer = _ask_and_show(previous.question, regenerated_from=again_id,
                                   follow_up_of=previous.follow_up_of)
            history.append(Turn(previous.question, answer, follow_up_of=previous.follow_up_of))
            _render_actions(answer)
elif question:
    context = context_now()
    with st.chat_message("user"):
        st.markdown(plain_text(question))
    with st.chat_message("assistant"):
        if compare and can_compare:
            first = _ask_and_show(question, variant=arms[0].name, follow_up_of=context)
            second = _ask_and_show(question, variant=arms[1].name, follow_up_of=context)
            history.append(Turn(question, first, rival=second, follow_up_of=context))
            st.rerun()
        else:
            answer = _ask_and_show(question, follow_up_of=context)
            history.append(Turn(question, answer, follow_up_of=context))
            _render_actions(answer)
