"""Which types a query may cast to: built-in data types, not table row types or reg* lookups.

A cast to a table's row type, `(NULL::warehouse.employees).*`, lists that table's columns
without reading it (no privilege is checked on a row type), and `'warehouse.employees'::regclass`
tells whether a table exists. Neither is needed for analytics, so both are refused, whether or
not the query may read the table: the answer must not depend on what exists.
"""

from __future__ import annotations

from sqlglot import exp

from sql_guard.tables import identifier_name

# Postgres built-in types sqlglot reads as user-defined (it has no name of its own for them),
# and the common ones written schema-qualified (pg_catalog.int4).
_BUILTIN_TEXT = """
    char bpchar name tsvector tsquery cidr macaddr macaddr8 box line lseg path polygon circle
    xid xid8 int2 int4 int8 float4 float8 bool boolean text varchar numeric decimal date time
    timetz timestamp timestamptz interval json jsonb uuid bytea money inet bit varbit oid
"""
_BUILTIN_NAMES: frozenset[str] = frozenset(_BUILTIN_TEXT.split())


def type_refusal(node: exp.Expr) -> str | None:
    """Why a type written in the query may not be used, or None for a built-in data type.

    In: a DataType or ObjectIdentifier node (a cast target, a column definition). Out: a
    refusal sentence for reg* object-identifier types and for types that are not built in.
    """
    if isinstance(node, exp.ObjectIdentifier):
        name = str(node.name).lower()
        if name == "oid":
            return None
        return (f"casts to {name}, which looks up database objects by name; "
                "query the tables themselves instead")
    if not isinstance(node, exp.DataType) or node.this != exp.DataType.Type.USERDEFINED:
        return None
    parts = _name_parts(node.args.get("kind"))
    schema_ok = len(parts) == 1 or (len(parts) == 2 and parts[0] == "pg_catalog")
    if parts and schema_ok and parts[-1] in _BUILTIN_NAMES:
        return None
    name = ".".join(parts) or "?"
    return (f"casts to the type {name}, which is not a built-in data type (a table's row "
            "type would reveal its columns)")


def _name_parts(kind: exp.Expr | str | None) -> list[str]:
    if isinstance(kind, exp.Dot):
        return _name_parts(kind.this) + _name_parts(kind.expression)
    if isinstance(kind, exp.Expr):
        return [identifier_name(kind)]
    if isinstance(kind, str):
        return [part.strip('"').lower() for part in kind.split(".")]
    return []
