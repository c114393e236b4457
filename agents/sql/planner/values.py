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
    # The plan restated in the user's language, shown above the table so that a misreading is
    # caught at a glance: "Revenue by region, top 5, orders dated in 2022".
    understood_as: str = ""
    # The question's words or phrases that no rule explained (empty when all were understood);
    # any of them makes the plan not confident.
    not_understood: tuple[str, ...] = ()
    # Typos read as a known name, (as written, as read): (("revnue", "revenue"),).
    corrections: tuple[tuple[str, str], ...] = ()
