"""Feedback and monitoring: how Sourced is used and where it fails, computed in SQL over the log.

Every figure describes the answers *asked* in a window of calendar days (UTC), including today:
their routes, stage latencies, guard blocks and refusals, the thumbs their users gave and the
errors they ended with. Compare-mode preferences are counted by the day they were given.

Two choices shape the numbers (and are repeated where they apply):
- Votes: the app stores every click, so a user who clicks 👎 twice, or 👍 then 👎, has several
  feedback rows. Only the *last* vote of each user on each answer counts.
- A/B win rate: a tie says neither answer was better; it carries no evidence about which variant
  is. Ties are excluded from the win rate (reported beside it) rather than counted half, which
  would pull every variant toward 50% and narrow the interval with trials that never happened.
  The 95% interval is Wilson's score interval, which stays inside [0, 1] and behaves at 0/n.

Functions take a psycopg connection or a pool, read inside one transaction with a statement
timeout, and raise MonitoringError (an AssistantError with a plain message) on any database
failure, so the page never shows a traceback.

- `figures`: the window and the figures read (one dataclass per chart or table).
- `ab`: the A/B statistics: a variant's figures, win rate and Wilson interval.
- `queries`: the SQL that reads them, one transaction per call or per dashboard.
- `frames`: the figures as the pandas frames the page draws.
- `visibility`: what a viewer may see of rows about documents (sources, answer text,
  comments): the documents' own rule, the same as retrieval's.
"""

from __future__ import annotations

from agents.app.monitoring.ab import VariantStats, wilson_interval
from agents.app.monitoring.figures import (
    ROUTES,
    STAGE_ORDER,
    WINDOWS,
    Bucket,
    DailyBlocks,
    Dashboard,
    ErrorCount,
    RatedAnswer,
    ReasonCount,
    RouteCount,
    StageLatency,
    Summary,
    ThumbsPoint,
    Window,
)
from agents.app.monitoring.frames import (
    MIN_VOTES_FOR_RATE,
    ab_frame,
    blocks_frame,
    column,
    day_text,
    duration_text,
    error_label,
    errors_frame,
    latency_frame,
    reasons_frame,
    routes_frame,
    share_text,
    thumbs_frame,
    thumbs_table,
    window_label,
    worst_frame,
)
from agents.app.monitoring.queries import (
    DEFAULT_TIMEOUT_MS,
    ConnOrPool,
    MonitoringError,
    ab_table,
    blocks_per_day,
    error_counts,
    load_dashboard,
    questions_per_day,
    stage_latency,
    summary,
    thumbs_over_time,
    top_reasons,
    worst_rated,
)

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "MIN_VOTES_FOR_RATE",
    "ROUTES",
    "STAGE_ORDER",
    "WINDOWS",
    "Bucket",
    "ConnOrPool",
    "DailyBlocks",
    "Dashboard",
    "ErrorCount",
    "MonitoringError",
    "RatedAnswer",
    "ReasonCount",
    "RouteCount",
    "StageLatency",
    "Summary",
    "ThumbsPoint",
    "VariantStats",
    "Window",
    "ab_frame",
    "ab_table",
    "blocks_frame",
    "blocks_per_day",
    "column",
    "day_text",
    "duration_text",
    "error_counts",
    "error_label",
    "errors_frame",
    "latency_frame",
    "load_dashboard",
    "questions_per_day",
    "reasons_frame",
    "routes_frame",
    "share_text",
    "stage_latency",
    "summary",
    "thumbs_frame",
    "thumbs_over_time",
    "thumbs_table",
    "top_reasons",
    "wilson_interval",
    "window_label",
    "worst_frame",
    "worst_rated",
]
