"""The row cap: make the outermost query return at most Policy.max_rows rows."""

from __future__ import annotations

from sqlglot import exp


def apply_row_cap(root: exp.Expr, max_rows: int) -> tuple[exp.Expr, int | None]:
    """Cap the rows returned by `root`, a query node, to `max_rows`.

    In: the statement's root (Select, set operation, Values or parenthesized query); it may be
    changed in place. Out: the root to generate and the cap imposed, or None when the query's
    own literal LIMIT was already at most max_rows. LIMIT ALL, parameters, expressions and FETCH
    WITH TIES / PERCENT are replaced by the cap; OFFSET is kept.
    """
    if isinstance(root, exp.Values) and root.args.get("limit") is None:
        if len(root.expressions) <= max_rows:
            return root, None
        wrapped = exp.select("*").from_(
            exp.Subquery(this=root, alias=exp.TableAlias(this=exp.to_identifier("v")))
        )
        wrapped.set("limit", _limit(max_rows))
        return wrapped, max_rows
    current = root.args.get("limit")
    kept = _literal_count(current)
    if kept is not None and kept <= max_rows:
        return root, None
    # A set operation carries the limit itself, so it applies to the whole UNION, not its
    # last branch.
    root.set("limit", _limit(max_rows))
    return root, max_rows


def _limit(max_rows: int) -> exp.Limit:
    return exp.Limit(expression=exp.Literal.number(max_rows))


def _literal_count(limit: exp.Expr | None) -> int | None:
    if isinstance(limit, exp.Limit):
        value = limit.expression
    elif isinstance(limit, exp.Fetch):
        options = limit.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            return None
        value = limit.args.get("count")
        if value is None:
            return 1  # FETCH FIRST ROW ONLY
    else:
        return None
    if isinstance(value, exp.Literal) and not value.is_string:
        try:
            count = int(value.this)
        except ValueError:
            return None
        return count if count >= 0 else None
    return None
