"""The SQL workbench: analysts run their own SQL, save verified queries and work the review queue.

Analyst SQL gets no special path to the database: the same guard policy as the user's chat
questions, the same read-only reader role, row cap and statement timeout. The workbench only
adds a place to type it. Every function converts database failures into AssistantError
subclasses, so the page shows a sentence, never a traceback.

The review queue follows the monitoring page's rule (agents/app/monitoring/visibility.py): a
review of an answer that cited a document the analyst may not read keeps its question and SQL,
and withholds, shown empty, who raised it and their comment, as if that document did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from agents.app.documents import readable_paths, reading_groups
from agents.app.monitoring.visibility import hides_a_document
from agents.ask.answer import Chart
from agents.ask.charts import altair_chart, chart_for
from agents.ask.formats import format_value
from agents.errors import BadInput, QueryTimeout, SqlError, store_errors
from agents.messages import say
from agents.resources import Resources
from agents.sql.executor import run_query
from agents.sql.verified import (
    Review,
    VerifiedQuery,
    approve_review,
    is_analyst,
    list_verified,
    pending_reviews,
    reject_review,
    save_verified,
)
from agents.sql.writer import TableInfo
from agents.store.users import User
from sql_guard import GuardResult, check

# Far above any query written by hand; stops a pasted dump from reaching the parser.
MAX_SQL_CHARS = 20_000
# Column names that mean "time" when the values themselves are numbers (2018, 3): chart_for
# recognises date values by itself, not an integer year. Mirrors the chat's guess for SQL the
# planner did not write (agents/ask/data.py, _time_columns).
TIME_NAMES = frozenset({"month", "day", "week", "quarter", "year", "date", "mois", "annee",
                        "period", "order_month", "order_date"})
NOT_AN_ANALYST = say("workbench.not_an_analyst", "en")


@dataclass(frozen=True)
class WorkbenchRun:
    """One run of analyst SQL: the guard's verdict and, when it ran, the result.

    `error` is the sentence to show when nothing useful came back: the guard's reason (then
    nothing was executed) or the database's refusal or timeout.
    """

    sql: str
    verdict: GuardResult
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    row_cap: int | None = None
    elapsed_ms: float | None = None
    chart: Chart = field(default_factory=lambda: Chart("none"))
    error: str | None = None

    @property
    def executed(self) -> bool:
        return self.elapsed_ms is not None


def require_analyst(user: User, lang: str = "en") -> None:
    if not is_analyst(user):
        raise BadInput(say("workbench.not_an_analyst", lang))


def run_analyst_sql(sql: str, user: User, resources: Resources,
                    lang: str = "en") -> WorkbenchRun:
    """Guard-check `sql` with the user's policy and, if allowed, run it as their reader role.
    The workbench's own sentences are in `lang` (the guard's reason stays as it says it)."""
    require_analyst(user, lang)
    text = (sql or "").strip()
    if not text:
        raise BadInput(say("workbench.empty_sql", lang))
    if len(text) > MAX_SQL_CHARS:
        raise BadInput(say("workbench.too_long", lang,
                           chars=format_value(MAX_SQL_CHARS, None, lang)))
    verdict = check(text, resources.policy_for(user))
    if not verdict.allowed:
        return WorkbenchRun(text, verdict,
                            error=say("workbench.blocked", lang, reason=verdict.reason))
    settings = resources.settings
    try:
        result = run_query(verdict, resources.reader_pool(user),
                           statement_timeout_ms=settings.statement_timeout_ms,
                           max_rows=settings.max_rows)
    except (QueryTimeout, SqlError) as exc:
        # A typo in a column name is the normal life of a workbench, not a failure of the app.
        return WorkbenchRun(text, verdict, error=exc.user_message)
    time_columns = tuple(c for c in result.columns if c.lower() in TIME_NAMES)
    return WorkbenchRun(
        sql=text,
        verdict=verdict,
        columns=result.columns,
        rows=result.rows,
        truncated=result.truncated,
        row_cap=result.row_cap,
        elapsed_ms=result.elapsed_ms,
        chart=chart_for(result.columns, result.rows, time_columns, {}),
    )


def rows_line(run: WorkbenchRun, lang: str) -> str:
    """"1,204 rows in 35 ms.", with the cap when the result was cut off, in `lang`."""
    rows = format_value(len(run.rows), None, lang)
    if run.elapsed_ms is None:
        return say("workbench.rows", lang, rows=rows)
    ms = format_value(round(run.elapsed_ms), None, lang)
    if run.truncated and run.row_cap:
        return say("workbench.rows_cut", lang, rows=rows, ms=ms,
                   cap=format_value(run.row_cap, None, lang))
    return say("workbench.rows_timed", lang, rows=rows, ms=ms)


def result_frame(run: WorkbenchRun) -> pd.DataFrame:
    """The result for display: unique column names (SQL allows two `count` columns, a frame's
    chart and Arrow conversion do not) and floats instead of Decimals."""
    names: list[str] = []
    for column in run.columns:
        name, n = column, 2
        while name in names:
            name, n = f"{column} ({n})", n + 1
        names.append(name)
    rows = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in run.rows]
    return pd.DataFrame(rows, columns=names)


def number_formats(run: WorkbenchRun) -> dict[str, str]:
    """Streamlit column formats for the result's number columns: thousands separators, so
    2535494.26 reads 2,535,494.26 (the year-like columns stay plain)."""
    frame = result_frame(run)
    return {name: "plain" if name.lower() in TIME_NAMES else "localized"
            for name, kind in frame.dtypes.items()
            if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)}


def schema_tables(resources: Resources, user: User, lang: str = "en") -> list[TableInfo]:
    """The warehouse tables `user` may query, with their columns and comments (the same
    catalog the SQL writer reads); a table the user may not query is not listed at all."""
    require_analyst(user, lang)
    policy = resources.policy_for(user).allowed_tables
    allowed = resources.warehouse_tables if policy is None else policy
    names = {t.lower() for t in allowed}
    with store_errors(say("workbench.schema_unreadable", lang)):
        tables = resources.schema_catalog().tables
    return [t for t in tables if t.name.lower() in names]


def _headers(lang: str, *names: str) -> list[str]:
    return [say(f"workbench.col.{name}", lang) for name in names]


def columns_frame(table: TableInfo, lang: str = "en") -> pd.DataFrame:
    headers = _headers(lang, "column", "type", "comment")
    return pd.DataFrame([(c.name, c.type, c.comment or "") for c in table.columns],
                        columns=headers)


def run_chart(run: WorkbenchRun, lang: str = "en") -> alt.Chart | None:
    """The result's chart, drawn as the chat draws one (ordinal years, table order, a legend
    for a second dimension); numbers keep their plain format, the SQL says nothing more."""
    shown = [[format_value(v, None, lang) for v in row] for row in run.rows]
    return altair_chart(run.chart, run.columns, run.rows, {}, shown, {}, lang)


# ---------------------------------------------------------------- verified queries and reviews


def save_query(resources: Resources, user: User, question: str, sql: str) -> VerifiedQuery:
    """Save an analyst's question + SQL as a verified query (guard-checked with their policy)."""
    require_analyst(user)
    return save_verified(resources.app_pool, resources.embedder, user, question, sql,
                         resources.policy_for(user))


