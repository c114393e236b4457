"""The sentence a person would write about a result, in the question's language, from the
result's shape (the chart `chart_for` chose), never from model output:

- one value: the figure with its period ("Revenue: **€115.1M** (2018).");
- a comparison: the figure, the change and the percent change;
- a breakdown: the leader, its value and, for a sum or a count, its share and the total;
- a time series: the trend from the first to the last point, and the peak.

Every figure is formatted by `format_value`, as the table formats it, so both round the same.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.ask.answer import Chart
from agents.ask.charts import axis_label
from agents.ask.formats import format_value
from agents.messages import say

# Below this relative change a trend reads as flat.
FLAT = 0.01


def _num(value: Any) -> float | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    return None


def summary(columns: list[str], rows: list[tuple[Any, ...]], chart: Chart,
            labels: dict[str, str], formats: dict[str, str], lang: str, *,
            period: str = "", additive: bool = False, complete: bool = True) -> str:
    """One or two sentences with the result's key figures (see the module doc).

    `additive`: the measure is a sum or a count, so a share of the total means something.
    `complete`: the rows are the whole breakdown (no top N, not cut at the row cap); else the
    sum of the rows is not the total, and no share of it is said.
    """
    if not rows:
        return say("ask.no_rows", lang)
    name = {c: labels.get(c, c.replace("_", " ").capitalize()) for c in columns}

    def fmt(column: str, value: Any, *, signed: bool = False) -> str:
        return format_value(value, formats.get(column), lang, signed=signed)

    if chart.kind == "compare":
        return _comparison(rows[0], columns, chart, name, fmt, lang)
    if chart.kind in ("bar", "line") and chart.x and chart.y and len(rows) > 1:
        x, y = columns.index(chart.x), columns.index(chart.y[0])
        points = [(r, _num(r[y])) for r in rows]
        valued = [(r, v) for r, v in points if v is not None]
        if valued:
            if chart.kind == "line" and chart.color is None:
                return _trend(valued, x, chart.y[0], name, fmt, lang,
                              is_rate=formats.get(chart.y[0]) == "percent")
            return _breakdown(valued, columns, chart, name, fmt, lang,
                              additive=additive and complete
                              and formats.get(chart.y[0]) != "percent")
    return _single(rows[0], columns, name, fmt, period)


def _single(row: tuple[Any, ...], columns: list[str], name: dict[str, str], fmt: Any,
            period: str) -> str:
    parts = [f"{name[c]}: **{fmt(c, v)}**" if _num(v) is not None else f"{name[c]}: {v}"
             for c, v in zip(columns, row, strict=True)]
    return "; ".join(parts) + (f" ({period})" if period else "") + "."


def _comparison(row: tuple[Any, ...], columns: list[str], chart: Chart, name: dict[str, str],
                fmt: Any, lang: str) -> str:
    current, previous, change, pct = chart.y
    value = dict(zip(columns, row, strict=True))
    delta, ratio = _num(value[change]), _num(value[pct])
    values = {"current_label": name[current], "current": fmt(current, value[current]),
              "previous_label": name[previous], "previous": fmt(previous, value[previous])}
    if delta is None or delta == 0:
        return say("summary.compare_same", lang, **values)
    percent = f" ({fmt(pct, ratio, signed=True)})" if ratio is not None else ""
    key = "summary.compare_up" if delta > 0 else "summary.compare_down"
    return say(key, lang, change=fmt(change, abs(delta)), percent=percent, **values)


def _trend(points: list[tuple[tuple[Any, ...], float]], x: int, measure: str,
           name: dict[str, str], fmt: Any, lang: str, *, is_rate: bool) -> str:
    (first_row, first), (last_row, last) = points[0], points[-1]
    peak_row, peak = max(points, key=lambda p: p[1])
    values = {"label": name[measure], "first": fmt(measure, first),
              "first_at": axis_label(first_row[x]), "last": fmt(measure, last),
              "last_at": axis_label(last_row[x])}
    if first and abs(last - first) / abs(first) >= FLAT:
        # A rate's relative change (+9.9% of 4.5%) reads as points: the two rates say enough.
        change = format_value((last - first) / abs(first), "percent", lang, signed=True)
        percent = f" ({change})" if not is_rate else ""
        key = "summary.trend_up" if last > first else "summary.trend_down"
        sentence = say(key, lang, percent=percent, **values)
    else:
        sentence = say("summary.trend_flat", lang, **values)
    return sentence + " " + say("summary.peak", lang, peak=fmt(measure, peak),
                                at=axis_label(peak_row[x]))


def _breakdown(points: list[tuple[tuple[Any, ...], float]], columns: list[str], chart: Chart,
               name: dict[str, str], fmt: Any, lang: str, *, additive: bool) -> str:
    assert chart.x is not None
    measure = chart.y[0]
    keys = [columns.index(chart.x)] + ([columns.index(chart.color)] if chart.color else [])
    count, total = len(points), sum(v for _, v in points)
    if chart.kind == "line" and chart.color and additive:
        # One line per series: the leader is the series with the largest sum over the period.
        series = columns.index(chart.color)
        sums: dict[Any, float] = {}
        for row, v in points:
            sums[row[series]] = sums.get(row[series], 0.0) + v
        points, keys = [((k,) * len(columns), v) for k, v in sums.items()], [series]
    leader_row, leader = max(points, key=lambda p: p[1])
    lead = " · ".join(axis_label(leader_row[i]) for i in keys)
    values = {"label": name[measure], "lead": lead, "value": fmt(measure, leader),
              "count": count}
    if additive and total > 0 and all(v >= 0 for _, v in points):
        share = format_value(leader / total, "percent", lang)
        return say("summary.breakdown_share", lang, share=share,
                   total=fmt(measure, total), **values)
    low_row, low = min(points, key=lambda p: p[1])
    lowest = " · ".join(axis_label(low_row[i]) for i in keys)
    return say("summary.breakdown_range", lang, lowest=lowest, low=fmt(measure, low),
               **values)
