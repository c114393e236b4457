"""Charts drawn by our code from the result's shape: field names no label can break, bars in
the table's order, a second dimension as a coloured legend, € and % axes, ordinal years."""

from __future__ import annotations

from typing import Any

import pytest

from agents.ask.answer import Chart
from agents.ask.charts import MAX_BARS, altair_chart, chart_for, value_label_expr

LABEL = "Chiffre d'affaires"  # the apostrophe broke st.bar_chart's field path


def _spec(chart: Chart, columns: list[str], rows: list[tuple[Any, ...]],
          formats: dict[str, str] | None = None, lang: str = "fr") -> dict[str, Any]:
    headers = {c: (LABEL if c == "revenue" else c.capitalize()) for c in columns}
    shown = [[str(v) for v in r] for r in rows]
    plot = altair_chart(chart, columns, rows, headers, shown, formats or {"revenue": "eur"},
                        lang)
    assert plot is not None
    return plot.to_dict()


def _fields(spec: dict[str, Any]) -> set[str]:
    return {v["field"] for v in spec["encoding"].values() if isinstance(v, dict) and "field" in v}


def test_field_names_are_safe_and_the_labels_are_the_titles() -> None:
    rows = [("France", 108.6e6), ("EMEA", 103.5e6), ("APAC", 45.8e6)]
    chart = chart_for(["region", "revenue"], rows, (), {"revenue": "eur"})
    spec = _spec(chart, ["region", "revenue"], rows)
    assert chart == Chart("bar", "region", ("revenue",))
    assert _fields(spec) <= {"f0", "f1", "f2", "f3"}
    assert spec["encoding"]["y"]["title"] == LABEL
    # The table's order (by value), not the alphabet.
    assert spec["encoding"]["x"]["sort"] == ["France", "EMEA", "APAC"]


def test_long_or_many_labels_make_horizontal_bars() -> None:
    rows = [(f"Product with a long name {i}", float(100 - i)) for i in range(5)]
    spec = _spec(Chart("bar", "product", ("revenue",)), ["product", "revenue"], rows)
    assert spec["encoding"]["y"]["field"] == "f0" and spec["encoding"]["y"]["type"] == "nominal"
    assert spec["encoding"]["x"]["field"] == "f1"


def test_a_second_dimension_is_a_colour_with_a_legend() -> None:
    rows = [("Enterprise", "France", 37.6e6), ("Enterprise", "EMEA", 33.8e6),
            ("SMB", "France", 12.0e6)]
    columns = ["segment", "region", "revenue"]
    chart = chart_for(columns, rows, (), {"revenue": "eur"})
    assert chart == Chart("bar", "segment", ("revenue",), "region")
    spec = _spec(chart, columns, rows)
    assert spec["encoding"]["color"]["field"] == "f2"
    assert spec["encoding"]["color"]["legend"]["orient"] == "bottom"
    assert spec["encoding"]["xOffset"]["field"] == "f2"  # grouped, not stacked


def test_a_time_series_with_a_breakdown_is_one_line_per_series_on_an_ordinal_axis() -> None:
    rows = [(2021, "APAC", 5.2e6), (2021, "EMEA", 6.1e6), (2022, "APAC", 6.8e6)]
    columns = ["year", "region", "revenue"]
    chart = chart_for(columns, rows, ("year",), {"revenue": "eur"})
    assert chart == Chart("line", "year", ("revenue",), "region")
    spec = _spec(chart, columns, rows)
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["type"] == "ordinal"
    assert spec["encoding"]["x"]["sort"] == ["2021", "2022"]  # years, never "2,021"
    assert spec["encoding"]["color"]["field"] == "f2"


@pytest.mark.parametrize(("fmt", "lang", "peak", "parts"), [
    ("eur", "en", 140e6, ("'€'", "1e+06", "'M'")),
    ("eur", "fr", 140e6, ("replace(", "1e+06", "M€")),
    ("percent", "en", 0.08, ("datum.value * 100", "'%'")),
    ("percent", "fr", 0.08, ("datum.value * 100", "\u00a0%")),
    ("count", "en", 432, ("format(datum.value, '.2~f')",)),
])
def test_value_axes_say_their_unit_compactly(fmt: str, lang: str, peak: float,
                                             parts: tuple[str, ...]) -> None:
    expr = value_label_expr(fmt, lang, peak)
    assert all(p in expr for p in parts), expr


def test_one_value_is_a_metric_and_a_comparison_a_card_with_its_delta() -> None:
    assert chart_for(["revenue"], [(115.1e6,)], (), {}) == Chart("metric", None, ("revenue",))
    columns = ["revenue_2022", "revenue_2021", "change", "pct_change"]
    chart = chart_for(columns, [(234.2e6, 198.6e6, 35.7e6, 0.18)], (), {})
    assert chart == Chart("compare", None, tuple(columns))
    assert altair_chart(chart, columns, [(1, 2, 3, 4)], {}, [["1", "2", "3", "4"]], {},
                        "en") is None


def test_no_chart_fits_a_table_of_labels_only() -> None:
    assert chart_for(["name", "email"], [("a", "b")], (), {}).kind == "none"


def test_one_bar_is_no_chart_and_many_bars_draw_the_first_rows() -> None:
    assert chart_for(["region", "revenue"], [("EMEA", 1.0)], (), {}).kind == "none"
    rows = [(f"P{i}", float(100 - i)) for i in range(40)]
    spec = _spec(Chart("bar", "product", ("revenue",)), ["product", "revenue"], rows)
    assert len(spec["encoding"]["y"]["sort"]) == MAX_BARS


def test_answering_does_not_import_the_charting_libraries() -> None:
    """Altair and pandas cost half a second to import: only the app, which draws charts, pays
    it; a question asked from the command line does not."""
    import subprocess
    import sys

    code = ("import sys, agents.commands.cli, agents.ask.pipeline; "
            "print(sorted(m for m in ('altair', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
