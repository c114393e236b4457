"""Bounding dates and intervals: the earliest and latest instant a date expression can stand for.

generate_series over dates is bounded by its span and step. Both may be computed from literals,
the current date or time (`current_date`, `now()`), `date_trunc` and interval arithmetic; each
value is evaluated as a range of seconds since the epoch, widened wherever calendars or time
zones make it uncertain (a month is 28 to 31 days, a cast to date drops up to a day, "now" is
taken within two days of the guard's clock). A range is an over-estimate of the span, never an
under-estimate, so a series bounded here cannot have more rows than counted.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from sqlglot import exp

Range = tuple[float, float]
"""Lowest and highest value, in seconds (since the epoch for instants)."""

_DAY = 86400.0
_NOW_SLACK = 2 * _DAY

# (shortest, longest) length of each unit in seconds. A day is 23 to 25 hours across a
# daylight-saving change.
_UNITS: dict[str, Range] = {
    "microsecond": (1e-6, 1e-6),
    "millisecond": (1e-3, 1e-3),
    "second": (1.0, 1.0),
    "minute": (60.0, 60.0),
    "hour": (3600.0, 3600.0),
    "day": (23 * 3600.0, 25 * 3600.0),
    "week": (7 * 23 * 3600.0, 7 * 25 * 3600.0),
    "month": (28 * _DAY - 3600, 31 * _DAY + 3600),
    "quarter": (89 * _DAY - 3600, 92 * _DAY + 3600),
    "year": (365 * _DAY - 3600, 366 * _DAY + 3600),
    "decade": (3652 * _DAY - 3600, 3653 * _DAY + 3600),
    "century": (36524 * _DAY - 3600, 36525 * _DAY + 3600),
    "millennium": (365242 * _DAY - 3600, 365243 * _DAY + 3600),
}
_ALIASES: dict[str, str] = {
    "us": "microsecond", "usec": "microsecond", "usecs": "microsecond",
    "ms": "millisecond", "msec": "millisecond", "msecs": "millisecond",
    "s": "second", "sec": "second", "secs": "second",
    "m": "minute", "min": "minute", "mins": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour",
    "d": "day", "w": "week", "mon": "month", "mons": "month",
    "y": "year", "yr": "year", "yrs": "year",
    "centuries": "century", "millennia": "millennium",
}
_PART = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)\s*")
_CLOCK = re.compile(r"\s*([+-]?)(\d+):(\d+)(?::(\d+(?:\.\d+)?))?\s*")
_TEMPORAL_TYPES: frozenset[str] = frozenset(
    {"DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ", "DATETIME", "TIMESTAMP_S",
     "TIMESTAMP_MS", "TIMESTAMP_NS"}
)
_NOW_NODES = (exp.CurrentDate, exp.CurrentTimestamp, exp.Localtimestamp,
              exp.CurrentTimestampLTZ)
_NOW_FUNCTIONS: frozenset[str] = frozenset(
    {"now", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
     "localtimestamp", "current_timestamp", "current_date"}
)


def is_temporal_type(to: exp.Expr | None) -> bool:
    """Whether a cast target is a date or timestamp type."""
    if not isinstance(to, exp.DataType):
        return False
    kind = to.this
    return str(getattr(kind, "name", kind)).upper() in _TEMPORAL_TYPES


def instant_range(node: exp.Expr | None, *, untyped: bool = False) -> Range | None:
    """The range of instants a date or timestamp expression can take, or None when unbounded.

    `untyped`: also read a bare string literal as a timestamp (a generate_series bound, which
    Postgres casts to the other bound's type).
    """
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        return _parse_instant(node.this) if untyped else None
    if isinstance(node, (exp.Cast, exp.TsOrDsToDate, exp.TsOrDsToTimestamp)):
        if isinstance(node, exp.Cast) and not is_temporal_type(node.to):
            return None
        inner = instant_range(node.this, untyped=True)
        # A cast to date drops the time of day; one between time zones moves it by hours.
        return None if inner is None else (inner[0] - _DAY, inner[1] + _DAY)
    if isinstance(node, _NOW_NODES) or (
        isinstance(node, exp.Anonymous) and str(node.name).lower() in _NOW_FUNCTIONS
        and not node.expressions
    ):
        now = time.time()
        return now - _NOW_SLACK, now + _NOW_SLACK
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        return _truncated(node)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _shifted(node)
    return None


def _truncated(node: exp.Expr) -> Range | None:
    inner = instant_range(node.this)
    unit = node.args.get("unit")
    name = _unit_name(unit.name if isinstance(unit, exp.Expr) else str(unit or ""))
    length = _UNITS.get(name or "")
    if inner is None or length is None:
        return None
    return inner[0] - length[1], inner[1]


def _shifted(node: exp.Add | exp.Sub) -> Range | None:
    """date ± interval, date ± days, interval + date."""
    left, right = node.this, node.expression
    base = instant_range(left)
    offset = _offset_range(right)
    if (base is None or offset is None) and isinstance(node, exp.Add):
        base, offset = instant_range(right), _offset_range(left)
    if base is None or offset is None:
        return None
    if isinstance(node, exp.Sub):
        offset = (-offset[1], -offset[0])
    return base[0] + offset[0], base[1] + offset[1]


def _offset_range(node: exp.Expr | None) -> Range | None:
    """An interval, or a number of days (date + integer)."""
    found = interval_range(node)
    if found is not None:
        return found
    days = literal_number(node)
    return None if days is None else _scaled(_UNITS["day"], days)


def interval_range(node: exp.Expr | None, *, untyped: bool = False) -> Range | None:
    """The shortest and longest length, in seconds, an interval expression can have.

    `untyped`: also read a bare string literal as an interval (a generate_series step).
    """
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Neg):
        inner = interval_range(node.this)
        return None if inner is None else (-inner[1], -inner[0])
    if isinstance(node, exp.Interval):
        text = node.this.name if isinstance(node.this, exp.Literal) else None
        unit = node.args.get("unit")
        if text is None:
            return None
        return parse_interval(f"{text} {unit.name}" if unit is not None else text)
    if isinstance(node, exp.Cast):
        to = node.to
        if not (isinstance(to, exp.DataType) and str(getattr(to.this, "name", to.this))
                == "INTERVAL"):
            return None
        return interval_range(node.this, untyped=True)
    if isinstance(node, exp.Mul):
        for interval, factor in ((node.this, node.expression), (node.expression, node.this)):
            length, times = interval_range(interval), literal_number(factor)
            if length is not None and times is not None:
                return _scaled(length, times)
        return None
    if isinstance(node, exp.Literal) and node.is_string and untyped:
        return parse_interval(node.this)
    return None


def parse_interval(text: str) -> Range | None:
    """The length range of Postgres interval text ('1 month 2 days', '01:30:00'), or None."""
    text = text.strip().lower()
    pos, low, high = 0, 0.0, 0.0
    while pos < len(text):
        clock = _CLOCK.match(text, pos)
        if clock is not None:
            sign = -1.0 if clock.group(1) == "-" else 1.0
            seconds = (int(clock.group(2)) * 3600 + int(clock.group(3)) * 60
                       + float(clock.group(4) or 0))
            low, high = low + sign * seconds, high + sign * seconds
            pos = clock.end()
            continue
        match = _PART.match(text, pos)
        if match is None:
            return None
        unit = _unit_name(match.group(2))
        length = _UNITS.get(unit or "")
        if length is None:
            return None
        part = _scaled(length, float(match.group(1)))
        low, high = low + part[0], high + part[1]
        pos = match.end()
    return (low, high) if pos else None


def _unit_name(word: str) -> str | None:
    word = word.strip().lower()
    word = _ALIASES.get(word, word)
    if word not in _UNITS and word.endswith("s"):
        word = _ALIASES.get(word[:-1], word[:-1])
    return word if word in _UNITS else None


def _scaled(length: Range, times: float) -> Range:
    a, b = length[0] * times, length[1] * times
    return (a, b) if a <= b else (b, a)


def _parse_instant(text: str) -> Range | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    # Offsets and time zones move an instant by hours: a day either side covers them.
    seconds = parsed.replace(tzinfo=UTC).timestamp()
    return seconds - _DAY, seconds + _DAY


def literal_number(node: exp.Expr | None) -> float | None:
    """The value of a numeric literal (through parentheses, signs and non-temporal casts)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Neg):
        inner = literal_number(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Cast) and not is_temporal_type(node.to):
        return literal_number(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None
    return None
