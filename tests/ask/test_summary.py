"""The sentence a person would write about a result, in the question's language, with the
figures rounded as the table rounds them."""

from __future__ import annotations

from typing import Any

import pytest

from agents.ask.charts import chart_for
from agents.ask.formats import format_value
from agents.ask.summary import summary

NB = "\u00a0"


def _say(columns: list[str], rows: list[tuple[Any, ...]], formats: dict[str, str], lang: str,
         time: tuple[str, ...] = (), **options: Any) -> str:
    chart = chart_for(columns, rows, time, formats)
    return summary(columns, rows, chart, {}, formats, lang, **options)


BY_REGION = [("France", 108_598_039.76), ("EMEA", 103_462_194.96), ("APAC", 45_800_000.0)]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "**France** leads with **€108.6M**, 42.1% of the €257.9M total (3 rows)."),
    ("fr", f"**France** en tête avec **108,6{NB}M€**, soit 42,1{NB}% du total de "
           f"257,9{NB}M€ (3 lignes)."),
])
def test_a_breakdown_names_the_leader_its_share_and_the_total(lang: str, expected: str) -> None:
    text = _say(["region", "revenue"], BY_REGION, {"revenue": "eur"}, lang, additive=True)
    assert text.endswith(expected), text


def test_a_top_n_has_no_share_of_a_total_it_does_not_hold() -> None:
    # The 3 rows of a top 3 are not the whole breakdown: their sum is no total.
    text = _say(["region", "revenue"], BY_REGION, {"revenue": "eur"}, "en", additive=True,
                complete=False)
    assert "total" not in text and "%" not in text
    assert "highest **France** at **€108.6M**" in text and "lowest APAC at €45.8M" in text


def test_a_breakdown_of_a_rate_has_no_share_or_total() -> None:
    rows = [("Americas", 0.054), ("EMEA", 0.051)]
    text = _say(["region", "rate"], rows, {"rate": "percent"}, "en", additive=True)
    assert "total" not in text and "highest **Americas** at **5.4%**" in text
    assert "lowest EMEA at 5.1%" in text


def test_a_time_series_says_the_trend_and_the_peak() -> None:
    rows = [(2017, 90.5e6), (2020, 140.0e6), (2021, 120.0e6)]
    text = _say(["year", "revenue"], rows, {"revenue": "eur"}, "en", ("year",))
    assert text == ("Revenue rose from €90.5M in 2017 to **€120.0M** in 2021 (+32.6%). "
                    "Peak: **€140.0M** in 2020.")
    fr = _say(["year", "revenue"], rows, {"revenue": "eur"}, "fr", ("year",))
    assert "en hausse" in fr and f"Pic : **140,0{NB}M€** en 2020." in fr


def test_a_comparison_says_the_change_and_the_percent_change() -> None:
    columns = ["revenue_2022", "revenue_2021", "change", "pct_change"]
    rows = [(234.2e6, 198.6e6, 35.6e6, 0.179)]
    formats = {c: "eur" for c in columns[:3]} | {"pct_change": "percent"}
    text = _say(columns, rows, formats, "en")
    assert text == ("Revenue 2022: **€234.2M**, up €35.6M (+17.9%) on Revenue 2021 "
                    "(€198.6M).")
    down = _say(columns, [(1.0e6, 2.0e6, -1.0e6, -0.5)], formats, "fr")
    assert f"en baisse de 1,0{NB}M€ (-50,0{NB}%)" in down


def test_one_value_is_the_figure_with_its_period_rounded_as_the_table() -> None:
    text = _say(["revenue"], [(115_084_421.2,)], {"revenue": "eur"}, "en", period="2018")
    assert text == "Revenue: **€115.1M** (2018)."
    assert format_value(115_084_421.2, "eur", "en") in text  # what the table cell shows


@pytest.mark.parametrize(("value", "fmt", "lang", "shown"), [
    (108_598_039.76, "eur", "en", "€108.6M"),
    (108_598_039.76, "eur", "fr", f"108,6{NB}M€"),
    (2.5e9, "eur", "en", "€2.5B"),
    (2.5e9, "eur", "fr", f"2,5{NB}Md€"),
    (1234.5, "eur", "fr", f"1\u202f234{NB}€"),
    (-35.7e6, "eur", "en", "-€35.7M"),
    (0.1796, "percent", "en", "18.0%"),
    (0.1796, "percent", "fr", f"18,0{NB}%"),
    (3000, "count", "fr", "3\u202f000"),
])
def test_numbers_are_formatted_per_locale(value: float, fmt: str, lang: str, shown: str) -> None:
    assert format_value(value, fmt, lang) == shown
