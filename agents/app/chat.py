"""What the chat page shows around an answer, decided here so the page only lays it out: the
interface language, the table's cells (formatted as the sentence formats them), the Altair
chart, the answer's origin line, the SQL pretty-printed, and votes.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import sqlglot
from sqlglot.errors import SqlglotError

from agents.ask.answer import Answer, answer_table
from agents.ask.charts import MAX_BARS, altair_chart, axis_label
from agents.ask.formats import format_value
from agents.language import Lang
from agents.messages import say

# Brings the last chat message into view: a regenerated answer is added at the bottom, often
# below what the user sees. Runs in the component's iframe, which shares the app's origin.
SCROLL_TO_LAST = """<script>
const doc = window.parent.document;
const messages = doc.querySelectorAll('[data-testid="stChatMessage"]');
if (messages.length) { messages[messages.length - 1].scrollIntoView({behavior: "smooth"}); }
</script>"""

# The sidebar's language setting: follow each question, or one language for everything.
LANGUAGE_SETTINGS = ("auto", "en", "fr")


def ui_language(setting: str | None, answer_langs: Sequence[str]) -> Lang:
    """The language of the page's own labels: the setting, else the last question's, else en."""
    if setting in ("en", "fr"):
        return setting  # type: ignore[return-value]
    last = answer_langs[-1] if answer_langs else "en"
    return "fr" if last == "fr" else "en"


def answer_language(answer: Answer, setting: str | None) -> Lang:
    """An answer's labels: in the question's language unless the user chose one."""
    return ui_language(setting, [answer.lang])


def table_cells(answer: Answer, lang: str) -> tuple[list[str], list[list[str]]]:
    """Headers and cells as shown: numbers formatted like the sentence ("€108.6M")."""
    headers, _ = answer_table(answer)
    cells = [[format_value(v, answer.column_formats.get(c), lang) if not isinstance(v, str)
              and v is not None and not _is_axis(answer, c) else axis_label(v)
              for c, v in zip(answer.columns, row, strict=True)] for row in answer.rows]
    return headers, cells


def _is_axis(answer: Answer, column: str) -> bool:
    """A year (2017) is a label, not a figure: no thousands separator."""
    chart = answer.chart
    return column in (chart.x, chart.color)


def chart_of(answer: Answer, lang: str) -> alt.Chart | None:
    headers, cells = table_cells(answer, lang)
    return altair_chart(answer.chart, answer.columns, answer.rows,
                        dict(zip(answer.columns, headers, strict=True)), cells,
                        answer.column_formats, lang)


def chart_note(answer: Answer, lang: str) -> str | None:
    """Says when the bar chart shows the first rows only."""
    if answer.chart.kind == "bar" and len(answer.rows) > MAX_BARS:
        return say("app.chart_first", lang, shown=MAX_BARS, rows=len(answer.rows))
    return None


def figure(answer: Answer, lang: str) -> tuple[str, str, str | None] | None:
    """A metric card: (label, value, delta) for one value or a comparison, else None."""
    chart, row = answer.chart, (answer.rows[0] if answer.rows else None)
    if row is None or chart.kind not in ("metric", "compare") or not chart.y:
        return None
    headers, cells = table_cells(answer, lang)
    at = {c: i for i, c in enumerate(answer.columns)}
    first = at[chart.y[0]]
    if chart.kind == "metric":
        return headers[first], cells[0][first], None
    _, _, change, pct = chart.y
    delta = format_value(row[at[change]], answer.column_formats.get(change), lang, signed=True)
    if row[at[pct]] is not None:
        delta += " (" + format_value(row[at[pct]], "percent", lang, signed=True) + ")"
    return headers[first], cells[0][first], delta


def origin_line(answer: Answer, lang: str, *, show_variant: bool) -> str:
    """"From the warehouse · offline", in the page's language."""
    parts = []
    if answer.route in ("sql", "docs", "both"):
        parts.append(say(f"app.origin_{answer.route}", lang))
    if answer.variant and show_variant:
        parts.append(say("app.variant", lang, variant=answer.variant))
    parts.append(say("app.mode_offline", lang) if answer.mode == "offline"
                 else say("app.mode_model", lang, model=answer.mode.removeprefix("llm:")))
    return " · ".join(parts)


def pretty_sql(sql: str | None) -> str:
    """SQL laid out on several lines by sqlglot (Postgres dialect); as written if unparsable."""
    if not sql:
        return ""
    try:
        return ";\n".join(sqlglot.transpile(sql, read="postgres", write="postgres",
                                            pretty=True))
    except SqlglotError:
        return sql


def csv_name(answer: Answer) -> str:
    return f"sourced-{answer.answer_id[:8]}.csv"
