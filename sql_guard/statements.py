"""Which parse nodes make a statement more than a read-only query, and how to name them."""

from __future__ import annotations

from sqlglot import exp


def _classes(*names: str) -> tuple[type, ...]:
    # Looked up by name so that a sqlglot release lacking one of them does not break the import.
    return tuple(getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type))


# Each group: the node classes and the sentence start used when one of them appears anywhere.
_GROUPS: tuple[tuple[tuple[type, ...], str], ...] = (
    (
        _classes(
            "Insert",
            "Update",
            "Delete",
            "Merge",
            "Returning",
            "OnConflict",
            "MultitableInserts",
            "ConditionalInsert",
        ),
        "modifies data",
    ),
    (
        _classes("Copy", "LoadData", "Export", "Put", "Get", "ListStage"),
        "copies data in or out of the server",
    ),
    (
        _classes(
            "Create",
            "Drop",
            "Alter",
            "AlterSession",
            "TruncateTable",
            "Comment",
            "Undrop",
            "SwapTable",
            "UserDefinedFunction",
            "StoredProcedure",
            "Cache",
            "Uncache",
            "Refresh",
            "Attach",
            "Detach",
            "Install",
        ),
        "changes the database schema",
    ),
    (_classes("Transaction", "Commit", "Rollback"), "controls transactions"),
    (
        _classes("Set", "SetItem", "Use", "Pragma", "Declare", "ConnectTo", "Disconnect"),
        "changes session settings",
    ),
    (_classes("Grant", "Revoke"), "changes permissions"),
    (_classes("Lock"), "locks rows"),
    (_classes("Into"), "creates a table"),
    (
        _classes(
            "Analyze",
            "Kill",
            "Execute",
            "Describe",
            "Show",
            "Summarize",
            "Block",
            "IfBlock",
            "WhileBlock",
            "LoopBlock",
            "RepeatBlock",
        ),
        "runs a command that is not a query",
    ),
    (_classes("Command"), "runs a command that is not a query"),
)

_by_class: dict[type, str | None] = {}


def _kind(cls: type) -> str | None:
    kind = _by_class.get(cls, "")
    if kind == "":
        kind = None
        for classes, words in _GROUPS:
            if issubclass(cls, classes):
                kind = words
                break
        # Traits cover statement classes a future sqlglot may add without listing them here.
        if kind is None and issubclass(cls, (exp.DML,)) and not issubclass(cls, exp.Query):
            kind = "modifies data"
        if kind is None and issubclass(cls, exp.DDL) and not issubclass(cls, exp.Query):
            kind = "changes the database schema"
        _by_class[cls] = kind
    return kind


def statement_refusal(node: exp.Expr, inside_with: bool) -> str | None:
    """Return the refusal sentence when `node` is a non-query construct, else None.

    In: any parse node and whether it sits inside a WITH clause. Out: e.g.
    "modifies data: DELETE inside a WITH clause", or None for ordinary query nodes.
    """
    kind = _kind(type(node))
    if kind is None:
        return None
    where = " inside a WITH clause" if inside_with else ""
    return f"{kind}: {construct_name(node)}{where}"


def construct_name(node: exp.Expr) -> str:
    """A short uppercase name of a statement node as a user would write it (DELETE, FOR UPDATE)."""
    if isinstance(node, exp.Command):
        words = [str(node.this or "").upper()]
        rest = node.expression
        text = rest.name if isinstance(rest, exp.Expr) else str(rest or "")
        first = text.strip().split(None, 1)
        if first and words[0] in _TWO_WORD_COMMANDS:
            words.append(first[0].upper())
        return " ".join(w for w in words if w) or "COMMAND"
    if isinstance(node, exp.Lock):
        return "FOR UPDATE" if node.args.get("update") else "FOR SHARE"
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    if isinstance(node, exp.Create):
        return f"CREATE {str(node.args.get('kind') or '').upper()}".strip()
    if isinstance(node, exp.Drop):
        return f"DROP {str(node.args.get('kind') or '').upper()}".strip()
    if isinstance(node, exp.TruncateTable):
        return "TRUNCATE"
    if isinstance(node, exp.Transaction):
        return "BEGIN"
    if isinstance(node, exp.Set):
        return "SET"
    return type(node).__name__.upper()


# Commands whose second word says what they do (EXPLAIN ANALYZE, SET ROLE, ALTER SYSTEM).
_TWO_WORD_COMMANDS: frozenset[str] = frozenset(
    {"EXPLAIN", "SET", "RESET", "ALTER", "REFRESH", "SECURITY", "CREATE", "DROP", "LOCK"}
)


def command_refusal(node: exp.Command) -> str:
    """The refusal sentence for a statement sqlglot could only read as an opaque Command."""
    name = construct_name(node)
    head = name.split(" ", 1)[0]
    if head == "EXPLAIN" and "ANALYZE" in _command_text(node):
        return "runs the statement it explains: EXPLAIN ANALYZE executes the query"
    if head in {"SET", "RESET", "DISCARD"}:
        return f"changes session settings: {name}"
    if head == "ALTER":
        return f"changes the database schema: {name}"
    if head in {"LOCK"}:
        return f"locks tables: {name}"
    if head in {"BEGIN", "START", "COMMIT", "ROLLBACK", "END", "ABORT", "SAVEPOINT", "RELEASE"}:
        return f"controls transactions: {name}"
    return f"runs a command that is not a query: {name}"


def _command_text(node: exp.Command) -> str:
    rest = node.expression
    text = rest.name if isinstance(rest, exp.Expr) else str(rest or "")
    return text.upper()
