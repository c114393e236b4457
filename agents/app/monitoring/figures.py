"""The window the monitoring figures describe, and the figures as the page receives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from agents.app.monitoring.ab import VariantStats

ROUTES = ("sql", "docs", "both", "refused")
# Pipeline order, so the latency chart reads like the question's path; unknown stages follow.
STAGE_ORDER = ("plan", "route", "guard", "execute", "embed", "retrieve", "compose", "total")
WINDOWS = (1, 7, 30, 90)
Bucket = Literal["day", "week"]


@dataclass(frozen=True)
class Window:
    """`days` calendar days (UTC) ending with the day of `until` (None: up to now)."""

    days: int
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("A monitoring window is at least one day.")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("`until` must be timezone-aware.")

    @property
    def last_day(self) -> date:
        return (self.until or datetime.now(UTC)).astimezone(UTC).date()

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), UTC)

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"start": self.start, "until": self.until, **extra}


@dataclass(frozen=True)
class RouteCount:
    day: date
    route: str
    questions: int


@dataclass(frozen=True)
class StageLatency:
    stage: str
    samples: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class DailyBlocks:
    day: date
    guard_blocks: int
    refusals: int


@dataclass(frozen=True)
class ReasonCount:
    kind: str  # "guard block" | "refusal" | "bad input"
    reason: str
    count: int


@dataclass(frozen=True)
class ThumbsPoint:
    period: date  # the day, or the Monday of the week
    up: int
    down: int

    @property
    def votes(self) -> int:
        return self.up + self.down

    @property
    def rate(self) -> float | None:
        return self.up / self.votes if self.votes else None


@dataclass(frozen=True)
class RatedAnswer:
    answer_id: str
    asked_at: datetime
    user: str
    question: str
    route: str
    variant: str | None
    sql: str | None
    sources: tuple[str, ...]
    answer_text: str | None
    thumbs_down: int
    thumbs_up: int
    comments: tuple[str, ...]
    # The path of each source ("" when it has none), for the viewer's rule (see visibility).
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorCount:
    kind: str
    count: int


@dataclass(frozen=True)
class Summary:
    questions: int
    users: int
    guard_blocks: int
    refusals: int
    errors: int
    votes: int
    thumbs_up: int
    p50_ms: float | None
    p95_ms: float | None
    has_any_log: bool  # False: nothing was ever logged (the page's empty state)

    @property
    def thumbs_up_rate(self) -> float | None:
        return self.thumbs_up / self.votes if self.votes else None


@dataclass(frozen=True)
class Dashboard:
    window: Window
    summary: Summary
    routes: list[RouteCount]
    latency: list[StageLatency]
    blocks: list[DailyBlocks]
    reasons: list[ReasonCount]
    thumbs: list[ThumbsPoint]
    worst: list[RatedAnswer]
    variants: list[VariantStats]
    errors: list[ErrorCount]
    bucket: Bucket = "day"

