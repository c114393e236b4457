"""Bounding generate_series: only calls whose bounds and step prove the rows few may run.

Numbers must be literals; dates may also be computed from the current date and intervals
(see temporal.py), as in a spine of the last twelve months.
"""

from __future__ import annotations

import math

from sqlglot import exp

from sql_guard.temporal import (
    instant_range,
    interval_range,
    literal_number,
)

MAX_SERIES_ROWS = 100_000


def series_refusal(node: exp.Expr) -> str | None:
    """Return why a generate_series call may not run, or None when it is provably small.

    In: a GenerateSeries node (or an Anonymous generate_series call). Out: None when its
    arguments prove at most MAX_SERIES_ROWS rows, else a refusal sentence.
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
        "calls generate_series without literal bounds and step (or dates computed from "
        f"literals and the current date), so its rows cannot be bounded to {MAX_SERIES_ROWS:,}"
    )


def _count(span: float, step: float) -> int | None:
    if step == 0 or math.isnan(span) or math.isnan(step) or math.isinf(span / step):
        return None
    if span != 0 and (span > 0) != (step > 0):
        return 0
    return math.floor(span / step) + 1


    return None


def _numeric_rows(start: exp.Expr, end: exp.Expr, step: exp.Expr | None) -> int | None:
    lo, hi = literal_number(start), literal_number(end)
    inc = 1.0 if step is None else literal_number(step)
    if lo is None or hi is None or inc is None:
        return None
    return _count(hi - lo, inc)


def _temporal_rows(start: exp.Expr, end: exp.Expr, step: exp.Expr | None) -> int | None:
    """Rows of a series over dates: its longest possible span over its shortest step."""
    lo = instant_range(start, untyped=True)
    hi = instant_range(end, untyped=True)
    length = interval_range(step, untyped=True)
    if lo is None or hi is None or length is None:
        return None
    if length[0] > 0:
        span, step_seconds = hi[1] - lo[0], length[0]
    elif length[1] < 0:
        span, step_seconds = lo[1] - hi[0], -length[1]
    else:
        return None  # a step that may be zero, or changes sign with the calendar
    return _count(max(0.0, span), step_seconds)
