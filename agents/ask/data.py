"""Data answers: an analyst's verified query, the offline planner's SQL or the LLM writer's,
each checked by the SQL guard and run read-only with the reader role of the user's profile."""

from __future__ import annotations

import logging
from dataclasses import replace

from agents.ask.answer import Fault
from agents.ask.charts import chart_for
from agents.ask.formats import result_preview
from agents.ask.parts import MODEL_DOWN, DataPart, SqlTrace, Stopped, Table, keeping
from agents.ask.summary import summary
from agents.ask.turn import Turn
from agents.ask.understood import close_questions, honest_lead, restated, unplaced
from agents.errors import GuardRejected, ProviderError
from agents.messages import say
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, stream
from agents.sql.executor import QueryResult
from agents.sql.planner import Plan
from agents.sql.planner.rules import is_additive
from agents.sql.verified import VerifiedQuery, closest_verified, mark_used
from agents.sql.writer import (
    Example,
    SqlPrompt,
    WrittenQuery,
    build_sql_prompt,
    definitions_text,
    select_tables,
    write_and_run,
)
from sql_guard import GuardResult, check

log = logging.getLogger("sourced.ask")


def data_answer(turn: Turn, plan: Plan, verified: VerifiedQuery | None) -> DataPart:
    """A verified query when one matched, else the planner when confident, else the writer."""
    model = turn.model
    if verified is not None:
        part = _run_verified(turn, verified)
    elif plan.confident and plan.sql:
        part = _run_plan(turn, plan)
    elif model is not None:
        part = _run_writer(turn, plan, model)
    else:
        return _not_understood(turn, plan, SqlTrace())
    table = part.table
    # Only model-written SQL gets a model-written sentence: the planner's and the verified
    # answers stay deterministic and free.
    if model is not None and table is not None and table.result.rows \
            and part.trace.source == "llm":
        part = _summarized(turn, part, table, model)
    if table is not None and table.result.truncated:
        note = say("ask.truncated", turn.lang, rows=f"{table.result.row_cap:,}")
        part = replace(part, text=f"{part.text}\n\n{note}")
    return part


def _run_plan(turn: Turn, plan: Plan) -> DataPart:
    trace = SqlTrace(source="planner", explanation=plan.explanation,
                     understood_as=restated(plan, turn.resources.model) or plan.explanation,
                     not_understood=unplaced(plan.not_understood))
    trace, verdict = _checked(turn, trace, plan.sql or "")
    period = plan.period.label if plan.period and not plan.dimensions else ""
    metrics = turn.resources.model.metrics
    additive = bool(plan.metrics) and all(m in metrics and is_additive(metrics[m])
                                          for m in plan.metrics)
    with keeping(DataPart("", trace)):
        return _shown(turn, trace, turn.execute(verdict), plan.column_labels,
                      plan.column_formats, plan.time_columns, period, additive=additive,
                      own_limit=verdict.row_cap is None)


def _run_verified(turn: Turn, verified: VerifiedQuery) -> DataPart:
    badge = verified.badge(turn.lang)
    explanation = say("ask.verified_explanation", turn.lang, badge=badge,
                      question=verified.question)
    trace = SqlTrace(source="verified", explanation=explanation,
                     verified_id=verified.verified_id, verified_by=badge,
                     understood_as=say("ask.understood_verified", turn.lang,
                                       question=verified.question))
    # Checked again at every run, not only when saved.
    trace, verdict = _checked(turn, trace, verified.sql)
    with keeping(DataPart("", trace)):
        part = _shown_guessing(turn, trace, turn.execute(verdict),
                               own_limit=verdict.row_cap is None)
    try:
        with turn.resources.app_pool.connection() as conn:
            mark_used(conn, verified.verified_id)
    except Exception:  # a usage counter must never cost the user the answer
        log.warning("could not count a verified query's use", exc_info=True)
    return part


def _run_writer(turn: Turn, plan: Plan, model: ChatModel) -> DataPart:
    # What the offline planner could not place, though the model may have understood it.
    trace = SqlTrace(source="llm", not_understood=unplaced(plan.not_understood),
                     understood_as=say("ask.understood_by_model", turn.lang,
                                       question=turn.question))
    try:
        written = _write(turn, model)
    except ProviderError as exc:
        return _model_down(turn, plan, trace, exc)
    except Exception as exc:
        raise Stopped(exc, DataPart("", trace)) from exc
    turn.timings.count(written.tokens)
    last = written.attempts[-1]
    trace = replace(trace, sql=last.sql)
    if isinstance(written.error, ProviderError):
        return _model_down(turn, plan, trace, written.error)
    if written.error is not None:
        if last.outcome == "guard":
            trace = replace(trace, guard_allowed=False, guard_reason=last.reason)
        raise Stopped(written.error, DataPart("", trace))
    rounds = len(written.attempts) - 1
    repairs = f" {say('ask.repair_rounds', turn.lang, count=rounds)}" if rounds else ""
    trace = replace(trace, explanation=say("ask.sql_by_model", turn.lang, model=model.name,
                                           repairs=repairs))
    if last.outcome == "cannot_answer" or written.result is None:
        return _not_understood(turn, plan, trace)
    trace = replace(trace, guard_allowed=True, guard_reason=None)
    with keeping(DataPart("", trace)):
        return _shown_guessing(turn, trace, written.result, own_limit=(
            written.verdict is None or written.verdict.row_cap is None))


