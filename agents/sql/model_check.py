"""A semantic model checked against the warehouse it describes, as the reader role.

Every source's joins, every metric and every dimension is run with `LIMIT 0` (PostgreSQL plans
it, so a missing table or column, a type error or a join that does not resolve is reported),
every `values_from` query too, and the values a dimension lists must occur in its column. Each
problem is one line `file, line N: where: problem`, the line of the key in the model file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlglot
from sqlglot import exp

from agents.sql.model_schema import Location, line_of
from agents.sql.semantic_model import Dimension, SemanticModel, Source

CHECK_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Probe:
    """One query of the check, and where in the model file it comes from."""

    where: Location
    sql: str
    values: tuple[str, ...] = ()  # listed values the query must find
    source: str | None = None  # skipped when this source's joins failed (said once)


def _from(source: Source) -> exp.Select:
    """SELECT 1 FROM the source and its joins."""
    query = sqlglot.parse_one(f"SELECT 1 FROM {source.from_}", read="postgres")
    assert isinstance(query, exp.Select)
    for join in source.joins:
        query = query.join(join, dialect="postgres")
    return query


def _select(base: exp.Select, expression: str, where: str | None = None) -> str:
    query = base.copy().select(expression, append=False, dialect="postgres")
    if where:
        query = query.where(where, dialect="postgres")
    return query.limit(0).sql(dialect="postgres")


def _own_table(base: exp.Select, column: str) -> exp.Select:
    """FROM the one table the column reads, when it reads one (a value listed for a dimension
    exists in its table even if no row of the source has it yet); else the whole source."""
    aliases = {c.table for c in sqlglot.parse_one(column, read="postgres").find_all(exp.Column)}
    if len(aliases) == 1:
        for table in base.find_all(exp.Table):
            if table.alias_or_name == next(iter(aliases)):
                return exp.select("1").from_(table.copy())
    return base.copy()


def _values_probe(key: str, dim: Dimension, source: str, base: exp.Select,
                  column: str) -> Probe:
    """The listed values of a dimension that its column does not hold (unnest of a parameter)."""
    inner = _own_table(base, column).select("1", append=False).where(
        f"CAST({column} AS TEXT) = v.value", dialect="postgres")
    text = (f"SELECT v.value FROM unnest(%s::text[]) AS v(value) "
            f"WHERE NOT EXISTS ({inner.sql(dialect='postgres')})")
    return Probe(("dimensions", key, "values"), text, dim.values, source)


def probes(model: SemanticModel) -> Iterator[Probe]:
    """Every query the check runs, in the file's order (each source's FROM parsed once)."""
    bases = {key: _from(source) for key, source in model.sources.items()}
    for key, source in model.sources.items():
        yield Probe(("sources", key, "joins"), _select(bases[key], "1"))
        yield Probe(("sources", key, "time"), _select(bases[key], source.time), source=key)
    for key, metric in model.metrics.items():
        if metric.sql and metric.source in bases:
            yield Probe(("metrics", key, "sql"),
                        _select(bases[metric.source], metric.sql, metric.where),
                        source=metric.source)
    for key, dim in model.dimensions.items():
        for source_key, column in dim.columns.items():
            if source_key in bases:
                yield Probe(("dimensions", key, "column", source_key),
                            _select(bases[source_key], column), source=source_key)
        if dim.values_from:
            yield Probe(("dimensions", key, "values_from"),
                        f"SELECT * FROM ({dim.values_from}) AS listed LIMIT 0")
        elif dim.values and dim.columns:
            source_key, column = next(iter(dim.columns.items()))
            if source_key in bases:
                yield _values_probe(key, dim, source_key, bases[source_key], column)


def _run(conn: psycopg.Connection, probe: Probe) -> str | None:
    """None when the probe passed, else the problem in one line (in a savepoint of the
    caller's read-only transaction)."""
    try:
        with conn.transaction():
            if not probe.values:
                conn.execute(probe.sql)
                return None
            rows = conn.execute(probe.sql, (list(probe.values),)).fetchall()
    except psycopg.Error as exc:
        diag = getattr(exc, "diag", None)
        message = (diag.message_primary if diag else None) or str(exc).strip().splitlines()[0]
        return message
    missing = [str(r[0]) for r in rows]
    if missing:
        return "listed values not found in the warehouse: " + ", ".join(missing)
    return None


def check_model(model: SemanticModel, conn: psycopg.Connection,
                locate: Callable[[Location], str],
                progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Run every probe on `conn` (the reader's, autocommit); one line per problem."""
    found = list(probes(model))
    problems = []
    broken: set[str] = set()
    # One read-only transaction, always rolled back; each probe in a savepoint of it.
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', %s, true)",
                     (str(CHECK_TIMEOUT_MS),))
        for done, probe in enumerate(found, 1):
            problem = None if probe.source in broken else _run(conn, probe)
            if problem:
                problems.append(f"{locate(probe.where)}: {problem}")
                if probe.where[0] == "sources" and probe.where[-1] == "joins":
                    broken.add(str(probe.where[1]))
            if progress:
                progress(done, len(found))
    return problems


def locator(path: Path, lines: dict[Location, int]) -> Callable[[Location], str]:
    """`file, line N: a.b.c` for a path of the model file."""

    def locate(where: Location) -> str:
        line = line_of(lines, where)
        place = ".".join(str(p) for p in where)
        return f"{path}, line {line}: {place}" if line else f"{path}: {place}"

    return locate
