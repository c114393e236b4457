"""The LLM SQL writer: for the questions the offline planner cannot map with confidence.

question -> relevant tables (embedding similarity over table and column comments, only tables
the user may query, cut to a token budget) -> prompt (template in agents/models/prompts/, with the
semantic model's definitions and the closest verified queries as examples) -> model -> SQL
extracted -> sql_guard.check -> run as the reader role. A guard refusal or a database error is
fed back to the model, word for word, for at most two repair rounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql as pgsql

from agents.docs.embeddings import Embedder
from agents.errors import AssistantError, GuardRejected, ProviderError, SqlError
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, complete
from agents.sql.executor import QueryResult
from agents.sql.semantic_model import SemanticModel
from sql_guard import GuardResult, Policy, check

MAX_REPAIRS = 2
# A text column with at most this many distinct values gets its values listed in the prompt:
# the model then writes 'Enterprise', not 'enterprise' or 'ENT'.
LOW_CARDINALITY = 25
SAMPLE_VALUES = 8
MAX_TABLES = 8
CHARS_PER_TOKEN = 4  # a deliberately pessimistic estimate; no tokenizer download is possible


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    comment: str | None = None
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    name: str  # schema.table
    comment: str | None
    columns: tuple[ColumnInfo, ...]
    references: tuple[str, ...] = ()  # tables this one points to by foreign key

    def describe(self) -> str:
        """The table as the prompt shows it."""
        lines = [f"TABLE {self.name}" + (f" -- {self.comment}" if self.comment else "")]
        for col in self.columns:
            line = f"  {col.name} {col.type}"
            if col.comment:
                line += f" -- {col.comment}"
            if col.samples:
                line += " (values: " + ", ".join(repr(v) for v in col.samples) + ")"
            lines.append(line)
        return "\n".join(lines)

    def search_text(self) -> str:
        """What the table is about, for embedding similarity with questions."""
        short = self.name.split(".")[-1].replace("_", " ")
        cols = "; ".join(
            f"{c.name.replace('_', ' ')}" + (f": {c.comment}" if c.comment else "")
            for c in self.columns
        )
        return f"{short}. {self.comment or ''} Columns: {cols}"


@dataclass
class SchemaCatalog:
    """The warehouse's tables with an embedding each; built once per process and cached."""

    tables: list[TableInfo]
    vectors: np.ndarray
    embed_model: str


