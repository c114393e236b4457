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
from agents.ask.formats import format_value
from agents.messages import catalog, say


def column(name: str, lang: str = "en") -> str:
    """A frame's column header in `lang` (the page refers to a column by the same call)."""
    return say(f"monitoring.col.{name}", lang)


def _cols(lang: str, *names: str) -> list[str]:
    return [column(name, lang) for name in names]


def window_label(days: int, lang: str = "en") -> str:
    return say("monitoring.today", lang) if days == 1 else say("monitoring.last_days", lang,
                                                                 days=days)


def day_text(day: date, lang: str = "en") -> str:
    """"10 Mar 2024" / "10 mars 2024"."""
    months = say("monitoring.months", lang).split()
    return f"{day.day} {months[day.month - 1]} {day.year}"


def duration_text(value: float | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    if value < 1000:
        return f"{format_value(round(value), None, lang)} ms"
    seconds = f"{value / 1000:,.1f}"
    if lang == "fr":  # 1 234,5 s
        seconds = seconds.replace(",", "\u202f").replace(".", ",")
    return f"{seconds} s"


def share_text(value: float | None, lang: str = "en") -> str:
    return "—" if value is None else format_value(value, "percent", lang)


def _days(window: Window, seen: Sequence[date], lang: str = "en") -> pd.DatetimeIndex:
    """Every day of the window (a day without questions is a 0, not a gap), plus any day seen
    past its end: a database clock ahead of ours after midnight must not lose rows."""
    days = pd.date_range(window.first_day, window.last_day, freq="D")
    extra = pd.DatetimeIndex([pd.Timestamp(d) for d in seen]).difference(days)
    return days.union(extra).rename(column("day", lang))


def routes_frame(counts: Sequence[RouteCount], window: Window,
                 lang: str | None = None) -> pd.DataFrame:
    """Questions per day (rows, every day of the window) and route (columns, all four: the
    route codes, or with `lang` their names in that language)."""
    frame = pd.DataFrame(0, index=_days(window, [c.day for c in counts], lang or "en"),
                         columns=list(ROUTES), dtype="int64")
    for c in counts:
        if c.route not in frame.columns:  # a route added later still shows up
            frame[c.route] = 0
        frame.loc[pd.Timestamp(c.day), c.route] += c.questions
    if lang is None:
        return frame
    return frame.rename(columns=lambda r: route_label(r, lang))


def route_label(route: str, lang: str) -> str:
    key = f"monitoring.route.{route}"
    return say(key, lang) if key in catalog() else route


def stage_label(stage: str, lang: str) -> str:
    """A pipeline stage ("retrieve") as a reader says it; a stage added later as it is."""
    key = f"monitoring.stage.{stage}"
    return say(key, lang) if key in catalog() else stage


def reason_label(kind: str, lang: str) -> str:
    """"guard block", "refusal", "bad input" (the reasons table's kinds) in words."""
    key = f"monitoring.reason.{kind}"
    return say(key, lang) if key in catalog() else kind


def latency_frame(stages: Sequence[StageLatency], lang: str = "en") -> pd.DataFrame:
    """p50 and p95 per stage, in pipeline order (the index keeps that order)."""
    p50, p95, samples = _cols(lang, "p50", "p95", "samples")
    return pd.DataFrame(
        {p50: [s.p50_ms for s in stages], p95: [s.p95_ms for s in stages],
         samples: [s.samples for s in stages]},
        index=pd.Index([stage_label(s.stage, lang) for s in stages],
                       name=column("stage", lang)),
    )


def blocks_frame(daily: Sequence[DailyBlocks], window: Window, lang: str = "en") -> pd.DataFrame:
    frame = pd.DataFrame(0, index=_days(window, [d.day for d in daily], lang),
                         columns=_cols(lang, "guard_blocks", "refusals"), dtype="int64")
    for d in daily:
        frame.loc[pd.Timestamp(d.day)] = [d.guard_blocks, d.refusals]
    return frame


def reasons_frame(reasons: Sequence[ReasonCount], lang: str = "en") -> pd.DataFrame:
    return pd.DataFrame([(reason_label(r.kind, lang), r.reason, r.count) for r in reasons],
                        columns=_cols(lang, "kind", "reason", "count"))


# A rate over fewer votes than this swings 0–100% on a quiet day: it is not plotted.
MIN_VOTES_FOR_RATE = 5


def thumbs_frame(points: Sequence[ThumbsPoint], min_votes: int = MIN_VOTES_FOR_RATE,
                 lang: str = "en") -> pd.DataFrame:
    """Thumbs-up rate per period, with its votes; periods without votes are left out rather
    than drawn as 0, and a rate over fewer than `min_votes` votes is left empty."""
    return pd.DataFrame(
        {column("thumbs_rate", lang): [p.rate if p.votes >= min_votes else None
                                       for p in points],
         column("votes", lang): [p.votes for p in points]},
        index=pd.DatetimeIndex([pd.Timestamp(p.period) for p in points],
                               name=column("period", lang)),
    )


def thumbs_table(thumbs: pd.DataFrame) -> pd.DataFrame:
    """The thumbs frame as a table: each period's rate beside its votes."""
    table = thumbs.reset_index()
    period = str(thumbs.index.name)
    table[period] = table[period].dt.strftime("%Y-%m-%d")
    return table


def worst_frame(answers: Sequence[RatedAnswer], lang: str = "en") -> pd.DataFrame:
    # The asking user is left out: the table is for fixing answers, not for watching people.
    empty = say("monitoring.empty_question", lang)
    return pd.DataFrame(
        [(a.asked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), a.question or empty,
          route_label(a.route, lang), a.variant or "", a.thumbs_down, a.thumbs_up,
          a.sql or "; ".join(a.sources), " | ".join(a.comments)) for a in answers],
        columns=_cols(lang, "asked", "question", "route", "variant", "thumbs_down",
                      "thumbs_up", "sql_or_sources", "comments"))


def ab_frame(stats: Sequence[VariantStats], lang: str = "en") -> pd.DataFrame:
    return pd.DataFrame(
        [(s.variant, s.answers, s.votes, s.thumbs_up_rate, s.wins, s.losses, s.ties, s.win_rate,
          s.win_interval[0] if s.win_interval else None,
          s.win_interval[1] if s.win_interval else None, s.median_ms) for s in stats],
        columns=_cols(lang, "variant", "answers", "votes", "thumbs_rate", "wins", "losses",
                      "ties", "win_rate", "ci_low", "ci_high", "median_ms"))


def error_label(code: str, lang: str = "en") -> str:
    """An error code of the query log ("GuardRejected", "bad_input", "internal: KeyError") as
    a reader says it; an unknown code is shown as it is."""
    key = "internal" if code.startswith("internal") else code
    labels = catalog()
    return say(f"monitoring.error.{key}", lang) if f"monitoring.error.{key}" in labels else code


def errors_frame(errors: Sequence[ErrorCount], lang: str = "en") -> pd.DataFrame:
    return pd.DataFrame({column("answers", lang): [e.count for e in errors]},
                        index=pd.Index([error_label(e.kind, lang) for e in errors],
                                       name=column("error", lang)))
