"""check(): parse one piece of SQL, refuse anything but a single read-only query, cap its rows."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from sql_guard.limits import apply_row_cap
from sql_guard.result import GuardResult, Policy, refuse
from sql_guard.rules import inspect_tree
from sql_guard.statements import command_refusal, statement_refusal

MAX_SQL_CHARS = 100_000
"""Longer text is refused unread: no generated analytics query comes near it, and parsing
megabytes would let one request occupy the guard for seconds."""

MAX_NESTING = 200
"""Deeper parenthesis nesting is refused before parsing, which recurses once per level."""

_DEFAULT_POLICY = Policy()
_POSTGRES = Dialect.get_or_raise("postgres")
_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def check(sql: str, policy: Policy | None = None) -> GuardResult:
    """Decide whether `sql` may run against the warehouse, and what exactly to run.

    In: any text (an LLM's or planner's SQL) and an optional Policy (defaults apply).
    Out: a GuardResult; allowed results carry the normalized Postgres SQL with the row cap
    applied. Never raises: any failure becomes a refusal with a one-sentence reason.
    """
    policy = policy or _DEFAULT_POLICY
    try:
        return _check(sql, policy)
    except RecursionError:
        return refuse("is nested too deeply to be checked")
    except Exception as error:  # the guard must answer, never raise
        return refuse(f"could not be checked: {_one_sentence(str(error)) or type(error).__name__}")


def _check(sql: str, policy: Policy) -> GuardResult:
    if not isinstance(sql, str):
        return refuse("is not text")
    if "\x00" in sql:
        # Postgres, drivers and sqlglot disagree on where NUL-holding text ends.
        return refuse("contains a NUL byte, which cannot appear in a query")
    if len(sql) > MAX_SQL_CHARS:
        return refuse(f"is too long ({len(sql):,} characters; the limit is {MAX_SQL_CHARS:,})")
    try:
        tokens = _POSTGRES.tokenize(sql)
    except (TokenError, ParseError) as error:
        return refuse(f"could not be read as SQL: {_parser_message(error)}")
    depth = deepest = 0
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
    if deepest > MAX_NESTING:
        return refuse(f"is nested too deeply ({deepest} levels; the limit is {MAX_NESTING})")
    try:
        parsed = _POSTGRES.parser().parse(tokens, sql)
    except (TokenError, ParseError) as error:
        return refuse(f"could not be read as SQL: {_parser_message(error)}")
    # None and Semicolon stand for empty statements (stray ';', a trailing comment).
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        return refuse("is empty")
    if len(statements) > 1:
        return refuse(f"holds {len(statements)} statements; only one query may run at a time")
    root = statements[0]
    if not isinstance(root, _QUERY_ROOTS):
        return refuse(_not_a_query(root, tokens))
    verdict = inspect_tree(root, policy)
    if verdict.reason is not None:
        return refuse(verdict.reason, verdict.tables)
    capped, row_cap = apply_row_cap(root, policy.max_rows)
    # Comments are dropped: what runs is exactly the tree that was checked. Function names
    # are printed as written, as sqlglot would otherwise upper-case quoted ones.
    output = capped.sql(dialect="postgres", comments=False, normalize_functions=False)
    if not _reads_back_identically(output, policy.max_rows):
        # Syntax sqlglot accepts but prints differently (e.g. FROM-first queries) would run as
        # something other than what was checked.
        return refuse("could not be rewritten into a form that reads back the same; "
                      "please write it as a standard PostgreSQL query", verdict.tables)
    return GuardResult(
        allowed=True,
        reason=None,
        sql=output,
        row_cap=row_cap,
        tables=verdict.tables,
        search_path=policy.search_path,
    )


def _reads_back_identically(output: str, max_rows: int) -> bool:
    try:
        again = [s for s in _POSTGRES.parse(output) if s is not None
                 and not isinstance(s, exp.Semicolon)]
    except (TokenError, ParseError):
        return False
    if len(again) != 1 or not isinstance(again[0], _QUERY_ROOTS):
        return False
    recapped, extra_cap = apply_row_cap(again[0], max_rows)
    regenerated = recapped.sql(dialect="postgres", comments=False, normalize_functions=False)
    return extra_cap is None and regenerated == output


def _not_a_query(root: exp.Expr, tokens: list[Token]) -> str:
    if isinstance(root, exp.Command):
        return command_refusal(root)
    reason = statement_refusal(root, inside_with=False)
    if reason is not None:
        return reason
    # sqlglot reads unknown statements such as LISTEN x or CHECKPOINT as bare expressions.
    first = tokens[0].text.upper() if tokens else ""
    if not first.isidentifier():
        return "is not a query"
    return f"is not a query: {first} statements are not allowed"


def _parser_message(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        first = errors[0]
        description = str(first.get("description") or "").strip()
        line, col = first.get("line"), first.get("col")
        if description:
            where = f" at line {line}, column {col}" if line is not None else ""
            return _one_sentence(description).rstrip(".") + where
    return _one_sentence(str(error)) or "the text is not valid SQL"


def _one_sentence(text: str) -> str:
    text = _ANSI.sub("", text).strip()
    first_line = text.splitlines()[0] if text else ""
    sentence = re.split(r"(?<=[.!?])\s", first_line, maxsplit=1)[0]
    return sentence[:200]
