"""Which chart a data answer gets, and the Altair chart itself: chosen from the result's shape
and column types, never from model-written code.

`chart_for` picks the kind (bar, line, metric, compare, none), its axis, its measure and an
optional second dimension (`color`). `altair_chart` draws it:

- field names are `f0`, `f1`, ... whatever the columns are called (a label such as
  "Chiffre d'affaires" breaks a Vega-Lite field path), the readable labels are the axis titles;
- bars keep the table's order (the query's ORDER BY), horizontal when labels are long or many,
  the first `MAX_BARS` rows only (the table shows them all);
- a second dimension is the colour, with a legend: grouped bars, or one line per series;
- a value axis in euros or percent says so, compact ("€140M", "140 M€"), in the answer's
  language; years, months and quarters are ordinal labels ("2017", never "2,017");
- tooltips show the figures formatted as the table shows them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agents.ask.answer import Chart

if TYPE_CHECKING:
    import altair as alt

# Bars turn horizontal past this many labels, or when a label is longer than this.
MAX_VERTICAL_BARS = 8
MAX_VERTICAL_LABEL = 12
# A bar chart draws the first rows only (the table has them all): past this, labels overlap.
MAX_BARS = 25
# The planner's comparison columns (agents/sql/planner/build.py): a metric card with its delta.
CHANGE, PCT_CHANGE = "change", "pct_change"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


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
        if all(_is_number(r[i]) or r[i] is None for r in rows)
        and any(r[i] is not None for r in rows)
    ]
    # An integer year or month is numeric but is the axis, not the figure: measuring it would
    # plot `year` against itself (and show 2018 as the key metric of "revenue in 2018").
    values = [c for c in numeric if c not in time_columns] or numeric
    labels = [c for c in columns if c not in values]
    if len(rows) == 1 and CHANGE in values and PCT_CHANGE in values and len(values) == 4:
        current, previous = (c for c in values if c not in (CHANGE, PCT_CHANGE))
        return Chart("compare", None, (current, previous, CHANGE, PCT_CHANGE))
    if len(rows) == 1 and values and set(labels) <= set(time_columns):
        return Chart("metric", None, tuple(values[:1]))
    if not values or not labels or set(values) <= set(time_columns):
        return Chart("none")
    if len(rows) == 1:  # one bar says nothing the sentence and the table do not
        return Chart("none")
    measure = tuple(c for c in values if formats.get(c) != "percent" or len(values) == 1)[
        :1
    ] or tuple(values[:1])
    time_like = [c for c in labels if c in time_columns] or [
        c for c in labels if all(isinstance(r[columns.index(c)], date) for r in rows)
    ]
    if time_like:
        others = [c for c in labels if c != time_like[0]]
        return Chart("line", time_like[0], measure, others[0] if others else None)
    return Chart("bar", labels[0], measure, labels[1] if len(labels) > 1 else None)


def axis_label(value: Any) -> str:
    """A category or time value as an axis label: a year stays "2017", a date its ISO day."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "—" if value is None else str(value)


def _scale(peak: float) -> tuple[float, str]:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if peak >= size:
            return size, suffix
    return 1.0, ""


def value_label_expr(fmt: str | None, lang: str, peak: float) -> str:
    """A Vega expression formatting the value axis: compact, with € or %, in `lang`'s style."""
    if fmt == "percent":
        number = "format(datum.value * 100, '.1~f')"
        suffix_en, suffix_fr = "'%'", "'\u00a0%'"
        prefix_en = ""
    else:
        size, suffix = _scale(peak)
        number = f"format(datum.value / {size:g}, '.1~f')" if size > 1 else \
            "format(datum.value, '.2~f')"
        fr_suffix = {"B": "\u00a0Md", "M": "\u00a0M", "k": "\u00a0k", "": ""}[suffix]
        if fmt == "eur":
            prefix_en, suffix_en, suffix_fr = "'€'", f"'{suffix}'", f"'{fr_suffix}€'" \
                if suffix else "'\u00a0€'"
        else:
            prefix_en, suffix_en, suffix_fr = "", f"'{suffix}'", f"'{fr_suffix}'"
    if lang == "fr":
        text = f"replace({number}, '.', ',') + {suffix_fr}"
    else:
        text = " + ".join(p for p in (prefix_en, number, suffix_en) if p)
    return f"datum.value == 0 ? '0' : {text}"


def altair_chart(
    chart: Chart,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    headers: dict[str, str],
    shown: list[list[str]],
    formats: dict[str, str],
    lang: str,
) -> alt.Chart | None:
    """The bar or line chart of `chart` (None for the other kinds), see the module doc.

    `headers` are the readable column titles, `shown` the table's cells as the page shows them
    (the tooltips repeat them).
    """
    if chart.kind not in ("bar", "line") or not chart.x or not chart.y:
        return None
    # Imported here: Altair and pandas take half a second to import, which every command-line
    # question paid for a chart only the app draws.
    import altair as alt
    import pandas as pd

    if chart.x not in columns or chart.y[0] not in columns:
        return None
    if chart.kind == "bar":
        rows, shown = rows[:MAX_BARS], shown[:MAX_BARS]
    x, y, color = columns.index(chart.x), columns.index(chart.y[0]), chart.color
    c = columns.index(color) if color in columns else None
    data = pd.DataFrame({
        "f0": [axis_label(r[x]) for r in rows],
        "f1": [float(r[y]) if r[y] is not None else None for r in rows],
        "f2": [axis_label(r[c]) for r in rows] if c is not None else "",
        "f3": [s[y] for s in shown],
    })
    order = list(dict.fromkeys(data["f0"]))
    peak = max((abs(v) for v in data["f1"].dropna()), default=0.0)
    value_axis = alt.Axis(labelExpr=value_label_expr(formats.get(chart.y[0]), lang, peak))
    title_x, title_y = headers.get(chart.x, chart.x), headers.get(chart.y[0], chart.y[0])
    tooltip = [alt.Tooltip("f0:N", title=title_x), alt.Tooltip("f3:N", title=title_y)]
    legend: dict[str, Any] = {}
    series = list(dict.fromkeys(data["f2"]))
    if c is not None and color is not None:
        title_c = headers.get(color, color)
        tooltip.insert(1, alt.Tooltip("f2:N", title=title_c))
        legend["color"] = alt.Color("f2:N", title=title_c, sort=series,
                                    legend=alt.Legend(orient="bottom"))
    base = alt.Chart(data)
    if chart.kind == "line":
        return base.mark_line(point=True).encode(
            x=alt.X("f0:O", sort=order, title=title_x, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("f1:Q", title=title_y, axis=value_axis),
            tooltip=tooltip, **legend)
    horizontal = len(order) > MAX_VERTICAL_BARS or any(
        len(label) > MAX_VERTICAL_LABEL for label in order)
    category = "f0:N"
    if horizontal:
        encoding: dict[str, Any] = {
            "y": alt.Y(category, sort=order, title=title_x, axis=alt.Axis(labelLimit=260)),
            "x": alt.X("f1:Q", title=title_y, axis=value_axis)}
        if legend:
            encoding["yOffset"] = alt.YOffset("f2:N", sort=series)
    else:
        encoding = {"x": alt.X(category, sort=order, title=title_x,
                               axis=alt.Axis(labelAngle=0)),
                    "y": alt.Y("f1:Q", title=title_y, axis=value_axis)}
        if legend:
            encoding["xOffset"] = alt.XOffset("f2:N", sort=series)
    height = max(220, 24 * len(rows)) if horizontal else 320
    return base.mark_bar().encode(tooltip=tooltip, **encoding, **legend).properties(
        height=height)
