"""`ask`: the one entry point the app, the CLI and the tests call.

question -> checks -> planner -> router ─> verified query | planner | LLM writer
                                            -> sql_guard.check -> executor ─┐
                                 └─> retrieval ────────────────────────────────┴> answer -> log

Which SQL runs: an analyst's verified query when the question matches one; else the offline
planner when it is confident (fast, deterministic, free); else the LLM writer when a model is
configured; else an honest "I can't answer that yet" with close questions that work.

`ask` always returns an Answer: bad input, refusals and failures become a plain sentence (and
`Answer.error` says which kind); the query_log row is committed before the answer is returned.
The steps live beside this module: `decide` (the route), `data` and `documents` (the branches,
each returning a frozen part), `compose` (the Answer built from the parts).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from agents.ask.answer import Answer, Fault
from agents.ask.compose import bad_input_answer, compose, failure_of
from agents.ask.data import data_answer
from agents.ask.decide import decide_route
from agents.ask.documents import documents_answer, documents_for_unknown_words
from agents.ask.followup import Conversation, Reading, conversation, read_follow_up
from agents.ask.parts import Failure, Part, Refusal, Stopped
from agents.ask.router import RouteName, asks_more_than_one, refusal_text, split_asks
from agents.ask.turn import Timings, Turn
from agents.config import Variant
from agents.docs.retrieval import retrieve_chunks
from agents.errors import AssistantError, BadInput, StoreError
from agents.language import detect_language
from agents.models.providers import TokenSink, pick_variant, variant_named
from agents.resources import Resources
from agents.sql.executor import run_query
from agents.sql.planner import Plan, plan_question
from agents.store.query_log import follow_up_of_answer, log_answer
from agents.store.users import User

log = logging.getLogger("sourced.ask")


def validate_question(question: object, max_chars: int) -> str:
    """The question as clean text, or BadInput with a plain reason."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput("The question is not valid UTF-8 text.") from exc
    if not isinstance(question, str):
        raise BadInput("The question must be text.")
    if "\x00" in question:
        raise BadInput("The question contains a NUL character; please retype it.")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in question):
        raise BadInput("The question is not valid UTF-8 text.")
    cleaned = " ".join(question.split())
    if not cleaned:
        raise BadInput("The question is empty.")
    if len(cleaned) > max_chars:
        raise BadInput(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it."
        )
    return cleaned


def ask(
    question: object,
    user_login: str | User,
    resources: Resources,
    *,
    regenerated_from: str | None = None,
    variant: str | None = None,
    on_token: TokenSink | None = None,
    follow_up_of: str | None = None,
) -> Answer:
    """Answer a question for a user. Never raises for bad input or a failed stage.

    `on_token` receives the model's words as they come (the app streams them); the returned
    Answer holds the whole text, and its query_log row is committed before this returns.
    `regenerated_from` asks again: with a model, warmer, and with the other A/B variant.
    `user_login` is a login of users.yaml, or the User a sign-in mapped (unknown e-mails get
    the group `everyone` only). `follow_up_of` is the answer_id of an earlier answer of the
    same user this question continues ("and in 2019?"); regenerating a follow-up keeps it.
    """
    timings = Timings()
    settings = resources.settings
    try:
        text = validate_question(question, settings.max_question_chars)
        user = (user_login if isinstance(user_login, User)
                else resources.directory.get(user_login))
        convo = _conversation(resources, text, user, follow_up_of, regenerated_from)
    except BadInput as exc:
        return _logged(resources, bad_input_answer(question, user_login, exc, settings.mode,
                                                   timings))
    except StoreError as exc:
        unread = bad_input_answer(question, user_login, BadInput(exc.user_message),
                                  settings.mode, timings)
        return _logged(resources, replace(unread, error=Fault.of(exc).code))
    lang = detect_language(text)
    chosen = _choose_variant(resources, variant, regenerated_from)
    model = (resources.chat_model(chosen, temperature=0.7 if regenerated_from else None)
             if settings.llm_enabled else None)
    # The executor and the retriever are read here, at each question: tests replace them.
    turn = Turn(text, lang, user, resources, model, on_token, run_query=run_query,
                retrieve_chunks=retrieve_chunks, timings=timings)
    reading, route, parts, failure = _answered(turn, convo)
    answer = compose(reading.turn, route, parts, failure,
                     variant=chosen.name if settings.llm_enabled else variant,
                     regenerated_from=regenerated_from)
    answer = replace(answer, question=text, standalone_question=reading.standalone,
                     follow_up_of=convo.of if convo is not None and reading.linked else None)
    return _logged(resources, answer)


