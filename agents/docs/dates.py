"""A document's own date: from its front matter or metadata, else a date in its first lines.

Sources showed the date a file was copied into the folder; a policy is cited with the date it
was written or last changed. Ingestion falls back on the file's modification time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

# Front matter keys, most specific first.
DATE_KEYS = ("last_modified", "last_updated", "updated", "modified", "lastmod", "date",
             "created", "published")
HEADER_LINES = 12
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "decembre": 12, "décembre": 12,
}
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th|er)?\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(
    r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found if 1990 <= found.year <= 2100 else None


def parse_date(text: str) -> date | None:
    """The first date written in `text` (2023-04-01, 1st April 2023, April 1, 2023, 1 avril
    2023), or None."""
    candidates: list[tuple[int, date]] = []
    for match in _ISO.finditer(text):
        if (found := _valid(int(match[1]), int(match[2]), int(match[3]))) is not None:
            candidates.append((match.start(), found))
    for match in _DAY_MONTH_YEAR.finditer(text):
        month = MONTHS[match[2].lower()]
        if (found := _valid(int(match[3]), month, int(match[1]))) is not None:
            candidates.append((match.start(), found))
    for match in _MONTH_DAY_YEAR.finditer(text):
        month = MONTHS[match[1].lower()]
        if (found := _valid(int(match[3]), month, int(match[2]))) is not None:
            candidates.append((match.start(), found))
    return min(candidates)[1] if candidates else None


def metadata_date(meta: Mapping[str, object]) -> date | None:
    """The date in front matter or document properties, by the most specific key."""
    for key in DATE_KEYS:
        value = meta.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and (found := parse_date(value)) is not None:
            return found
    return None


def header_date(text: str) -> date | None:
    """A date in the text's first lines ('Effective from: 1st April 2023'), or None."""
    return parse_date("\n".join(text.splitlines()[:HEADER_LINES]))


def as_timestamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
