"""The monitoring figures as the pandas frames the page charts and tabulates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date

import pandas as pd

from agents.app.monitoring.ab import VariantStats
from agents.app.monitoring.figures import (
    ROUTES,
    DailyBlocks,
    ErrorCount,
    RatedAnswer,
    ReasonCount,
    RouteCount,
    StageLatency,
    ThumbsPoint,
    Window,
)
from agents.messages import catalog, say


def _days(window: Window, seen: Sequence[date]) -> pd.DatetimeIndex:
    """Every day of the window (a day without questions is a 0, not a gap), plus any day seen
    past its end: a database clock ahead of ours after midnight must not lose rows."""
    days = pd.date_range(window.first_day, window.last_day, freq="D")
    extra = pd.DatetimeIndex([pd.Timestamp(d) for d in seen]).difference(days)
    return days.union(extra).rename("Day")


def routes_frame(counts: Sequence[RouteCount], window: Window) -> pd.DataFrame:
    """Questions per day (rows, every day of the window) and route (columns, all four)."""
    frame = pd.DataFrame(0, index=_days(window, [c.day for c in counts]), columns=list(ROUTES),
                         dtype="int64")
    for c in counts:
        if c.route not in frame.columns:  # a route added later still shows up
            frame[c.route] = 0
        frame.loc[pd.Timestamp(c.day), c.route] += c.questions
    return frame


def latency_frame(stages: Sequence[StageLatency]) -> pd.DataFrame:
    """p50 and p95 per stage, in pipeline order (the index keeps that order)."""
    return pd.DataFrame(
        {"p50 (ms)": [s.p50_ms for s in stages], "p95 (ms)": [s.p95_ms for s in stages],
         "Samples": [s.samples for s in stages]},
        index=pd.Index([s.stage for s in stages], name="Stage"),
    )


def blocks_frame(daily: Sequence[DailyBlocks], window: Window) -> pd.DataFrame:
    frame = pd.DataFrame(0, index=_days(window, [d.day for d in daily]),
                         columns=["Guard blocks", "Refusals"], dtype="int64")
    for d in daily:
        frame.loc[pd.Timestamp(d.day)] = [d.guard_blocks, d.refusals]
    return frame


def reasons_frame(reasons: Sequence[ReasonCount]) -> pd.DataFrame:
    return pd.DataFrame({"Kind": [r.kind for r in reasons], "Reason": [r.reason for r in reasons],
                         "Count": [r.count for r in reasons]})


# A rate over fewer votes than this swings 0–100% on a quiet day: it is not plotted.
MIN_VOTES_FOR_RATE = 5


def thumbs_frame(points: Sequence[ThumbsPoint],
                 min_votes: int = MIN_VOTES_FOR_RATE) -> pd.DataFrame:
    """Thumbs-up rate per period, with its votes; periods without votes are left out rather
    than drawn as 0, and a rate over fewer than `min_votes` votes is left empty."""
    return pd.DataFrame(
        {"Thumbs-up rate": [p.rate if p.votes >= min_votes else None for p in points],
         "Votes": [p.votes for p in points]},
        index=pd.DatetimeIndex([pd.Timestamp(p.period) for p in points], name="Period"),
    )


def thumbs_table(thumbs: pd.DataFrame) -> pd.DataFrame:
    """The thumbs frame as a table: each period's rate beside its votes."""
    table = thumbs.reset_index()
    table["Period"] = table["Period"].dt.strftime("%Y-%m-%d")
    return table


def worst_frame(answers: Sequence[RatedAnswer]) -> pd.DataFrame:
    # The asking user is left out: the table is for fixing answers, not for watching people.
    return pd.DataFrame({
        "Asked": [a.asked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for a in answers],
        "Question": [a.question or "(empty question)" for a in answers],
        "Route": [a.route for a in answers],
        "Variant": [a.variant or "" for a in answers],
        "Thumbs down": [a.thumbs_down for a in answers],
        "Thumbs up": [a.thumbs_up for a in answers],
        "SQL or sources": [a.sql or "; ".join(a.sources) for a in answers],
        "Comments": [" | ".join(a.comments) for a in answers],
    })


def ab_frame(stats: Sequence[VariantStats]) -> pd.DataFrame:
    intervals = [s.win_interval for s in stats]
    return pd.DataFrame({
        "Variant": [s.variant for s in stats],
        "Answers": [s.answers for s in stats],
        "Votes": [s.votes for s in stats],
        "Thumbs-up rate": [s.thumbs_up_rate for s in stats],
        "Wins": [s.wins for s in stats],
        "Losses": [s.losses for s in stats],
        "Ties": [s.ties for s in stats],
        "Win rate": [s.win_rate for s in stats],
        "95% CI low": [i[0] if i else None for i in intervals],
        "95% CI high": [i[1] if i else None for i in intervals],
        "Median latency (ms)": [s.median_ms for s in stats],
    })


def error_label(code: str, lang: str = "en") -> str:
    """An error code of the query log ("GuardRejected", "bad_input", "internal: KeyError") as
    a reader says it; an unknown code is shown as it is."""
    key = "internal" if code.startswith("internal") else code
    labels = catalog()
    return say(f"monitoring.error.{key}", lang) if f"monitoring.error.{key}" in labels else code


def errors_frame(errors: Sequence[ErrorCount]) -> pd.DataFrame:
    return pd.DataFrame({"Answers": [e.count for e in errors]},
                        index=pd.Index([error_label(e.kind) for e in errors], name="Error"))
