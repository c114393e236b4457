"""The one step that builds an `Answer`: from the parts the branches returned, or from the
failure that stopped them, plus what the whole question cost."""

from __future__ import annotations

from collections.abc import Sequence

from agents.ask.answer import Answer, Fault
from agents.ask.parts import DataPart, DocsPart, Failure, Part, Refusal, SqlTrace, Table
from agents.ask.router import RouteName
from agents.ask.turn import Timings, Turn
from agents.errors import AssistantError, BadInput
from agents.language import detect_language
from agents.messages import say
from agents.sql.executor import QueryResult
from agents.store.users import User

ORIGINS: dict[RouteName, str] = {
    "sql": "from the warehouse", "docs": "from documents",
    "both": "from the warehouse and documents",
}


def compose(turn: Turn, route: RouteName, parts: Sequence[Part], failure: Failure | None, *,
            variant: str | None, regenerated_from: str | None) -> Answer:
    """The answer of `parts`, in route order: for "both" the data part, then the documents'."""
    refusal = next((p for p in parts if isinstance(p, Refusal)), None)
    data = next((p for p in parts if isinstance(p, DataPart)), None) or DataPart("")
    docs = next((p for p in parts if isinstance(p, DocsPart)), None) or DocsPart("")
    fault = failure.fault if failure is not None else docs.fault or data.fault
    trace: SqlTrace = data.trace
    table = data.table or Table(QueryResult([], [], truncated=False, row_cap=None, elapsed_ms=0))
    return Answer(
        question=turn.question, user=turn.user.login, route=route,
        text=failure.text if failure is not None else "\n\n".join(p.text for p in parts),
        mode=turn.resources.settings.mode, lang=turn.lang,
        sql=trace.sql, explanation=trace.explanation,
        columns=table.result.columns, rows=table.result.rows,
        column_labels=table.labels, column_formats=table.formats,
        truncated=table.result.truncated, row_cap=table.result.row_cap, chart=table.chart,
        sources=list(docs.sources),
        timings_ms=turn.timings.with_total(),
        origin=ORIGINS.get(route, ""),
        guard_allowed=trace.guard_allowed, guard_reason=trace.guard_reason,
        error=fault.code if fault is not None else None,
        refusal_reason=refusal.reason if refusal is not None else None,
        suggestions=list(data.suggestions),
        verified_by=trace.verified_by, verified_id=trace.verified_id, sql_source=trace.source,
        understood_as=trace.understood_as, not_understood=list(trace.not_understood),
        variant=variant, regenerated_from=regenerated_from,
        tokens=turn.timings.tokens or None,
        documents_text=docs.text if route == "both" and failure is None and data.text else "",
    )


def failure_of(exc: Exception, parts: Sequence[Part], lang: str) -> Failure:
    """A failed stage's message above what was answered until then; a bug's apology alone."""
    if isinstance(exc, AssistantError):
        so_far = "\n\n".join(p.text for p in parts if p.text)
        return Failure(f"{exc.user_message}\n\n{so_far}" if so_far else exc.user_message,
                       Fault.of(exc))
    return Failure(say("ask.internal_error", lang), Fault.of(exc))


def bad_input_answer(question: object, user_login: str | User, exc: BadInput, mode: str,
                     timings: Timings) -> Answer:
    """The answer to a question that cannot be read, or from a user who is not known."""
    raw = question if isinstance(question, str) else repr(question)[:200]
    who = user_login.login if isinstance(user_login, User) else str(user_login)
    return Answer(question=raw[:2000], user=who[:100], route="refused",
                  text=exc.user_message, mode=mode,
                  lang=detect_language(raw) if isinstance(question, str) else "en",
                  error=Fault("bad_input").code, refusal_reason=exc.user_message,
                  timings_ms=timings.with_total())
