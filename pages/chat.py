"""The chat: questions, answers with their table, chart, SQL and sources, feedback, regenerate,
and the A/B compare mode. Widgets and layout only; every rule lives in agents/ (the labels in
the message catalog, chosen from the question's language or the sidebar's setting; the chart,
cells, SQL layout and examples in agents/app/chat.py and agents/app/welcome.py).

Follow-up questions: each new question is asked with the last answer shown as its context
(`follow_up_of`), until the user starts a new topic; the pipeline decides whether it uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from agents.app import chat
from agents.app.documents import list_documents
from agents.app.markup import plain_text, safe_markdown
from agents.app.state import LANGUAGE_KEY, may_see_page, resources_or_stop, signed_in_user
from agents.app.welcome import Welcome, scope_note, welcome
from agents.ask.answer import Answer, answer_table, shown_parts, shown_text, source_line
from agents.ask.stream import AnswerStream
from agents.ask.understood import highlighted, markdown_literal
from agents.errors import AssistantError
from agents.messages import say
from agents.models.providers import variants
from agents.store.query_log import current_vote, record_feedback, record_preference


@dataclass
class Turn:
    question: str
    answer: Answer
    rival: Answer | None = None  # compare mode: the other variant's answer
    preferred: str | None = None
    follow_up_of: str | None = None  # the context it was asked with: a regenerate keeps it


resources = resources_or_stop()
user = signed_in_user(resources)
if st.session_state.pop("open_workbench", False) and may_see_page(user, "workbench"):
    st.switch_page("pages/workbench.py")
settings = resources.settings
arms = variants(settings)
can_compare = settings.llm_enabled and len(arms) == 2
setting = st.session_state.get(LANGUAGE_KEY, "auto")
history: list[Turn] = st.session_state.setdefault("history", [])
# Where a new topic starts: the index in `history` of its first turn (maybe one still to come).
topic_starts: list[int] = st.session_state.setdefault("topic_starts", [])
# Each "login:answer" current vote, as stored (read once, then kept in step).
votes: dict[str, int | None] = st.session_state.setdefault("votes", {})
lang = chat.ui_language(setting, [t.answer.lang for t in history])


def _ask_later(question: str) -> None:
    """A clicked example or suggestion: asked in the run the click starts (a callback runs
    before the script, so the page knows it has a question before drawing the welcome)."""
    st.session_state["pending"] = question


def _open_in_workbench(answer: Answer) -> None:
    """The SQL and its question for the workbench; the page switches at the top of the run."""
    st.session_state["workbench_sql"] = chat.pretty_sql(answer.sql)
    st.session_state["workbench_question"] = answer.question
    st.session_state["open_workbench"] = True


def _regenerate_later(answer_id: str) -> None:
    st.session_state["regenerate"] = answer_id


try:
    landing = welcome(resources.model, resources.policy_for(user).allowed_tables,
                      list_documents(resources.app_pool, user.all_groups), lang)
except AssistantError:  # no examples is better than no chat
    landing = Welcome((), (), ())

with st.sidebar:
    compare = st.toggle(say("app.compare", lang), key="compare", disabled=not can_compare,
                        help=say("app.compare_help" if can_compare else "app.compare_unavailable",
                                 lang))
    st.subheader(say("app.try", lang))
    for i, example in enumerate(landing.examples):
        st.button(example, key=f"ex-{i}", width="stretch", on_click=_ask_later,
                  args=(example,))
    if st.button(say("app.clear", lang), key="clear"):
        history.clear()
        topic_starts.clear()
    if st.button(say("app.new_topic", lang), key="new-topic", disabled=not history,
                 help=say("app.new_topic_help", lang)) and len(history) not in topic_starts:
        topic_starts.append(len(history))


def context_now() -> str | None:
    """The answer a new question follows up: the last one shown, unless a new topic started."""
    if not history or len(history) in topic_starts:
        return None
    return history[-1].answer.answer_id


def _render_welcome() -> None:
    st.markdown(f"### {say('app.welcome_title', lang, name=plain_text(user.name.split()[0]))}")
    st.markdown(say("app.welcome_intro", lang))
    note = scope_note(user, lang)
    if note:
        st.info(note, icon=":material/filter_alt:")
    if landing.metrics:
        st.markdown(say("app.welcome_metrics", lang, metrics=", ".join(landing.metrics)))
    if landing.collections:
        st.markdown(say("app.welcome_collections", lang,
                        collections=", ".join(landing.collections)))
    st.markdown(say("app.welcome_examples", lang))
    with st.container(horizontal=True):
        for i, example in enumerate(landing.examples):
            st.button(example, key=f"welcome-{i}", on_click=_ask_later, args=(example,))


def render_answer(answer: Answer, *, show_text: bool = True, actions: bool = True) -> None:
    al = chat.answer_language(answer, setting)
    if answer.regenerated_from:
        st.caption(say("app.regenerated", al))
    if answer.follow_up_of:  # set only when the pipeline used the context
        st.caption(say("app.follow_up_of", al))
    _render_reading(answer, al)
    data_text, documents_text = shown_parts(answer) if show_text else ("", "")
    if data_text:
        st.markdown(safe_markdown(data_text))
    _render_suggestions(answer)
    if answer.verified_by:
        st.success(f"✔ {answer.verified_by}", icon="✅")
    if answer.columns and answer.rows:  # no rows: the sentence says so, no empty table to show
        _render_table(answer, al)
    # A not-understood answer has no definition to show: its explanation is the problem, said
    # in the text already.
    if answer.explanation and answer.error != "not_understood":
        st.caption(say("app.definition", al, text=answer.explanation)
                   if answer.sql_source != "verified" else answer.explanation)
    if answer.sql:
        with st.expander(say("app.sql", al)):
            st.code(chat.pretty_sql(answer.sql), language="sql")
            if may_see_page(user, "workbench"):
                st.button(say("app.open_workbench", al), key=f"wb-{answer.answer_id}",
                          on_click=_open_in_workbench, args=(answer,))
    if documents_text:
        st.markdown(safe_markdown(documents_text))
    if answer.sources:
        st.markdown(f"**{say('app.sources', al)}**")
        for source in answer.sources:
            # Documents are data, not markup: no remote image or link from a passage renders.
            with st.expander(safe_markdown(source_line(source, al))):
                st.markdown(plain_text(source.passage))
    st.caption(chat.origin_line(answer, al, show_variant=settings.llm_enabled))
    if actions:
        _render_actions(answer, al)


def _render_reading(answer: Answer, al: str) -> None:
    """What a data answer understood, and the words it did not, above everything else."""
    if answer.understood_as:
        st.caption(say("app.understood_as", al, text=markdown_literal(answer.understood_as)))
    if answer.not_understood:
        st.markdown(say("app.not_understood", al, words=highlighted(answer.not_understood)))


def _render_suggestions(answer: Answer) -> None:
    """Close questions as buttons: a click asks it, as the sidebar's examples do."""
    if not answer.suggestions:
        return
    with st.container(horizontal=True):
        for i, suggestion in enumerate(answer.suggestions):
            st.button(suggestion, key=f"sug-{answer.answer_id}-{i}",
                      icon=":material/lightbulb:", on_click=_ask_later, args=(suggestion,))


