"""The planner's values: periods, rankings, and the Plan every stage reads or refines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    label: str


@dataclass(frozen=True)
class Ranking:
    limit: int
    descending: bool


@dataclass(frozen=True)
class Plan:
    """What the planner understood, and the SQL it built from it."""

    question: str
    lang: str
    metrics: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    period: Period | None = None
    comparison: tuple[Period, Period] | None = None
    ranking: Ranking | None = None
    share: bool = False
    assumptions: tuple[str, ...] = ()
    confident: bool = False
    problem: str | None = None
    sql: str | None = None
    explanation: str = ""
    column_labels: dict[str, str] = field(default_factory=dict)
    column_formats: dict[str, str] = field(default_factory=dict)
    time_columns: tuple[str, ...] = ()