def review_queue(resources: Resources, user: User, lang: str = "en") -> list[Review]:
    """The pending reviews as `user` may see them (see the module doc)."""
    require_analyst(user, lang)
    reviews = pending_reviews(resources.app_pool)
    if not any(r.documents for r in reviews):
        return reviews
    with store_errors(say("workbench.queue_unreadable", lang)):
        readable = readable_paths(resources.app_pool, reading_groups(user))
    return [replace(r, proposed_by="", comment=None, documents=())
            if hides_a_document(r.documents, readable) else r for r in reviews]


def verified_queries(resources: Resources, user: User) -> list[VerifiedQuery]:
    require_analyst(user)
    return list_verified(resources.app_pool)


def approve(resources: Resources, user: User, review_id: int, sql: str | None) -> VerifiedQuery:
    """Approve a review with the analyst's (possibly edited) SQL: it becomes a verified query."""
    require_analyst(user)
    return approve_review(resources.app_pool, resources.embedder, review_id, user,
                          resources.policy_for(user), sql=(sql or "").strip() or None)


def reject(resources: Resources, user: User, review_id: int, note: str | None) -> None:
    require_analyst(user)
    reject_review(resources.app_pool, review_id, user, (note or "").strip() or None)


def verified_frame(queries: list[VerifiedQuery], lang: str = "en") -> pd.DataFrame:
    return pd.DataFrame(
        [(q.question, q.sql, q.created_by, q.created_at.strftime("%Y-%m-%d %H:%M"))
         for q in queries],
        columns=_headers(lang, "question", "sql", "verified_by", "saved"),
    )
