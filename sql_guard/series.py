"""Bounding generate_series: only calls whose row count literals prove small may run."""

from __future__ import annotations

import math
import re
from datetime import datetime

from sqlglot import exp

MAX_SERIES_ROWS = 100_000

# Shortest length of each unit in seconds, so an estimate never undercounts rows.
_UNIT_SECONDS: dict[str, float] = {
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 604800.0,
    "month": 28 * 86400.0,
    "year": 365 * 86400.0,
    "decade": 3650 * 86400.0,
    "century": 36500 * 86400.0,
    "millennium": 365000 * 86400.0,
}
_UNIT_ALIASES: dict[str, str] = {
    "us": "microsecond",
    "usec": "microsecond",
    "usecs": "microsecond",
    "ms": "millisecond",
    "msec": "millisecond",
    "msecs": "millisecond",
    "s": "second",
    "sec": "second",
    "secs": "second",
    "m": "minute",
    "min": "minute",
    "mins": "minute",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "d": "day",
    "w": "week",
    "mon": "month",
    "mons": "month",
    "y": "year",
    "yr": "year",
    "yrs": "year",
    "centuries": "century",
    "millennia": "millennium",
}
_INTERVAL_PART = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)\s*")
_TEMPORAL_TYPES: frozenset[str] = frozenset(
    {
        "DATE",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "TIMESTAMPLTZ",
        "DATETIME",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
    }
)


def series_refusal(node: exp.Expr) -> str | None:
    """Return why a generate_series call may not run, or None when it is provably small.

    In: a GenerateSeries node (or an Anonymous generate_series call). Out: None when its
    arguments are literals giving at most MAX_SERIES_ROWS rows, else a refusal sentence.
    """
    if isinstance(node, exp.GenerateSeries):
        args = [node.args.get("start"), node.args.get("end"), node.args.get("step")]
    else:
        args = [*node.expressions, None]
    if len(args) != 3 or args[0] is None or args[1] is None:
        return _unbounded()
    rows = _numeric_rows(args[0], args[1], args[2])
    if rows is None:
        rows = _temporal_rows(args[0], args[1], args[2])
    if rows is None:
        return _unbounded()
    if rows > MAX_SERIES_ROWS:
        return (
            f"calls generate_series for about {rows:,} rows, more than the "
            f"{MAX_SERIES_ROWS:,} allowed"
        )
    return None


def _unbounded() -> str:
    return (
        "calls generate_series without literal bounds and step, so its rows cannot be "
        f"bounded to {MAX_SERIES_ROWS:,}"
    )


def _count(span: float, step: float) -> int | None:
    if step == 0 or math.isnan(span) or math.isnan(step) or math.isinf(span / step):
        return None
    if span != 0 and (span > 0) != (step > 0):
        return 0
    return math.floor(span / step) + 1


def _number(node: exp.Expr | None) -> float | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Cast) and not _is_temporal_type(node.to):
        return _number(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None


def _numeric_rows(start: exp.Expr, end: exp.Expr, step: exp.Expr | None) -> int | None:
    lo, hi = _number(start), _number(end)
    inc = 1.0 if step is None else _number(step)
    if lo is None or hi is None or inc is None:
        return None
    return _count(hi - lo, inc)


def _is_temporal_type(to: exp.Expr | None) -> bool:
    if not isinstance(to, exp.DataType):
        return False
    kind = to.this
    return str(getattr(kind, "name", kind)).upper() in _TEMPORAL_TYPES


def _timestamp(node: exp.Expr) -> datetime | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast):
        if not _is_temporal_type(node.to):
            return None
        node = node.this
    elif isinstance(node, (exp.TsOrDsToDate, exp.TsOrDsToTimestamp)):
        node = node.this
    if not (isinstance(node, exp.Literal) and node.is_string):
        return None
    try:
        parsed = datetime.fromisoformat(node.this.strip())
    except ValueError:
        return None
    # Compare naive and aware values alike; offsets move the span by hours only.
    return parsed.replace(tzinfo=None)


def _interval_seconds(node: exp.Expr | None) -> float | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Interval):
        text = node.this.name if isinstance(node.this, exp.Literal) else None
        unit = node.args.get("unit")
        if text is None:
            return None
        if unit is not None:
            text = f"{text} {unit.name}"
        return _parse_interval(text)
    if isinstance(node, exp.Cast):
        to = node.to
        if isinstance(to, exp.DataType) and str(getattr(to.this, "name", to.this)) == "INTERVAL":
            node = node.this
        else:
            return None
    if isinstance(node, exp.Literal) and node.is_string:
        return _parse_interval(node.this)
    return None


def _parse_interval(text: str) -> float | None:
    text = text.strip().lower()
    pos, total = 0, 0.0
    while pos < len(text):
        match = _INTERVAL_PART.match(text, pos)
        if match is None:
            return None
        unit = match.group(2)
        unit = _UNIT_ALIASES.get(unit, unit)
        if unit not in _UNIT_SECONDS and unit.endswith("s"):
            unit = _UNIT_ALIASES.get(unit[:-1], unit[:-1])
        seconds = _UNIT_SECONDS.get(unit)
        if seconds is None:
            return None
        total += float(match.group(1)) * seconds
        pos = match.end()
    return total if pos else None


def _temporal_rows(start: exp.Expr, end: exp.Expr, step: exp.Expr | None) -> int | None:
    lo, hi = _timestamp(start), _timestamp(end)
    if lo is None and hi is None:
        return None
    # One side may be an untyped string literal that Postgres casts to the other side's type.
    if lo is None and isinstance(start, exp.Literal) and start.is_string:
        lo = _timestamp(exp.cast(start, "timestamp"))
    if hi is None and isinstance(end, exp.Literal) and end.is_string:
        hi = _timestamp(exp.cast(end, "timestamp"))
    seconds = _interval_seconds(step)
    if lo is None or hi is None or seconds is None:
        return None
    return _count((hi - lo).total_seconds(), seconds)