def _conversation(resources: Resources, text: str, user: User, follow_up_of: str | None,
                  regenerated_from: str | None) -> Conversation | None:
    """The conversation the question continues: named, or the regenerated answer's own."""
    if follow_up_of is None and regenerated_from is not None:
        follow_up_of = follow_up_of_answer(resources.app_pool, regenerated_from, user.login)
    if follow_up_of is None:
        return None
    return conversation(resources, follow_up_of, user.login, text)


def _answered(turn: Turn, convo: Conversation | None
              ) -> tuple[Reading, RouteName, list[Part], Failure | None]:
    """The route and its branches' parts, in order; a failure stops them and keeps the rest.

    In a conversation, the Reading says which turn (the model's standalone question, or the
    documents' search text) and which plan answer it."""
    route: RouteName = "refused"
    parts: list[Part] = []
    reading = Reading(turn)
    try:
        plan = turn.timed("plan", lambda: plan_question(turn.question, turn.resources.planning))
        if convo is not None:
            reading = read_follow_up(turn, convo, plan)
            turn, plan = reading.turn, reading.plan or plan
        decided, verified = ((reading.route, None) if reading.route is not None
                             else decide_route(turn, plan))
        route = decided.route
        if route == "refused":
            parts.append(Refusal(refusal_text(decided.reason, turn.lang), decided.reason))
        if route == "docs" and decided.fallback is not None:
            # Shaped like a data question but naming no metric: the documents when one answers
            # it, else the data branch's honest answer (or the model's SQL).
            docs = documents_answer(turn, strict=True)
            if docs.sources:
                parts.append(docs)
                return reading, route, parts, None
            route = decided.fallback
        if (route == "sql" and decided.fallback is None and verified is None
                and turn.model is None and plan.not_understood):
            answered = _from_documents(turn, plan)
            if answered is not None:
                return reading, answered[0], answered[1], None
        if route in ("sql", "both"):
            parts.append(data_answer(turn, plan, verified))
        if route in ("docs", "both"):
            parts.append(documents_answer(turn))
    except Stopped as stop:
        parts.append(stop.part)
        return reading, route, parts, _failed(stop.cause, parts, turn.lang)
    except Exception as exc:  # a bug must still end as a sentence, never a traceback
        return reading, route, parts, _failed(exc, parts, turn.lang)
    return reading, route, parts, None


def _from_documents(turn: Turn, plan: Plan) -> tuple[RouteName, list[Part]] | None:
    """A metric word in a document's topic: the documents, when a passage holds the words the
    planner does not know (with a model, the model routes such questions); with the data
    branch's own answer too when the question asks something more, so no part is dropped."""
    from_documents = documents_for_unknown_words(turn, plan.not_understood)
    if from_documents is None:
        return None
    if not asks_more_than_one(turn.question, has_period=plan.period is not None
                              or plan.comparison is not None):
        return "docs", [from_documents]
    # The part the planner understands is answered from the warehouse, the rest from the
    # documents; when no part stands alone, the planner's honest answer to the whole.
    pieces = split_asks(turn.question)
    if len(pieces) > 1:  # one piece is the whole question, whose plan is `plan`
        for piece in pieces:
            piece_plan = plan_question(piece, turn.resources.planning)
            if piece_plan.confident:
                return "both", [data_answer(replace(turn, question=piece), piece_plan, None),
                                from_documents]
    return "both", [data_answer(turn, plan, None), from_documents]


def _failed(exc: Exception, parts: list[Part], lang: str) -> Failure:
    if isinstance(exc, AssistantError):
        log.warning("stage failed: %s", exc.detail)
    else:
        log.error("unexpected failure while answering", exc_info=exc)
    return failure_of(exc, parts, lang)


def _choose_variant(resources: Resources, requested: str | None,
                    regenerated_from: str | None) -> Variant:
    settings = resources.settings
    if requested is not None:
        return variant_named(settings, requested)
    if regenerated_from is not None and settings.ab_enabled:
        previous = _variant_of(resources, regenerated_from)
        return pick_variant(settings, exclude=previous)
    return pick_variant(settings)


def _variant_of(resources: Resources, answer_id: str) -> str | None:
    try:
        with resources.app_pool.connection() as conn:
            row = conn.execute("SELECT variant FROM app.query_log WHERE answer_id = %s",
                               (answer_id,)).fetchone()
    except Exception:
        return None
    return row[0] if row else None


def _logged(resources: Resources, answer: Answer) -> Answer:
    """The answer once its query_log row is committed."""
    try:
        log_answer(resources.app_pool, answer)
    except StoreError as exc:
        # The answer is still shown, with a visible note that it could not be logged.
        answer = replace(answer, error=answer.error or Fault("log_failed").code,
                         text=f"{answer.text}\n\n_{exc.user_message}_")
    log.info("answered", extra={"answer_id": answer.answer_id, "route": answer.route,
                                "user": answer.user, "timings_ms": answer.timings_ms,
                                "error": answer.error})
    return answer
