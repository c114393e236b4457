"""`ask`: the one entry point the app, the CLI and the tests call.

question -> checks -> planner -> router ─> verified query | planner | LLM writer
                                            -> sql_guard.check -> executor ─┐
                                 └─> retrieval ────────────────────────────────┴> answer -> log

Which SQL runs: an analyst's verified query when the question matches one; else the offline
planner when it is confident (fast, deterministic, free); else the LLM writer when a model is
configured; else an honest "I can't answer that yet" with close questions that work.

`ask` always returns an Answer: bad input, refusals and failures become a plain sentence (and
`Answer.error` says which kind); the query_log row is committed before the answer is returned.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from agents.ask.answer import (
    LANGUAGE_NAMES,
    Answer,
    CitationFilter,
    chart_for,
    data_sentence,
    extractive_answer,
    filter_citations,
    not_found_text,
    passages_block,
    result_preview,
    sources_from,
)
from agents.ask.router import Route, refusal_text, route_question, route_with_model
from agents.config import Variant
from agents.docs.retrieval import retrieve_chunks
from agents.errors import AssistantError, BadInput, GuardRejected, ProviderError, StoreError
from agents.language import detect_language
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, TokenSink, pick_variant, stream, variant_named
from agents.resources import Resources
from agents.sql.executor import QueryResult, run_query
from agents.sql.planner import Plan, plan_question, suggestions
from agents.sql.verified import (
    VerifiedQuery,
    closest_verified,
    mark_used,
    match_verified,
    question_terms,
    signature_from_plan,
)
from agents.sql.writer import (
    Example,
    SqlPrompt,
    build_sql_prompt,
    definitions_text,
    select_tables,
    write_and_run,
)
from agents.store.query_log import log_answer
from agents.store.users import User
from sql_guard import GuardResult, check

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
    user_login: str | User,
    resources: Resources,
    *,
    regenerated_from: str | None = None,
    variant: str | None = None,
    on_token: TokenSink | None = None,
) -> Answer:
    """Answer a question for a user. Never raises for bad input or a failed stage.

    `on_token` receives the model's words as they come (the app streams them); the returned
    Answer holds the whole text, and its query_log row is committed before this returns.
    `regenerated_from` asks again: with a model, warmer, and with the other A/B variant.
    `user_login` is a login of users.yaml, or the User a sign-in mapped (unknown e-mails get
    the group `everyone` only).
    """
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
        user = (user_login if isinstance(user_login, User)
                else resources.directory.get(user_login))
    except BadInput as exc:
        who = user_login.login if isinstance(user_login, User) else str(user_login)
        answer = Answer(question=raw[:2000], user=who[:100], route="refused",
                        text=exc.user_message, mode=resources.settings.mode,
                        lang=detect_language(raw) if isinstance(question, str) else "en",
                        error="bad_input", refusal_reason=exc.user_message)
        answer.timings_ms = {"total": (time.perf_counter() - started) * 1000}
        _log(resources, answer)
        return answer

    lang = detect_language(text)
    settings = resources.settings
    chosen = _choose_variant(resources, variant, regenerated_from)
    answer = Answer(question=text, user=user.login, route="refused", text="",
                    mode=settings.mode, lang=lang,
                    variant=chosen.name if settings.llm_enabled else variant,
                    regenerated_from=regenerated_from)
    model = (resources.chat_model(chosen, temperature=0.7 if regenerated_from else None)
             if settings.llm_enabled else None)
    state = _Turn(answer, user, resources, timed, model, on_token)
    try:
        plan = timed("plan", lambda: plan_question(text, resources.planning))
        route = timed("route", lambda: route_question(
            text, has_metric=bool(plan.metrics),
            nearest=lambda: resources.route_examples().nearest(state.vector())))
        verified = None
        if route.route != "refused":
            verified = state.verified_match()
            if verified is not None:
                route = Route("both" if route.route == "both" else "sql",
                              "matches a verified query")
            elif model is not None and not plan.confident:
                # The model may see what the rules cannot; the rules' refusals always stand.
                route = state.model_route(route)
        answer.route = route.route
        if route.route == "refused":
            answer.text = refusal_text(route.reason, lang)
            answer.refusal_reason = route.reason
        elif route.route == "sql":
            state.answer_with_data(plan, verified)
        elif route.route == "docs":
            state.answer_with_documents()
        else:
            state.answer_with_data(plan, verified)
            data_text = answer.text
            state.answer_with_documents()
            answer.text = data_text + "\n\n" + answer.text
    except AssistantError as exc:
        answer.text = exc.user_message + (f"\n\n{answer.text}" if answer.text else "")
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
    answer.tokens = state.tokens or None
    answer.timings_ms = {**timings, "total": (time.perf_counter() - started) * 1000}
    _log(resources, answer)
    return answer


class AnswerStream:
    """`ask` in a worker thread, its model tokens readable as they come (st.write_stream).

    The app's generator runs in Streamlit's script thread and only reads the queue; the worker
    never touches Streamlit. `result()` returns the logged Answer.
    """

    _END = object()

    def __init__(self, question: object, user: str | User, resources: Resources,
                 **options: Any) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self._answer: Answer | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(question, user, resources,
                                                                 options), daemon=True)
        self._thread.start()

    def _run(self, question: object, user: str | User, resources: Resources,
             options: dict[str, Any]) -> None:
        try:
            self._answer = ask(question, user, resources, on_token=self._queue.put, **options)
        finally:
            self._queue.put(self._END)

    def tokens(self) -> Iterator[str]:
        while not self._ended:
            item = self._queue.get()
            if item is self._END:
                self._ended = True
                return
            yield str(item)

    def result(self) -> Answer:
        for _ in self.tokens():  # drain what the caller did not read
            pass
        self._thread.join()
        assert self._answer is not None  # ask() always returns an Answer
        return self._answer


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


class _Turn:
    """One question being answered: the stages share the answer, the user and the timers."""

    def __init__(self, answer: Answer, user: User, resources: Resources,
                 timed: Callable[[str, Callable[[], T]], T], model: ChatModel | None,
                 on_token: TokenSink | None) -> None:
        self.answer = answer
        self.user = user
        self.resources = resources
        self.timed = timed
        self.model = model
        self.on_token = on_token
        self.tokens = 0
        self._vector: np.ndarray | None = None

    @property
    def lang(self) -> str:
        return self.answer.lang

    def vector(self) -> np.ndarray:
        if self._vector is None:
            embedder = self.resources.embedder
            self._vector = self.timed("embed", lambda: embedder.embed([self.answer.question])[0])
        return self._vector

    # ------------------------------------------------------------ routing helpers

    def verified_match(self) -> VerifiedQuery | None:
        resources = self.resources

        def terms(question: str) -> frozenset[str]:
            return question_terms(question, resources.model, lambda q: signature_from_plan(
                plan_question(q, resources.planning)))

        def terms_of(verified: VerifiedQuery) -> frozenset[str]:
            return resources.verified_terms(verified.verified_id, verified.question, terms)

        with resources.app_pool.connection() as conn:
            saved = conn.execute("SELECT verified_id, question FROM app.verified_queries"
                                 " WHERE embedding IS NOT NULL").fetchall()
        if not saved:
            return None
        # Only a verified query naming the same terms can match: when none does, the question
        # is not embedded at all (the encoder is the throughput ceiling under load).
        wanted = terms(self.answer.question)
        if not any(resources.verified_terms(vid, q, terms) == wanted for vid, q in saved):
            return None
        # Embed with no connection held: the encoder serialises calls, and a pool connection
        # kept idle meanwhile starves every other question's log write and retrieval.
        vector = self.vector()
        with resources.app_pool.connection() as conn:
            return self.timed("verified", lambda: match_verified(
                conn, vector, resources.embedder.name, resources.settings.verified_threshold,
                wanted, terms_of))

    def model_route(self, offline: Route) -> Route:
        assert self.model is not None
        try:
            route, tokens = self.timed("route_llm", lambda: route_with_model(
                self.answer.question, self.model, self.resources.model))  # type: ignore[arg-type]
        except ProviderError as exc:
            log.warning("model router unavailable, offline route kept: %s", exc.detail)
            return offline
        self.tokens += tokens or 0
        return route

    # ------------------------------------------------------------ data

    def answer_with_data(self, plan: Plan, verified: VerifiedQuery | None) -> None:
        answer = self.answer
        if verified is not None:
            self._run_verified(verified)
        elif plan.confident and plan.sql:
            self._run_plan(plan)
        elif self.model is not None:
            try:
                self._run_writer(plan)
            except ProviderError as exc:
                # The model is down: say so plainly, and offer what works offline.
                self._not_understood(plan)
                offline = (" Les questions ci-dessous fonctionnent hors ligne."
                           if self.lang == "fr" else " The questions below work offline.")
                answer.text = exc.user_message + offline + "\n\n" + answer.text
                answer.error = "ProviderError"
                log.warning("LLM writer unavailable: %s", exc.detail)
                return
        else:
            self._not_understood(plan)
            return
        # Only model-written SQL gets a model-written sentence: the planner's and the verified
        # answers stay deterministic and free.
        if self.model is not None and answer.rows and answer.sql_source == "llm":
            self._summarize()
        if answer.truncated:
            answer.text += (f"\n\n_Résultat tronqué à {answer.row_cap:,} lignes._"
                            if self.lang == "fr" else
                            f"\n\n_Truncated at {answer.row_cap:,} rows._")

    def _execute(self, verdict: GuardResult) -> QueryResult:
        resources = self.resources
        return self.timed("execute", lambda: run_query(
            verdict, resources.reader_pool(self.user),
            statement_timeout_ms=resources.settings.statement_timeout_ms,
            max_rows=resources.settings.max_rows,
        ))

    def _check(self, sql: str) -> GuardResult:
        policy = self.resources.policy_for(self.user)
        verdict = self.timed("guard", lambda: check(sql, policy))
        self.answer.guard_allowed = verdict.allowed
        self.answer.guard_reason = verdict.reason
        if not verdict.allowed:
            self.answer.sql = sql
            raise GuardRejected(
                ("Cette requête a été bloquée : " if self.lang == "fr"
                 else "This query was blocked: ") + (verdict.reason or ""),
                detail=verdict.reason,
            )
        self.answer.sql = verdict.sql
        return verdict

    def _show(self, result: QueryResult, labels: dict[str, str], formats: dict[str, str],
              time_columns: tuple[str, ...], period: str) -> None:
        answer = self.answer
        answer.columns = result.columns
        answer.rows = result.rows
        answer.truncated = result.truncated
        answer.row_cap = result.row_cap
        answer.column_labels = dict(labels)
        answer.column_formats = dict(formats)
        answer.chart = chart_for(result.columns, result.rows, time_columns, formats)
        answer.text = data_sentence(result, labels, formats, self.lang, period)

    def _run_plan(self, plan: Plan) -> None:
        self.answer.sql_source = "planner"
        self.answer.explanation = plan.explanation
        verdict = self._check(plan.sql or "")
        result = self._execute(verdict)
        period = plan.period.label if plan.period and not plan.dimensions else ""
        self._show(result, plan.column_labels, plan.column_formats, plan.time_columns, period)

    def _run_verified(self, verified: VerifiedQuery) -> None:
        answer = self.answer
        answer.sql_source = "verified"
        answer.verified_id = verified.verified_id
        answer.verified_by = verified.badge(self.lang)
        answer.explanation = (
            f"{verified.badge(self.lang)} — « {verified.question} »" if self.lang == "fr"
            else f"{verified.badge(self.lang)} — \"{verified.question}\"")
        verdict = self._check(verified.sql)  # checked again at every run, not only when saved
        result = self._execute(verdict)
        self._show(result, {}, _guess_formats(result), _time_columns(result), "")
        try:
            with self.resources.app_pool.connection() as conn:
                mark_used(conn, verified.verified_id)
        except Exception:  # a usage counter must never cost the user the answer
            log.warning("could not count a verified query's use", exc_info=True)

    def _run_writer(self, plan: Plan) -> None:
        answer, resources = self.answer, self.resources
        assert self.model is not None
        answer.sql_source = "llm"
        question = answer.question
        vector = self.vector()
        catalog = self.timed("schema", resources.schema_catalog)
        policy = resources.policy_for(self.user)
        tables = select_tables(catalog, question, vector, policy.allowed_tables,
                               resources.settings.prompt_token_budget)
        with resources.app_pool.connection() as conn:
            examples = [Example(v.question, v.sql) for v in closest_verified(
                conn, vector, resources.embedder.name, k=3)]
        definitions = definitions_text(resources.model, "en")
        prompt_name = self.model.variant.sql_prompt

        def prompt_for(repair: str) -> SqlPrompt:
            return build_sql_prompt(question, tables, definitions, examples,
                                    prompt_name=prompt_name, repair=repair)

        written = self.timed("llm_sql", lambda: write_and_run(
            question, prompt_for, self.model, policy, self._execute))  # type: ignore[arg-type]
        self.tokens += written.tokens
        last = written.attempts[-1]
        answer.sql = last.sql
        if written.error is not None:
            if last.outcome == "guard":
                answer.guard_allowed, answer.guard_reason = False, last.reason
            raise written.error
        answer.explanation = (
            ("Requête écrite par le modèle " if self.lang == "fr" else "SQL written by the model ")
            + f"{self.model.name}"
            + (f" ({len(written.attempts) - 1} repair round(s))" if len(written.attempts) > 1
               else "")
            + "; definitions from the semantic model.")
        if last.outcome == "cannot_answer" or written.result is None:
            self._not_understood(plan)
            return
        answer.guard_allowed, answer.guard_reason = True, None
        self._show(written.result, {}, _guess_formats(written.result),
                   _time_columns(written.result), "")

    def _summarize(self) -> None:
        answer = self.answer
        assert self.model is not None
        system, user = load_prompt("data_summary_v1").render(
            language=LANGUAGE_NAMES.get(self.lang, "English"),
            question=answer.question,
            explanation=answer.explanation or "",
            row_count=str(len(answer.rows)),
            table=result_preview(answer.columns, answer.rows, answer.column_formats, self.lang),
        )
        try:
            reply = self.timed("llm_answer", lambda: stream(
                self.model, system, user, self.on_token))  # type: ignore[arg-type]
        except ProviderError as exc:
            # The table is right whatever the model does; keep our own sentence.
            log.warning("summary unavailable: %s", exc.detail)
            answer.text += ("\n\n_Le modèle ne répond pas : résumé hors ligne._"
                            if self.lang == "fr"
                            else "\n\n_The model is unavailable: offline summary shown._")
            return
        self.tokens += reply.tokens or 0
        if reply.text.strip():
            answer.text = reply.text.strip()

    def _not_understood(self, plan: Plan) -> None:
        answer, lang = self.answer, self.lang
        answer.explanation = plan.problem
        hints = suggestions(self.resources.model, lang)
        answer.suggestions = hints
        lead = ("Je ne suis pas sûr de comprendre cette question, et je préfère ne pas deviner."
                if lang == "fr" else
                "I am not sure I understand this question, and I would rather not guess.")
        offer = ("Voici des questions proches auxquelles je sais répondre :" if lang == "fr"
                 else "Here are close questions I can answer:")
        detail = f" {plan.problem}" if plan.problem else ""
        answer.text = f"{lead}{detail}\n\n{offer}\n" + "\n".join(f"- {h}" for h in hints)
        answer.error = "not_understood"

    # ------------------------------------------------------------ documents

    def answer_with_documents(self) -> None:
        answer, resources = self.answer, self.resources
        embedder = resources.embedder
        vector = self.vector()
        with resources.app_pool.connection() as conn:
            passages = self.timed("retrieve", lambda: retrieve_chunks(
                conn, embedder, answer.question, self.user.all_groups,
                k=resources.settings.retrieval_k, lang=self.lang, query_vector=vector,
            ))
        answer.sources = sources_from(passages)
        if not answer.sources:
            # The same sentence whether nothing matches or only what this user may not read,
            # and no model call either way (its latency would tell the difference).
            answer.text = not_found_text(self.lang)
            return
        if self.model is None:
            answer.text = self.timed("compose", lambda: extractive_answer(
                answer.question, answer.sources, self.lang))
            return
        self._grounded_answer()

    def _grounded_answer(self) -> None:
        answer = self.answer
        assert self.model is not None
        system, user = load_prompt(self.model.variant.answer_prompt).render(
            language=LANGUAGE_NAMES.get(self.lang, "English"),
            passages=passages_block(answer.sources),
            question=answer.question,
        )
        citations = CitationFilter({s.number for s in answer.sources})
        sink = self.on_token

        def filtered(piece: str) -> None:
            clean = citations.feed(piece)
            if clean and sink is not None:
                sink(clean)

        try:
            reply = self.timed("llm_answer", lambda: stream(
                self.model, system, user, filtered))  # type: ignore[arg-type]
        except ProviderError as exc:
            log.warning("grounded answer unavailable: %s", exc.detail)
            note = ("_Le modèle ne répond pas ; voici les extraits des documents._"
                    if self.lang == "fr" else
                    "_The model is unavailable; here are the excerpts from the documents._")
            answer.text = note + "\n\n" + extractive_answer(answer.question, answer.sources,
                                                             self.lang)
            answer.error = "ProviderError"
            return
        tail = citations.flush()
        if tail and sink is not None:
            sink(tail)
        self.tokens += reply.tokens or 0
        answer.text = filter_citations(reply.text, {s.number for s in answer.sources}).strip()


def _guess_formats(result: QueryResult) -> dict[str, str]:
    """Formats for SQL the planner did not write: money-like and rate-like names."""
    formats: dict[str, str] = {}
    for column in result.columns:
        name = column.lower()
        if any(w in name for w in ("revenue", "amount", "price", "margin_eur", "sales", "target",
                                   "chiffre", "montant", "eur")):
            formats[column] = "eur"
        elif any(w in name for w in ("rate", "share", "pct", "percent", "taux", "part_")):
            formats[column] = "percent"
    return formats


def _time_columns(result: QueryResult) -> tuple[str, ...]:
    return tuple(c for c in result.columns
                 if c.lower() in ("month", "day", "week", "quarter", "year", "date", "mois",
                                  "annee", "period", "order_month", "order_date"))
