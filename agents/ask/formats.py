"""Numbers as a reader expects them: EUR, percentages and counts in French or English style,
the one sentence with a result's key figure, and the small table a summary prompt shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from agents.messages import say
from agents.sql.executor import QueryResult


def format_value(value: Any, fmt: str | None, lang: str) -> str:
    """EUR with thousands separators, percentages, plain counts; French or English style."""
    if value is None:
        return "—"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, int | float | Decimal):
        return str(value)
    number = float(value)
    if fmt == "percent":
        text = f"{number * 100:,.1f}"
        return _localize(text, lang) + (" %" if lang == "fr" else "%")
    if fmt == "eur":
        text = f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.2f}"
        return ("€" + text) if lang == "en" else (_localize(text, lang) + " €")
    if fmt in ("score", "hours"):
        text = _localize(f"{number:,.2f}", lang)
        return text + (" h" if fmt == "hours" else "")
    if number == int(number):
        return _localize(f"{int(number):,}", lang)
    return _localize(f"{number:,.2f}", lang)


def _localize(text: str, lang: str) -> str:
    if lang != "fr":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def data_sentence(
    result: QueryResult,
    labels: dict[str, str],
    formats: dict[str, str],
    lang: str,
    period_words: str = "",
) -> str:
    """One sentence with the key figure."""
    if not result.rows:
        return say("ask.no_rows", lang)
    columns = result.columns
    first = result.rows[0]
    if len(result.rows) == 1:
        parts = [
            f"{labels.get(c, c)}: **{format_value(v, formats.get(c), lang)}**"
            for c, v in zip(columns, first, strict=True)
        ]
        return "; ".join(parts) + (f" ({period_words})" if period_words else "") + "."
    numeric_idx = next(
        (
            i
            for i, c in enumerate(columns)
            if formats.get(c) and isinstance(first[i], int | float | Decimal)
        ),
        None,
    )
    count = len(result.rows)
    if numeric_idx is None:
        return say("ask.row_count", lang, count=count)
    label_idx = next(
        (i for i, v in enumerate(first) if not isinstance(v, int | float | Decimal)), None
    )
    column = columns[numeric_idx]
    value = format_value(first[numeric_idx], formats.get(column), lang)
    lead = str(first[label_idx]) if label_idx is not None else ""
    return say("ask.rows_first", lang, count=count, lead=lead,
               label=labels.get(column, column), value=value)


def result_preview(columns: list[str], rows: list[tuple[Any, ...]], formats: dict[str, str],
                   lang: str, limit: int = 20) -> str:
    """The first rows as a small text table for the summary prompt (formatted like the app)."""
    lines = [" | ".join(columns)]
    for row in rows[:limit]:
        lines.append(" | ".join(format_value(v, formats.get(c), lang)
                                for c, v in zip(columns, row, strict=True)))
    return "\n".join(lines)