def _model_down(turn: Turn, plan: Plan, trace: SqlTrace, exc: ProviderError) -> DataPart:
    """The model is down: say so plainly, and offer what works offline."""
    log.warning("LLM writer unavailable: %s", exc.detail)
    understood = _not_understood(turn, plan, trace)
    offline = say("ask.works_offline", turn.lang)
    return replace(understood, text=f"{exc.user_message} {offline}\n\n{understood.text}",
                   fault=MODEL_DOWN)


def _write(turn: Turn, model: ChatModel) -> WrittenQuery:
    """The model's SQL for the question, guarded and run, repaired when refused."""
    resources, question = turn.resources, turn.question
    vector = turn.vector
    catalog = turn.timed("schema", resources.schema_catalog)
    policy = resources.policy_for(turn.user)
    tables = select_tables(catalog, question, vector, policy.allowed_tables,
                           resources.settings.prompt_token_budget)
    with resources.app_pool.connection() as conn:
        examples = [Example(v.question, v.sql) for v in closest_verified(
            conn, vector, resources.embedder.name, k=3)]
    definitions = definitions_text(resources.model, "en")
    prompt_name = model.variant.sql_prompt

    def prompt_for(repair: str) -> SqlPrompt:
        return build_sql_prompt(question, tables, definitions, examples,
                                prompt_name=prompt_name, repair=repair)

    return turn.timed("llm_sql", lambda: write_and_run(
        question, prompt_for, model, policy, turn.execute))


def _checked(turn: Turn, trace: SqlTrace, sql: str) -> tuple[SqlTrace, GuardResult]:
    """The guard's verdict, kept on the trace; a refused statement stops the answer unrun."""
    with keeping(DataPart("", trace)):
        policy = turn.resources.policy_for(turn.user)
        verdict = turn.timed("guard", lambda: check(sql, policy))
    trace = replace(trace, guard_allowed=verdict.allowed, guard_reason=verdict.reason,
                    sql=verdict.sql if verdict.allowed else sql)
    if not verdict.allowed:
        message = say("ask.query_blocked", turn.lang, reason=verdict.reason or "")
        raise Stopped(GuardRejected(message, detail=verdict.reason), DataPart("", trace))
    return trace, verdict


def _shown(turn: Turn, trace: SqlTrace, result: QueryResult, labels: dict[str, str],
           formats: dict[str, str], time_columns: tuple[str, ...], period: str, *,
           additive: bool = False, own_limit: bool = False) -> DataPart:
    """`own_limit`: the query's own LIMIT chose the rows (a top N; the guard kept it, imposing
    no row cap of its own), so they are not the whole breakdown."""
    if len(result.rows) == 1 and all(value is None for value in result.rows[0]):
        # An aggregate over no rows (a sum, an average) is one row of NULL: no figure to show
        # ("Revenue: None"), and for a user limited to part of the data, perhaps only outside it.
        result = replace(result, rows=[])
    chart = chart_for(result.columns, result.rows, time_columns, formats)
    text = summary(result.columns, result.rows, chart, labels, formats, turn.lang,
                   period=period, additive=additive,
                   complete=not own_limit and not result.truncated)
    if turn.user.scope and (not result.rows or (
            len(result.rows) == 1 and all(value in (0, None) for value in result.rows[0]))):
        # Nothing, or zero, within the user's part of the data: say which part that is.
        text += " " + say("ask.no_rows_in_scope", turn.lang, scope=turn.user.scope_values)
    return DataPart(text, trace, Table(result, dict(labels), dict(formats), chart))


def _shown_guessing(turn: Turn, trace: SqlTrace, result: QueryResult, *,
                    own_limit: bool = False) -> DataPart:
    """A result of SQL the planner did not write: formats and time axes guessed from names."""
    return _shown(turn, trace, result, {}, _guess_formats(result), _time_columns(result), "",
                  own_limit=own_limit)


def _summarized(turn: Turn, part: DataPart, table: Table, model: ChatModel) -> DataPart:
    """The model's sentence about the rows in place of ours, streamed as it comes."""
    rows = table.result.rows
    with keeping(part):
        system, user = load_prompt("data_summary_v1").render(
            language=turn.language_name,
            question=turn.question,
            explanation=part.trace.explanation or "",
            row_count=str(len(rows)),
            table=result_preview(table.result.columns, rows, table.formats, turn.lang),
        )
        try:
            reply = turn.timed("llm_answer", lambda: stream(model, system, user, turn.on_token))
        except ProviderError as exc:
            # The table is right whatever the model does; keep our own sentence.
            log.warning("summary unavailable: %s", exc.detail)
            note = say("ask.summary_unavailable", turn.lang)
            return replace(part, text=f"{part.text}\n\n{note}")
    turn.timings.count(reply.tokens)
    return replace(part, text=reply.text.strip()) if reply.text.strip() else part


def _not_understood(turn: Turn, plan: Plan, trace: SqlTrace) -> DataPart:
    """The honest answer: the words not understood, what was, and close questions that work."""
    lang = turn.lang
    words = unplaced(plan.not_understood)
    understood = restated(plan, turn.resources.model)
    hints = turn.timed("plan", lambda: close_questions(plan, turn.resources.planning, lang))
    lead, offer = honest_lead(plan, words, understood, lang), say("ask.close_questions", lang)
    text = f"{lead}\n\n{offer}\n" + "\n".join(f"- {h}" for h in hints)
    trace = replace(trace, explanation=plan.problem, understood_as=understood,
                    not_understood=words)
    return DataPart(text, trace, suggestions=tuple(hints), fault=Fault("not_understood"))


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
