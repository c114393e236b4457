"""`ask`: the one entry point the app, the CLI and the tests call.

question -> checks -> router -> planner -> sql_guard.check -> executor ─┐
                             └─> retrieval ───────────────────────────────┴> answer -> query_log

`ask` always returns an Answer: bad input, refusals and failures become a plain sentence (and
`Answer.error` says which kind); the query_log row is committed before the answer is returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from agents.answer import (
    Answer,
    chart_for,
    data_sentence,
    extractive_answer,
    not_found_text,
    sources_from,
)
from agents.errors import AssistantError, BadInput, GuardRejected, StoreError
from agents.executor import run_query
from agents.language import detect_language
from agents.planner import Plan, plan_question, suggestions
from agents.resources import Resources
from agents.retrieval import retrieve_chunks
from agents.router import refusal_text, route_question
from agents.store import log_answer
from agents.users import User
from sql_guard import check

log = logging.getLogger("sourced.ask")
T = TypeVar("T")


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
    user_login: str,
    resources: Resources,
    *,
    regenerated_from: str | None = None,
    variant: str | None = None,
) -> Answer:
    """Answer a question for a user. Never raises for bad input or a failed stage."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def timed(stage: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - t0) * 1000

    raw = question if isinstance(question, str) else repr(question)[:200]
    try:
        text = validate_question(question, resources.settings.max_question_chars)
        user = resources.directory.get(user_login)
    except BadInput as exc:
        answer = Answer(question=raw[:2000], user=str(user_login)[:100], route="refused",
                        text=exc.user_message, mode=resources.settings.mode,
                        lang=detect_language(raw) if isinstance(question, str) else "en",
                        error="bad_input", refusal_reason=exc.user_message)
        answer.timings_ms = {"total": (time.perf_counter() - started) * 1000}
        _log(resources, answer)
        return answer

    lang = detect_language(text)
    answer = Answer(question=text, user=user.login, route="refused", text="",
                    mode=resources.settings.mode, lang=lang, variant=variant,
                    regenerated_from=regenerated_from)
    try:
        plan = timed("plan", lambda: plan_question(text, resources.planning))
        route = timed("route", lambda: route_question(text, has_metric=bool(plan.metrics)))
        answer.route = route.route
        if route.route == "refused":
            answer.text = refusal_text(route.reason, lang)
            answer.refusal_reason = route.reason
        elif route.route == "sql":
            _answer_with_data(answer, plan, user, resources, timed)
        elif route.route == "docs":
            _answer_with_documents(answer, text, user, resources, timed)
        else:
            _answer_with_data(answer, plan, user, resources, timed)
            data_text = answer.text
            _answer_with_documents(answer, text, user, resources, timed)
            answer.text = data_text + "\n\n" + answer.text
    except AssistantError as exc:
        answer.text = exc.user_message
        answer.error = type(exc).__name__
        log.warning("stage failed: %s", exc.detail)
    except Exception as exc:  # a bug must still end as a sentence, never a traceback
        log.exception("unexpected failure while answering")
        answer.text = ("Désolé, une erreur interne m'empêche de répondre. Elle a été consignée."
                       if lang == "fr" else
                       "Sorry, an internal error prevented an answer. It has been logged.")
        answer.error = f"internal: {type(exc).__name__}"
    answer.origin = {
        "sql": "from the warehouse", "docs": "from documents",
        "both": "from the warehouse and documents",
    }.get(answer.route, "")
    answer.timings_ms = {**timings, "total": (time.perf_counter() - started) * 1000}
    _log(resources, answer)
    return answer


def _log(resources: Resources, answer: Answer) -> None:
    try:
        log_answer(resources.app_pool, answer)
    except StoreError as exc:
        # The answer is still shown, with a visible note that it could not be logged.
        answer.error = answer.error or "log_failed"
        answer.text += f"\n\n_{exc.user_message}_"
    log.info("answered", extra={"answer_id": answer.answer_id, "route": answer.route,
                                "user": answer.user, "timings_ms": answer.timings_ms,
                                "error": answer.error})


def _answer_with_data(answer: Answer, plan: Plan, user: User, resources: Resources,
                      timed: Callable[[str, Callable[[], T]], T]) -> None:
    lang = answer.lang
    if not plan.confident or not plan.sql:
        answer.explanation = plan.problem
        hints = suggestions(resources.model, lang)
        answer.suggestions = hints
        lead = ("Je ne suis pas sûr de comprendre cette question, et je préfère ne pas deviner."
                if lang == "fr" else
                "I am not sure I understand this question, and I would rather not guess.")
        offer = ("Voici des questions proches auxquelles je sais répondre :" if lang == "fr"
                 else "Here are close questions I can answer:")
        detail = f" {plan.problem}" if plan.problem else ""
        answer.text = f"{lead}{detail}\n\n{offer}\n" + "\n".join(f"- {h}" for h in hints)
        answer.error = "not_understood"
        return
    policy = resources.policy_for(user)
    verdict = timed("guard", lambda: check(plan.sql or "", policy))
    answer.guard_allowed = verdict.allowed
    answer.guard_reason = verdict.reason
    answer.explanation = plan.explanation
    if not verdict.allowed:
        answer.sql = plan.sql
        raise GuardRejected(
            ("Cette requête a été bloquée : " if lang == "fr" else "This query was blocked: ")
            + (verdict.reason or ""),
            detail=verdict.reason,
        )
    answer.sql = verdict.sql
    result = timed("execute", lambda: run_query(
        verdict, resources.reader_pool(user),
        statement_timeout_ms=resources.settings.statement_timeout_ms,
        max_rows=resources.settings.max_rows,
    ))
    answer.columns = result.columns
    answer.rows = result.rows
    answer.truncated = result.truncated
    answer.row_cap = result.row_cap
    answer.column_labels = dict(plan.column_labels)
    answer.column_formats = dict(plan.column_formats)
    answer.chart = chart_for(result.columns, result.rows, plan.time_columns, plan.column_formats)
    period = ""
    if plan.period and not plan.dimensions:
        period = plan.period.label
    text = data_sentence(result, plan.column_labels, plan.column_formats, lang, period)
    if result.truncated:
        text += (f"\n\n_Résultat tronqué à {result.row_cap:,} lignes._" if lang == "fr"
                 else f"\n\n_Truncated at {result.row_cap:,} rows._")
    answer.text = text


def _answer_with_documents(answer: Answer, text: str, user: User, resources: Resources,
                           timed: Callable[[str, Callable[[], T]], T]) -> None:
    lang = answer.lang
    embedder = resources.embedder
    vector = timed("embed", lambda: embedder.embed([text])[0])
    with resources.app_pool.connection() as conn:
        passages = timed("retrieve", lambda: retrieve_chunks(
            conn, embedder, text, user.all_groups, k=resources.settings.retrieval_k, lang=lang,
            query_vector=vector,
        ))
    answer.sources = sources_from(passages)
    answer.text = (timed("compose", lambda: extractive_answer(text, answer.sources, lang))
                   if answer.sources else not_found_text(lang))
