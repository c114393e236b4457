"""The frozen parts an answer is composed from: each branch returns one, `compose` joins them.

A failing stage raises `Stopped` with the part its branch had built so far: the SQL that was
tried and the guard's verdict still reach the answer and the query log, as before the failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeAlias

from agents.ask.answer import Chart, Fault, Source
from agents.errors import ProviderError
from agents.sql.executor import QueryResult

# A model that failed while a branch could still answer without it: logged as if its
# ProviderError had ended the answer.
MODEL_DOWN = Fault("stage_error", ProviderError.__name__)


@dataclass(frozen=True)
class SqlTrace:
    """Which SQL answered (or was tried), where it came from and what the guard said."""

    source: str | None = None  # planner | llm | verified
    sql: str | None = None
    explanation: str | None = None
    guard_allowed: bool | None = None
    guard_reason: str | None = None
    verified_id: int | None = None
    verified_by: str | None = None
    # What the SQL was for, in the user's language ("Revenue by region, in 2019"), and the
    # question's words nothing explained: kept on the trace so a failed run still shows them.
    understood_as: str | None = None
    not_understood: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A result as the answer shows it: the rows, column labels and formats, the chart."""

    result: QueryResult
    labels: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    chart: Chart = field(default_factory=lambda: Chart("none"))


@dataclass(frozen=True)
class DataPart:
    text: str
    trace: SqlTrace = field(default_factory=SqlTrace)
    table: Table | None = None
    suggestions: tuple[str, ...] = ()
    fault: Fault | None = None


@dataclass(frozen=True)
class DocsPart:
    text: str
    sources: tuple[Source, ...] = ()
    fault: Fault | None = None


@dataclass(frozen=True)
class Refusal:
    text: str
    reason: str


Part: TypeAlias = DataPart | DocsPart | Refusal


@dataclass(frozen=True)
class Failure:
    """A stage that raised: what the user reads instead, and the error code logged."""

    text: str
    fault: Fault


class Stopped(Exception):
    """A stage failed with `cause`; `part` is what its branch had built until then."""

    def __init__(self, cause: Exception, part: DataPart | DocsPart) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.part = part


@contextmanager
def keeping(part: DataPart | DocsPart) -> Iterator[None]:
    """Whatever fails inside stops the answer with `part` (an inner Stopped keeps its own)."""
    try:
        yield
    except Stopped:
        raise
    except Exception as exc:
        raise Stopped(exc, part) from exc
