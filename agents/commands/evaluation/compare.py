"""Do an answer's rows answer like the gold rows? `compare_results`, the rule in full:

1. Values are normalized: every number (int, Decimal, float, bool) becomes a float; a date, or a
   datetime at midnight, becomes its ISO date; other datetimes their ISO text; strings are
   stripped and case-folded, and a string that spells a number becomes that number.
2. Numbers are equal within 0.01 relative (math.isclose(rel_tol=0.01)); other values exactly.
3. Column names are ignored and columns are matched by content: every gold column must be
   matched by a distinct candidate column holding the same multiset of values, and the rows must
   be equal under that mapping. The candidate may carry extra columns (the change and % change
   of a comparison, the share beside a breakdown): they add context without changing the answer.
   The row count must be equal, so an extra or a missing row always fails.
4. Rows are compared as multisets, unless the question is marked `ordered` (top N, "by month"
   when the order is the question), where they are compared position by position; rows tied
   on every number (two countries with 103 new customers each) may come in either order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

REL_TOL = 0.01
# Past this many candidate column mappings the answer is reported as a miss rather than searched
# for ever (only happens with many columns of identical values).
MAX_MAPPINGS = 5_000


def normalize_value(value: Any) -> Any:
    """A value as compared: floats for numbers, ISO text for dates, folded text for strings."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip().casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def values_equal(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)
    return bool(a == b)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0.0)
    if isinstance(value, float):
        return (1, value)
    return (2, str(value))


def _rows_equal(a: Sequence[Any], b: Sequence[Any], rel_tol: float) -> bool:
    return all(values_equal(x, y, rel_tol) for x, y in zip(a, b, strict=True))


def _same_multiset(a: list[Any], b: list[Any], rel_tol: float) -> bool:
    return all(
        values_equal(x, y, rel_tol)
        for x, y in zip(sorted(a, key=_sort_key), sorted(b, key=_sort_key), strict=True)
    )


def _same_row_multiset(gold: list[tuple[Any, ...]], got: list[tuple[Any, ...]],
                       rel_tol: float) -> bool:
    def key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
        return tuple(_sort_key(v) for v in row)

    if all(_rows_equal(g, c, rel_tol)
           for g, c in zip(sorted(gold, key=key), sorted(got, key=key), strict=True)):
        return True
    # Sorting can pair rows wrongly when values straddle the tolerance; match them one by one.
    unused = list(got)
    for row in gold:
        for i, candidate in enumerate(unused):
            if _rows_equal(row, candidate, rel_tol):
                del unused[i]
                break
        else:
            return False
    return True


def _tie_blocks(rows: list[tuple[Any, ...]], rel_tol: float) -> list[tuple[int, int]]:
    """Runs of consecutive rows equal in every number: a ranking may list ties in any order."""
    def numbers(row: tuple[Any, ...]) -> list[Any]:
        return [v for v in row if isinstance(v, float)]

    blocks: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or not (numbers(rows[i]) and _rows_equal(numbers(rows[i]),
                                                                   numbers(rows[start]),
                                                                   rel_tol)):
            blocks.append((start, i))
            start = i
    return blocks


def _mappings(options: list[list[int]]) -> Iterator[tuple[int, ...]]:
    """Injective choices of one candidate column per gold column."""
    for choice in itertools.product(*options):
        if len(set(choice)) == len(choice):
            yield choice


@dataclass(frozen=True)
class Comparison:
    match: bool
    reason: str


def compare_results(gold_rows: Sequence[Sequence[Any]], got_rows: Sequence[Sequence[Any]], *,
                    ordered: bool = False, rel_tol: float = REL_TOL) -> Comparison:
    """Do the candidate's rows answer like the gold rows? (The rule is in the module docstring.)"""
    gold = [tuple(normalize_value(v) for v in row) for row in gold_rows]
    got = [tuple(normalize_value(v) for v in row) for row in got_rows]
    if len(gold) != len(got):
        return Comparison(False, f"{len(got)} rows, expected {len(gold)}")
    if not gold:
        return Comparison(True, "both empty")
    n_gold, n_got = len(gold[0]), len(got[0])
    if n_got < n_gold:
        return Comparison(False, f"{n_got} columns, expected at least {n_gold}")
    gold_cols = [[row[i] for row in gold] for i in range(n_gold)]
    got_cols = [[row[j] for row in got] for j in range(n_got)]
    options = [[j for j in range(n_got) if _same_multiset(g, got_cols[j], rel_tol)]
               for g in gold_cols]
    for i, found in enumerate(options):
        if not found:
            sample = ", ".join(str(v) for v in sorted(gold_cols[i], key=_sort_key)[:3])
            return Comparison(False, f"no column holds the values of gold column {i + 1} "
                                     f"({sample}{', ...' if len(gold) > 3 else ''})")
    unordered_match = False
    for count, mapping in enumerate(_mappings(options)):
        if count >= MAX_MAPPINGS:
            break
        projected = [tuple(row[j] for j in mapping) for row in got]
        if ordered and all(_same_row_multiset(gold[a:b], projected[a:b], rel_tol)
                           for a, b in _tie_blocks(gold, rel_tol)):
            return Comparison(True, "")
        if _same_row_multiset(gold, projected, rel_tol):
            if not ordered:
                return Comparison(True, "")
            unordered_match = True
    if unordered_match:
        return Comparison(False, "right rows in the wrong order")
    return Comparison(False, "the columns match one by one but not row by row")
