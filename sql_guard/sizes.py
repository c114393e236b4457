"""Bounding the size of values a function makes: repeat, lpad, rpad and format widths.

`repeat('x', 200000000)` is one short call that makes a 200 MB value per row; `lpad('x', 1e9)`
one of a gigabyte. Like generate_series, these calls may run only when literals (or least(...)
with a literal) prove the value they make is at most MAX_VALUE_CHARS long.
"""

from __future__ import annotations

import re

from sqlglot import exp

MAX_VALUE_CHARS = 10_000
"""Longest text a size-making call may produce; a text bar chart or a padded code needs far less."""

ASSUMED_TEXT_CHARS = 100
"""Length taken for a repeated value that is not a literal (a column): its real length is
unknown to the guard."""

SIZED_FUNCTIONS: frozenset[str] = frozenset({"repeat", "lpad", "rpad", "format"})

# %[position$][flags][width][type]: width is digits, or * (from an argument).
_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?(-?)(\*(?:\d+\$)?|\d+)?([sILl%])?")


def size_refusal(node: exp.Expr) -> str | None:
    """Why a call of a size-making function (one of SIZED_FUNCTIONS) may not run.

    In: the call (a typed Repeat, Pad or Format node, or an Anonymous call of such a name).
    Out: None when its literal arguments bound the value it makes, else a refusal sentence.
    """
    args = _arguments(node)
    name = _name(node)
    if name == "format":
        return _format_refusal(args)
    if len(args) < 2:
        return None  # Postgres itself refuses the call
    count = _upper_bound(args[1])
    if count is None:
        return (f"calls {name} with a length that is not a literal, so the size of the value "
                f"it makes cannot be bounded to {MAX_VALUE_CHARS:,} characters; wrap it in "
                "least(..., n)")
    if name == "repeat":
        source = args[0]
        unit = len(source.this) if _is_text_literal(source) else ASSUMED_TEXT_CHARS
        made = count * max(unit, 1)
    else:
        made = count
    if made > MAX_VALUE_CHARS:
        return (f"calls {name} for a value of about {int(made):,} characters, more than the "
                f"{MAX_VALUE_CHARS:,} allowed")
    return None


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Pad):
        return "lpad" if node.args.get("is_left") else "rpad"
    if isinstance(node, (exp.Repeat, exp.Format)):
        return type(node).__name__.lower()
    return str(node.name).lower()


def _arguments(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Repeat):
        return [node.this, node.args["times"]]
    if isinstance(node, exp.Pad):
        return [a for a in (node.this, node.expression, node.args.get("fill_pattern")) if a]
    if isinstance(node, exp.Format):
        return [node.this, *node.expressions]
    return list(node.expressions)


def _format_refusal(args: list[exp.Expr]) -> str | None:
    if not args:
        return None
    pattern = args[0]
    if not _is_text_literal(pattern):
        return "calls format with a pattern that is not a literal, so its widths cannot be bounded"
    for match in _FORMAT_SPEC.finditer(pattern.this):
        width = match.group(3)
        if width is None:
            continue
        if width.startswith("*"):
            return "calls format with a width taken from an argument, which cannot be bounded"
        if int(width) > MAX_VALUE_CHARS:
            return (f"calls format with a width of {int(width):,}, more than the "
                    f"{MAX_VALUE_CHARS:,} characters allowed")
    return None


def _is_text_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _upper_bound(node: exp.Expr | None) -> float | None:
    """The largest value a count argument can take: a literal, or least() with a literal."""
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return max(0.0, float(node.this))
        except ValueError:
            return None
    if isinstance(node, exp.Neg):
        return 0.0 if _upper_bound(node.this) is not None else None
    if isinstance(node, exp.Least) or (
        isinstance(node, exp.Anonymous) and str(node.name).lower() == "least"
    ):
        parts = [node.this, *node.expressions] if isinstance(node, exp.Least) else list(
            node.expressions)
        bounds = [b for b in (_upper_bound(p) for p in parts if p is not None) if b is not None]
        return min(bounds) if bounds else None
    return None