def read_tables(conn: psycopg.Connection,
                schemas: Sequence[str]) -> list[TableInfo]:
    """Tables, columns, comments, foreign keys and low-cardinality values, from the catalog."""
    rows = conn.execute(
        """
        SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class'),
               a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum),
               s.n_distinct, s.most_common_vals::text
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_stats s
          ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm')
        ORDER BY n.nspname, c.relname, a.attnum
        """,
        (list(schemas),),
    ).fetchall()
    fks = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname, fn.nspname || '.' || f.relname
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
        WHERE k.contype = 'f' AND n.nspname = ANY(%s)
        """,
        (list(schemas),),
    ).fetchall()
    references: dict[str, set[str]] = {}
    for child, parent in fks:
        references.setdefault(child, set()).add(parent)
    grouped: dict[str, tuple[str | None, list[ColumnInfo]]] = {}
    for schema, table, table_comment, col, col_type, col_comment, n_distinct, mcv in rows:
        name = f"{schema}.{table}"
        _, columns = grouped.setdefault(name, (table_comment, []))
        samples: tuple[str, ...] = ()
        if col_type in ("text", "character varying") or col_type.startswith("character"):
            if n_distinct is not None and 0 < n_distinct <= LOW_CARDINALITY and mcv:
                samples = tuple(_parse_pg_array(mcv))[:SAMPLE_VALUES]
            elif n_distinct is None:
                samples = _distinct_values(conn, schema, table, col)
        columns.append(ColumnInfo(col, col_type, col_comment, samples))
    return [
        TableInfo(name, comment, tuple(cols), tuple(sorted(references.get(name, ()))))
        for name, (comment, cols) in grouped.items()
    ]


def _distinct_values(conn: psycopg.Connection, schema: str, table: str,
                     column: str) -> tuple[str, ...]:
    # No statistics yet (never analysed): ask the table, but only keep low-cardinality columns.
    query = pgsql.SQL(
        "SELECT DISTINCT {col}::text FROM {tbl} WHERE {col} IS NOT NULL LIMIT %s"
    ).format(
        col=pgsql.Identifier(column), tbl=pgsql.Identifier(schema, table)
    )
    try:
        with conn.transaction():
            values = [r[0] for r in conn.execute(query, (LOW_CARDINALITY + 1,))]
    except psycopg.Error:
        return ()
    if len(values) > LOW_CARDINALITY:
        return ()
    return tuple(sorted(values))[:SAMPLE_VALUES]


def _parse_pg_array(text: str) -> list[str]:
    inner = text.strip()[1:-1]
    values = re.findall(r'"((?:[^"\\]|\\.)*)"|([^,]+)', inner)
    return [(quoted.replace('\\"', '"') if quoted else bare).strip() for quoted, bare in values]


def build_catalog(tables: list[TableInfo], embedder: Embedder) -> SchemaCatalog:
    vectors = embedder.embed([t.search_text() for t in tables]) if tables else np.zeros((0, 1))
    return SchemaCatalog(tables=tables, vectors=np.asarray(vectors), embed_model=embedder.name)


def select_tables(
    catalog: SchemaCatalog,
    question: str,
    question_vector: np.ndarray,
    allowed: frozenset[str] | None,
    budget_tokens: int,
    must_include: Iterable[str] = (),
) -> list[TableInfo]:
    """The tables most relevant to the question that the user may query, within the budget.

    Ranked by cosine similarity of the question to each table's comments, plus a bonus when the
    question names the table; foreign-key parents of a chosen table come next, as joins need them.
    """
    if not catalog.tables:
        return []
    sims = catalog.vectors @ np.asarray(question_vector, dtype=np.float32)
    words = set(re.findall(r"[a-z]+", question.lower()))
    scored: list[tuple[float, TableInfo]] = []
    for sim, table in zip(sims, catalog.tables, strict=True):
        if allowed is not None and table.name.lower() not in allowed:
            continue
        short = table.name.split(".")[-1].lower()
        stems = {short, short.rstrip("s"), *short.split("_")}
        bonus = 0.25 if stems & words else 0.0
        scored.append((float(sim) + bonus, table))
    scored.sort(key=lambda pair: -pair[0])
    allowed_by_name = {t.name: t for _, t in scored}
    order: list[TableInfo] = [allowed_by_name[n] for n in must_include if n in allowed_by_name]
    for _, table in scored:
        if len(order) >= MAX_TABLES:
            break
        if table not in order:
            order.append(table)
            for parent in table.references:
                if parent in allowed_by_name and allowed_by_name[parent] not in order:
                    order.append(allowed_by_name[parent])
    chosen: list[TableInfo] = []
    used = 0
    for table in order[:MAX_TABLES]:
        cost = estimate_tokens(table.describe()) + 1
        if used + cost > budget_tokens:
            continue
        chosen.append(table)
        used += cost
    return chosen


def definitions_text(model: SemanticModel, lang: str = "en") -> str:
    lines = []
    for metric in model.metrics.values():
        how = metric.sql or (f"{metric.ratio[0]} / {metric.ratio[1]}" if metric.ratio else "")
        where = f" WHERE {metric.where}" if metric.where else ""
        source = model.sources.get(metric.source or "")
        frm = f" FROM {source.from_} {' '.join(source.joins)}" if source else ""
        words = metric.definition.get(lang) or metric.definition.get("en", "")
        lines.append(f"- {metric.name(lang)} ({metric.key}): {words}\n  SQL: {how}{frm}{where}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Example:
    question: str
    sql: str


@dataclass(frozen=True)
class SqlPrompt:
    system: str
    user: str
    tables: tuple[str, ...]

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.system) + estimate_tokens(self.user)


def build_sql_prompt(
    question: str,
    tables: Sequence[TableInfo],
    definitions: str,
    examples: Sequence[Example],
    *,
    prompt_name: str = "sql_writer_v1",
    repair: str = "",
) -> SqlPrompt:
    example_text = "".join(
        f"Example question: {e.question}\n```sql\n{e.sql}\n```\n\n" for e in examples
    )
    system, user = load_prompt(prompt_name).render(
        definitions=definitions,
        schema="\n\n".join(t.describe() for t in tables),
        examples=("Verified examples (checked by analysts):\n\n" + example_text)
        if example_text else "",
        question=question,
        repair=repair,
    )
    return SqlPrompt(system=system, user=user, tables=tuple(t.name for t in tables))


FENCE = re.compile(r"```(?:sql|postgresql|postgres)?\s*\n?(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_sql(reply: str) -> str | None:
    """The SQL in a model reply: the last fenced block, else a reply that starts like SQL."""
    blocks = [b.strip() for b in FENCE.findall(reply) if b.strip()]
    if blocks:
        return blocks[-1].rstrip(";").strip()
    text = reply.strip()
    if re.match(r"(?is)^\s*(select|with)\b", text):
        return text.rstrip(";").strip()
    return None


@dataclass
class Attempt:
    sql: str | None
    outcome: str  # ok | no_sql | guard | database | cannot_answer
    reason: str | None = None


@dataclass
class WrittenQuery:
    """What the writer produced: the guard's verdict, the rows, and every attempt made."""

    verdict: GuardResult | None
    result: QueryResult | None
    attempts: list[Attempt] = field(default_factory=list)
    tokens: int = 0
    prompt: SqlPrompt | None = None
    error: AssistantError | None = None  # set when every round failed