def _render_table(answer: Answer, al: str) -> None:
    headers, cells = chat.table_cells(answer, al)
    if scoped := scope_note(user, al):
        st.caption(":material/filter_alt: " + scoped)
    card = chat.figure(answer, al)
    if card is not None:
        label, value, delta = card
        st.metric(label, value, delta)
    st.dataframe(pd.DataFrame(cells, columns=headers), hide_index=True)
    plot = chat.chart_of(answer, al)
    if plot is not None:
        st.altair_chart(plot, width="stretch")
        if note := chat.chart_note(answer, al):
            st.caption(note)
    if answer.truncated:
        st.caption(say("app.truncated", al, rows=f"{answer.row_cap:,}"))
    raw_headers, raw = answer_table(answer)
    st.download_button(say("app.download_csv", al),
                       pd.DataFrame(raw, columns=raw_headers).to_csv(index=False),
                       chat.csv_name(answer), "text/csv", key=f"csv-{answer.answer_id}")


def _render_actions(answer: Answer, al: str) -> None:
    """👍, 👎 and Regenerate on one row (a phone included); the current vote is highlighted."""
    aid = answer.answer_id
    vote_key = f"{user.login}:{aid}"  # the demo picker may change who is signed in
    if vote_key not in votes:
        votes[vote_key] = current_vote(resources.app_pool, aid, user.login)
    with st.container(horizontal=True, wrap=False, gap="small"):
        if st.button("", icon=":material/thumb_up:", key=f"up-{aid}",
                     help=say("app.vote_up_help", al),
                     type="primary" if votes[vote_key] == 1 else "secondary"):
            _feedback(answer, 1, None, None, al)
        with st.popover("", icon=":material/thumb_down:", help=say("app.vote_down_help", al),
                        key=f"downvote-{aid}",
                        type="primary" if votes[vote_key] == -1 else "secondary"), \
                st.form(f"down-{aid}", clear_on_submit=True):
            comment = st.text_area(say("app.what_is_wrong", al))
            corrected = (st.text_area(say("app.corrected_sql", al))
                         if answer.sql and may_see_page(user, "workbench") else None)
            if st.form_submit_button(say("app.send", al)):
                _feedback(answer, -1, comment, corrected, al)
        st.button(say("app.regenerate", al), icon=":material/refresh:", key=f"again-{aid}",
                  help=say("app.regenerate_help", al), on_click=_regenerate_later, args=(aid,))


