"""Resolving table references: CTE names versus real tables, qualification, system catalogs."""

from __future__ import annotations

from sqlglot import exp

_SYSTEM_SCHEMAS: frozenset[str] = frozenset({"pg_catalog", "information_schema", "pg_toast"})


def identifier_name(node: exp.Expr | str | None) -> str:
    """Postgres' name for an identifier: unquoted names fold to lowercase, quoted ones stay."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    if isinstance(node, exp.Identifier):
        return node.name if node.args.get("quoted") else node.name.lower()
    return node.name.lower()


def is_system_schema(schema: str) -> bool:
    """True for schemas Postgres reserves for itself (pg_catalog, information_schema, pg_*)."""
    # Lowercased so that a quoted "PG_CATALOG"-like name is treated as system too, erring safe.
    folded = schema.lower()
    return folded in _SYSTEM_SCHEMAS or folded.startswith("pg_")


def qualified_name(table: exp.Table, search_path: tuple[str, ...]) -> str:
    """The schema-qualified name a table reference resolves to.

    In: a Table node naming a relation, and the search path. Out: "schema.table". Unqualified
    pg_* names resolve to pg_catalog, as Postgres searches pg_catalog before the search path;
    three-part names drop the database.
    """
    name = identifier_name(table.this)
    schema = identifier_name(table.args.get("db"))
    if not schema:
        if name.lower().startswith("pg_"):
            schema = "pg_catalog"
        else:
            schema = search_path[0] if search_path else "public"
    return f"{schema}.{name}"


def is_cte_reference(table: exp.Table) -> bool:
    """Whether an unqualified table reference names a CTE visible at its position.

    Postgres scoping: a query's CTEs are visible in its body and, for a non-recursive WITH,
    in the later CTEs of the same WITH only; a RECURSIVE WITH makes every CTE visible to all.
    """
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = identifier_name(table.this)
    prev: exp.Expr = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            ctes = node.expressions
            if node.args.get("recursive"):
                visible = ctes
            else:
                index = next((i for i, c in enumerate(ctes) if c is prev), len(ctes))
                visible = ctes[:index]
            if any(_cte_name(c) == name for c in visible):
                return True
            # The owning query's body scope does not apply to its own CTE definitions.
            owner = node.parent
            if owner is None:
                return False
            prev, node = owner, owner.parent
            continue
        with_ = _with_of(node)
        if (
            with_ is not None
            and with_ is not prev
            and any(_cte_name(c) == name for c in with_.expressions)
        ):
            return True
        prev, node = node, node.parent
    return False


def _cte_name(cte: exp.Expr) -> str:
    alias = cte.args.get("alias")
    if isinstance(alias, exp.TableAlias):
        return identifier_name(alias.this)
    return identifier_name(alias)


def _with_of(node: exp.Expr) -> exp.With | None:
    # The arg is "with_" in current sqlglot and was "with" before.
    args = node.args
    found = args.get("with_") or args.get("with")
    return found if isinstance(found, exp.With) else None
