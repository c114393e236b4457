"""A document's own date: front matter, properties, a date in the header."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from agents.docs.dates import header_date, metadata_date, parse_date


@pytest.mark.parametrize(("text", "expected"), [
    ("Effective from: 1st April 2023", date(2023, 4, 1)),
    ("Mis à jour le 5 juin 2022", date(2022, 6, 5)),
    ("Updated March 2, 2021 by HR", date(2021, 3, 2)),
    ("version 2.0 of 2023-05-12", date(2023, 5, 12)),
    ("Call 2023-13-45 or 12 monkeys 2020", None),
])
def test_dates_written_in_text(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_metadata_prefers_the_last_change_and_the_header_only_looks_at_the_top() -> None:
    assert metadata_date({"date": "2020-01-01", "updated": "2024-03-15"}) == date(2024, 3, 15)
    assert metadata_date({"modified": datetime(2022, 7, 1, 9, 30)}) == date(2022, 7, 1)
    assert metadata_date({"title": "x"}) is None
    assert header_date("\n" * 20 + "Signed 2021-01-01") is None
