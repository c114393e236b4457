"""Which chart a data answer gets: chosen from the result's shape and column types, never from
model-written code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from agents.ask.answer import Chart


def chart_for(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    time_columns: tuple[str, ...],
    formats: dict[str, str],
) -> Chart:
    """Pick a chart from the result's shape and column types (never from model-written code)."""
    if not rows or not columns:
        return Chart("none")
    numeric = [
        c
        for i, c in enumerate(columns)
        if all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        and any(r[i] is not None for r in rows)
    ]
    labels = [c for c in columns if c not in numeric]
    # An integer year or month is numeric but is the axis, not the figure: measuring it would
    # plot `year` against itself (and show 2018 as the key metric of "revenue in 2018").
    values = [c for c in numeric if c not in time_columns] or numeric
    if len(rows) == 1 and len(numeric) >= 1 and not labels:
        return Chart("metric", None, tuple(values[:1]))
    if not numeric:
        return Chart("none")
    measure = tuple(c for c in values if formats.get(c) != "percent" or len(values) == 1)[
        :1
    ] or tuple(values[:1])
    time_like = [c for c in columns if c in time_columns] or [
        c
        for i, c in enumerate(columns)
        if c in labels and all(isinstance(r[i], date) for r in rows)
    ]
    if time_like:
        if measure[0] == time_like[0]:  # only time columns are numeric: nothing to plot
            return Chart("none")
        return Chart("line", time_like[0], measure)
    if labels:
        return Chart("bar", labels[0], measure)
    if numeric and len(numeric) > 1 and columns[0] in numeric and columns[0] in time_columns:
        return Chart("line", columns[0], measure)
    return Chart("none")
