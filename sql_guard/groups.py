"""Building a Policy from a user's groups and the tables restricted to some groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sql_guard.result import Policy


def policy_for_groups(
    groups: Iterable[str],
    *,
    restricted_tables: Mapping[str, Iterable[str]],
    all_tables: Iterable[str],
    max_rows: int = 5000,
    search_path: tuple[str, ...] = ("public",),
) -> Policy:
    """Return the Policy for a user in `groups`.

    In: the user's groups, restricted_tables mapping a schema-qualified table to the groups
    allowed to read it, every table of the warehouse, and the row cap. Out: a Policy whose
    allowed_tables are all_tables minus each restricted table none of whose groups the user has.
    Names are compared lowercase; `search_path` (the warehouse's schemas) qualifies bare names.
    """
    mine = frozenset(g.lower() for g in groups)
    restricted = {
        table.lower(): frozenset(g.lower() for g in allowed)
        for table, allowed in restricted_tables.items()
    }
    allowed_tables = frozenset(
        name
        for name in (t.lower() for t in all_tables)
        if name not in restricted or restricted[name] & mine
    )
    return Policy(max_rows=max_rows, allowed_tables=allowed_tables,
                  search_path=tuple(search_path))
