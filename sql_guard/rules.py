"""The walk over a parsed query: every node is checked against the statement, function and
table rules in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlglot import exp

from sql_guard.casts import type_refusal
from sql_guard.functions import (
    BUILTIN_FUNCTIONS,
    function_refusal,
    typed_function_allowed,
    typed_function_name,
)
from sql_guard.result import Policy
from sql_guard.series import series_refusal
from sql_guard.sizes import SIZED_FUNCTIONS, size_refusal
from sql_guard.statements import command_refusal, statement_refusal
from sql_guard.tables import (
    identifier_name,
    is_cte_reference,
    is_system_schema,
    qualified_name,
)


@dataclass(frozen=True)
class Verdict:
    """Outcome of the walk: the refusal sentence (None if allowed) and the real tables read."""

    reason: str | None
    tables: frozenset[str]


# Node roles, decided once per class so the walk is a dict lookup per node.
_OTHER, _STATEMENT, _ANONYMOUS, _TYPED_FUNC, _TABLE, _TYPE = range(6)
_roles: dict[type, int] = {}


def _role(cls: type) -> int:
    role = _roles.get(cls)
    if role is None:
        if issubclass(cls, exp.Table):
            role = _TABLE
        elif issubclass(cls, (exp.DataType, exp.ObjectIdentifier)):
            role = _TYPE
        elif issubclass(cls, (exp.Anonymous, exp.AnonymousAggFunc)):
            role = _ANONYMOUS
        elif issubclass(cls, exp.Func):
            role = _TYPED_FUNC
        else:
            role = _STATEMENT
        _roles[cls] = role
    return role


def inspect_tree(root: exp.Expr, policy: Policy) -> Verdict:
    """Check every node under `root` (a query node) against the rules of `policy`.

    In: a parsed statement and a policy. Out: a Verdict whose reason names the first refused
    construct, preferring statement-level refusals, then functions and types, then system
    catalogs, then tables; tables lists the real tables read (CTE references excluded).
    """
    function_reason: str | None = None
    type_reason: str | None = None
    series_reason: str | None = None
    catalog_reason: str | None = None
    table_reason: str | None = None
    tables: set[str] = set()
    for node in root.dfs():
        role = _role(type(node))
        if role == _STATEMENT:
            if isinstance(node, exp.Select) and not node.expressions:
                # Postgres accepts "SELECT" with no columns; sqlglot cannot print it back.
                return Verdict("selects no columns", frozenset())
            reason = statement_refusal(node, _inside_with(node))
            if reason is not None:
                if isinstance(node, exp.Command):
                    reason = command_refusal(node)
                return Verdict(reason, frozenset())
        elif role in (_ANONYMOUS, _TYPED_FUNC) and function_reason is None:
            reason, is_series = _function_reason(node, role, policy)
            # A forbidden call inside a series bound is the better reason than the bound.
            if is_series:
                series_reason = series_reason or reason
            else:
                function_reason = reason
        elif role == _TYPE:
            type_reason = type_reason or type_refusal(node)
        elif role == _TABLE:
            # _role gave _TABLE to Table subclasses only; a cast, not a second isinstance per
            # node, because the walk keeps to one dict lookup per node.
            table = cast(exp.Table, node)
            if not isinstance(table.this, exp.Identifier) or is_cte_reference(table):
                continue  # table functions are checked as functions; CTEs are not tables
            name = qualified_name(table, policy.search_path)
            tables.add(name)
            schema = name.split(".", 1)[0]
            if is_system_schema(schema):
                if not policy.allow_system_catalogs and catalog_reason is None:
                    catalog_reason = f"reads the system catalog {name}"
            elif (
                policy.allowed_tables is not None
                and name not in policy.allowed_tables
                and table_reason is None
            ):
                # Same sentence for unknown and forbidden tables: no existence oracle.
                table_reason = (
                    f"uses the table {name}, which does not exist or is not available to you"
                )
    reason = function_reason or type_reason or series_reason or catalog_reason or table_reason
    return Verdict(reason, frozenset(tables))


def _inside_with(node: exp.Expr) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.CTE):
            return True
        parent = parent.parent
    return False


def _qualifier(node: exp.Expr) -> str | None:
    """The schema written before a function name (pg_catalog.pg_sleep), or None."""
    parent = node.parent
    parts: list[str] = []
    if isinstance(parent, exp.Dot) and parent.expression is node:
        _flatten(parent.this, parts)
    elif isinstance(parent, exp.Table) and parent.this is node:
        # In FROM, sqlglot keeps a function's schema on the Table: FROM s.generate_series(...)
        schema = parent.args.get("db")
        if schema is None:
            return None
        parts.append(identifier_name(schema))
    else:
        return None
    return ".".join(parts) if parts else "?"


def _flatten(node: exp.Expr | None, parts: list[str]) -> None:
    if isinstance(node, exp.Dot):
        _flatten(node.this, parts)
        _flatten(node.expression, parts)
    elif isinstance(node, exp.Column):
        parts.extend(identifier_name(p) for p in node.parts)
    elif isinstance(node, (exp.Identifier, exp.Var)):
        parts.append(identifier_name(node))
    else:
        parts.append("?")


def _function_reason(node: exp.Expr, role: int, policy: Policy) -> tuple[str | None, bool]:
    """The refusal for one function call (None if allowed) and whether it is a series bound."""
    qualifier = _qualifier(node)
    if role == _ANONYMOUS:
        this = node.this
        name = identifier_name(this) if isinstance(this, exp.Expr) else str(this).lower()
        builtin = name in BUILTIN_FUNCTIONS
    else:
        name = typed_function_name(node)
        builtin = typed_function_allowed(node)
    full = f"{qualifier}.{name}" if qualifier else name
    if qualifier in (None, "pg_catalog") and builtin:
        if name == "generate_series" or isinstance(node, exp.GenerateSeries):
            return series_refusal(node), True
        if name in SIZED_FUNCTIONS or isinstance(node, (exp.Repeat, exp.Pad, exp.Format)):
            return size_refusal(node), False
        return None, False
    if full in policy.allowed_functions or (qualifier is None and name in policy.allowed_functions):
        return None, False
    return function_refusal(full), False
