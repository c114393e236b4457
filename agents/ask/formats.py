"""Numbers as a reader expects them: EUR, percentages and counts in French or English style
("€108.6M", "108,6 M€"), and the small table a summary prompt shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

NBSP = "\u00a0"
# Money from this size on reads in millions (or billions): "€108.6M", "108,6 M€".
COMPACT_FROM = 1_000_000


def format_value(value: Any, fmt: str | None, lang: str, *, signed: bool = False) -> str:
    """EUR (compact from a million), percentages, plain counts; French or English style.

    The table and the sentence both format a figure here, so they round it the same way.
    `signed` puts a + before a positive figure (a change).
    """
    if value is None:
        return "—"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return str(value)
    number = float(value)
    sign = "-" if number < 0 else ("+" if signed and number > 0 else "")
    text = _unsigned(abs(number), fmt, lang)
    return f"{sign}{text}"


def _unsigned(number: float, fmt: str | None, lang: str) -> str:
    if fmt == "percent":
        text = _localize(f"{number * 100:,.1f}", lang)
        return text + (f"{NBSP}%" if lang == "fr" else "%")
    if fmt == "eur":
        return _euros(number, lang)
    if fmt in ("score", "hours"):
        text = _localize(f"{number:,.2f}", lang)
        return text + (f"{NBSP}h" if fmt == "hours" else "")
    if number == int(number):
        return _localize(f"{int(number):,}", lang)
    return _localize(f"{number:,.2f}", lang)


def _euros(number: float, lang: str) -> str:
    if number >= COMPACT_FROM:
        size, en, fr = (1e9, "B", "Md") if number >= 1e9 else (1e6, "M", "M")
        scaled = f"{number / size:,.1f}"
        return f"€{scaled}{en}" if lang == "en" else f"{_localize(scaled, lang)}{NBSP}{fr}€"
    text = f"{number:,.0f}" if number >= 100 else f"{number:,.2f}"
    return ("€" + text) if lang == "en" else (_localize(text, lang) + f"{NBSP}€")


def _localize(text: str, lang: str) -> str:
    if lang != "fr":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def result_preview(columns: list[str], rows: list[tuple[Any, ...]], formats: dict[str, str],
                   lang: str, limit: int = 20) -> str:
    """The first rows as a small text table for the summary prompt (formatted like the app)."""
    lines = [" | ".join(columns)]
    for row in rows[:limit]:
        lines.append(" | ".join(format_value(v, formats.get(c), lang)
                                for c, v in zip(columns, row, strict=True)))
    return "\n".join(lines)