def write_and_run(
    question: str,
    prompt_for: Callable[[str], SqlPrompt],
    model: ChatModel,
    policy: Policy,
    run: Callable[[GuardResult], QueryResult],
) -> WrittenQuery:
    """Ask the model for SQL, guard it, run it; repair up to MAX_REPAIRS times on a refusal.

    When every round failed, `error` holds a GuardRejected / SqlError / ProviderError with the
    last reason; a failure of the model itself raises ProviderError. Nothing the guard refused
    is ever executed.
    """
    written = WrittenQuery(verdict=None, result=None)
    repair = ""
    for _round in range(1 + MAX_REPAIRS):
        prompt = prompt_for(repair)
        written.prompt = written.prompt or prompt
        reply = complete(model, prompt.system, prompt.user)
        written.tokens += reply.tokens or 0
        candidate = extract_sql(reply.text)
        if candidate is None:
            written.attempts.append(Attempt(None, "no_sql", "no SQL statement in the reply"))
            repair = ("Your previous reply contained no SQL statement. Reply with one SELECT "
                      "in a ```sql block.")
            continue
        if re.search(r"'cannot answer'\s+AS\s+problem", candidate, re.IGNORECASE):
            written.attempts.append(Attempt(candidate, "cannot_answer", "the model could not "
                                            "answer from these tables"))
            return written
        verdict = check(candidate, policy)
        if not verdict.allowed:
            written.attempts.append(Attempt(candidate, "guard", verdict.reason))
            written.verdict = verdict
            repair = _repair_note(candidate, f"The read-only guard refused it: {verdict.reason}")
            continue
        written.verdict = verdict
        try:
            written.result = run(verdict)
        except SqlError as exc:
            written.attempts.append(Attempt(verdict.sql, "database", exc.detail))
            repair = _repair_note(verdict.sql or candidate, f"PostgreSQL said: {exc.detail}")
            continue
        written.attempts.append(Attempt(verdict.sql, "ok"))
        return written
    last = written.attempts[-1]
    if last.outcome == "guard":
        written.error = GuardRejected(f"This query was blocked: {last.reason}",
                                      detail=last.reason)
    elif last.outcome == "database":
        written.error = SqlError("The generated query kept failing in the database, so no "
                                 "figure is shown.", detail=last.reason)
    else:
        written.error = ProviderError("The model did not return a usable SQL statement.",
                                      detail=last.reason)
    return written


def _repair_note(previous: str, reason: str) -> str:
    return (f"\nYour previous SQL was:\n```sql\n{previous}\n```\n{reason}\n"
            "Write a corrected statement that avoids this problem.")