def _feedback(answer: Answer, rating: int, comment: str | None, corrected: str | None,
              al: str) -> None:
    try:
        record_feedback(resources.app_pool, answer.answer_id, user.login, rating,
                        comment=comment, corrected_sql=corrected)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:  # only once the row is committed
        votes[f"{user.login}:{answer.answer_id}"] = rating
        st.toast(say("app.feedback_saved", al)
                 + (" " + say("app.feedback_review", al) if rating < 0 else ""))
        st.rerun()  # the buttons show the new vote


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
        with st.spinner(say("app.looking", lang)):
            answer = stream.result()
        render_answer(answer, actions=False)
    return answer


def _render_compare(turn: Turn, index: int) -> None:
    al = chat.answer_language(turn.answer, setting)
    left, right = st.columns(2)
    for column, label, answer in ((left, "A", turn.answer), (right, "B", turn.rival)):
        with column:
            st.markdown("**" + say("app.answer_label", al, label=label,
                                   variant=answer.variant if answer else "?") + "**")
            if answer is not None:
                render_answer(answer, actions=False)
    if turn.preferred:
        st.caption(say("app.preferred", al, choice=turn.preferred))
        return
    tie = say("app.tie", al)
    choice = st.radio(say("app.which_better", al), ["A", "B", tie], horizontal=True,
                      index=None, key=f"pref-{index}")
    if choice and st.button(say("app.record_preference", al), key=f"pref-save-{index}"):
        assert turn.rival is not None
        try:
            record_preference(resources.app_pool, user.login, turn.question,
                              turn.answer.answer_id, turn.answer.variant or "",
                              turn.rival.answer_id, turn.rival.variant or "",
                              "tie" if choice == tie else choice.lower())
        except AssistantError as exc:
            st.error(exc.user_message)
        else:
            turn.preferred = choice
            st.toast(say("app.preference_saved", al))


def _topic_caption(index: int) -> None:
    if index in topic_starts and index > 0:
        st.caption(say("app.new_topic_started", history[index - 1].answer.lang))


def _offer_rephrase(previous: Turn) -> None:
    """Offline, the same question gives the same answer: offer to rephrase it instead."""
    al = chat.answer_language(previous.answer, setting)
    with st.chat_message("assistant"):
        st.info(say("app.regenerate_offline", al), icon=":material/info:")
        with st.form(f"rephrase-{previous.answer.answer_id}", border=False):
            text = st.text_input(say("app.rephrase", al), value=previous.question,
                                 key=f"rephrase-text-{previous.answer.answer_id}")
            if st.form_submit_button(say("app.ask", al)) and text.strip():
                st.session_state["pending"] = text.strip()
                st.session_state.pop("rephrasing", None)
                st.rerun()


again_id = st.session_state.pop("regenerate", None)
# Keyed: one widget whatever the placeholder's language (a new placeholder is no new widget).
question = st.chat_input(say("app.chat_placeholder", lang), key="chat")
question = question or st.session_state.pop("pending", None)
if not history and not question:
    _render_welcome()
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

if again_id and not settings.llm_enabled:  # offline: the offer stays until the next question
    st.session_state["rephrasing"], again_id = again_id, None
if question:
    st.session_state.pop("rephrasing", None)
rephrasing = next((t for t in history
                   if t.answer.answer_id == st.session_state.get("rephrasing")), None)
previous = next((t for t in history if t.answer.answer_id == again_id), None)
if rephrasing is not None:
    _offer_rephrase(rephrasing)
elif previous is not None:
    with st.chat_message("user"):
        st.markdown(plain_text(previous.question))
    with st.chat_message("assistant"):
        answer = _ask_and_show(previous.question, regenerated_from=again_id,
                               follow_up_of=previous.follow_up_of)
        history.append(Turn(previous.question, answer, follow_up_of=previous.follow_up_of))
        _render_actions(answer, chat.answer_language(answer, setting))
    components.html(chat.SCROLL_TO_LAST, height=0)
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
            _render_actions(answer, chat.answer_language(answer, setting))
    if chat.ui_language(setting, [t.answer.lang for t in history]) != lang:
        st.rerun()  # the sidebar and the input follow the question's language at once
