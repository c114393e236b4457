"""The monitoring figures computed in SQL over the query log, feedback and A/B preferences.

Functions take a psycopg connection or a pool, read inside one transaction with a statement
timeout, and raise MonitoringError (an AssistantError with a plain message) on any database
failure, so the page never shows a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg_pool import ConnectionPool

from agents.app.documents import readable_paths, reading_groups
from agents.app.monitoring.ab import VariantStats
from agents.app.monitoring.figures import (
    STAGE_ORDER,
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
from agents.app.monitoring.visibility import visible_to
from agents.errors import AssistantError
from agents.logs import Redactor
from agents.messages import say
from agents.store.users import User

DEFAULT_TIMEOUT_MS = 10_000
ConnOrPool = psycopg.Connection | ConnectionPool


class MonitoringError(AssistantError):
    """The monitoring figures could not be read (database down, schema missing, too slow).

    `key` names why ("slow", "no_log", "down"): the page says it in its own language."""

    def __init__(self, key: str, detail: str | None = None) -> None:
        super().__init__(say(f"monitoring.failure.{key}", "en"), detail=detail)
        self.key = key

    def text(self, lang: str) -> str:
        return say(f"monitoring.failure.{self.key}", lang)


def _within(column: str) -> str:
    # `column` is always a literal of this module, never user input; the bounds are parameters.
    # No upper bound without `until`: rows stamped by a database clock slightly ahead of ours
    # must not vanish.
    return (f"{column} >= %(start)s"
            f" AND {column} <= coalesce(%(until)s::timestamptz, 'infinity'::timestamptz)")


def _day(column: str) -> str:
    # Days are UTC days whatever the server's TimeZone, so a figure never depends on the host.
    return f"({column} AT TIME ZONE 'UTC')::date"


# Answers asked in the window.
_SCOPED = f"SELECT * FROM app.query_log WHERE {_within('asked_at')}"
# The current (last) vote of each user on each answer of the window (migration 0012).
_VOTES = (
    "SELECT v.answer_id, v.rating"
    " FROM app.current_votes v JOIN scoped s ON s.answer_id = v.answer_id"
)
# The total latency of an answer, NULL when missing or not a number (percentile_cont skips NULL).
_TOTAL_MS = ("CASE WHEN jsonb_typeof(timings_ms -> 'total') = 'number'"
             " THEN (timings_ms -> 'total')::float8 END")


@contextmanager
def _reading(source: ConnOrPool, timeout_ms: int) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction bounded by a statement timeout; errors become plain."""
    try:
        if isinstance(source, ConnectionPool):
            with source.connection() as conn, conn.transaction():
                _limit(conn, timeout_ms)
                yield conn
        else:
            # A caller's connection: a savepoint when it is already in a transaction, so a
            # failure here does not poison its work.
            with source.transaction():
                _limit(source, timeout_ms)
                yield source
    except psycopg.errors.QueryCanceled as exc:
        raise MonitoringError("slow", detail=str(exc)) from exc
    except psycopg.errors.UndefinedTable as exc:
        raise MonitoringError("no_log", detail=str(exc)) from exc
    except psycopg.Error as exc:
        raise MonitoringError("down", detail=str(exc)) from exc


def _limit(conn: psycopg.Connection, timeout_ms: int) -> None:
    # Local to the transaction: the pooled connection goes back without it.
    conn.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout_ms)}ms",))


def questions_per_day(source: ConnOrPool, days: int, *, until: datetime | None = None,
                      timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[RouteCount]:
    """Questions per UTC day and route (sql, docs, both, refused); days without any are absent."""
    with _reading(source, timeout_ms) as conn:
        return _routes(conn, Window(days, until))


def stage_latency(source: ConnOrPool, days: int, *, until: datetime | None = None,
                  timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[StageLatency]:
    """p50 and p95 (continuous percentiles) of each stage of timings_ms, "total" last."""
    with _reading(source, timeout_ms) as conn:
        return _latency(conn, Window(days, until))


def blocks_per_day(source: ConnOrPool, days: int, *, until: datetime | None = None,
                   timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[DailyBlocks]:
    """Guard blocks (guard_allowed = false) and refusals (route = 'refused') per UTC day."""
    with _reading(source, timeout_ms) as conn:
        return _blocks(conn, Window(days, until))


def top_reasons(source: ConnOrPool, days: int, *, until: datetime | None = None, limit: int = 10,
                timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[ReasonCount]:
    """The most frequent guard and refusal reasons, most frequent first."""
    with _reading(source, timeout_ms) as conn:
        return _reasons(conn, Window(days, until), limit)


def thumbs_over_time(source: ConnOrPool, days: int, *, until: datetime | None = None,
                     bucket: Bucket = "day",
                     timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[ThumbsPoint]:
    """Thumbs up and down per day (or ISO week) the answers were asked; last vote per user."""
    with _reading(source, timeout_ms) as conn:
        return _thumbs(conn, Window(days, until), bucket)


def worst_rated(source: ConnOrPool, days: int, *, viewer: User, until: datetime | None = None,
                limit: int = 10, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[RatedAnswer]:
    """Answers with the most thumbs down (then fewest up, newest), with their SQL or sources,
    as `viewer` may see them (agents.app.monitoring.visibility)."""
    with _reading(source, timeout_ms) as conn:
        return _worst_for(conn, Window(days, until), limit, viewer)


def ab_table(source: ConnOrPool, days: int, *, until: datetime | None = None,
             timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[VariantStats]:
    """Per variant: answers, thumbs-up rate, compare-mode wins/losses/ties, median latency."""
    with _reading(source, timeout_ms) as conn:
        return _variants(conn, Window(days, until))


def error_counts(source: ConnOrPool, days: int, *, until: datetime | None = None,
                 timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[ErrorCount]:
    """Answers per query_log.error kind, most frequent first."""
    with _reading(source, timeout_ms) as conn:
        return _errors(conn, Window(days, until))


def summary(source: ConnOrPool, days: int, *, until: datetime | None = None,
            timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Summary:
    """The headline figures of the window (the page's metric cards)."""
    with _reading(source, timeout_ms) as conn:
        return _summary(conn, Window(days, until))


def load_dashboard(source: ConnOrPool, days: int, *, viewer: User,
                   until: datetime | None = None, bucket: Bucket = "day", limit: int = 10,
                   timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Dashboard:
    """Everything the monitoring page shows `viewer`, read on one connection in one
    transaction; rows about documents the viewer may not read as visibility says."""
    window = Window(days, until)
    with _reading(source, timeout_ms) as conn:
        return Dashboard(
            window=window,
            summary=_summary(conn, window),
            routes=_routes(conn, window),
            latency=_latency(conn, window),
            blocks=_blocks(conn, window),
            reasons=_reasons(conn, window, limit),
            thumbs=_thumbs(conn, window, bucket),
            worst=_worst_for(conn, window, limit, viewer),
            variants=_variants(conn, window),
            errors=_errors(conn, window),
            bucket=bucket,
        )


def _routes(conn: psycopg.Connection, window: Window) -> list[RouteCount]:
    rows = conn.execute(
        f"SELECT {_day('asked_at')} AS day, route, count(*) FROM app.query_log"
        f" WHERE {_within('asked_at')} GROUP BY 1, 2 ORDER BY 1, 2",
        window.params(),
    ).fetchall()
    return [RouteCount(r[0], r[1], r[2]) for r in rows]


def _latency(conn: psycopg.Connection, window: Window) -> list[StageLatency]:
    rows = conn.execute(
        "SELECT t.key, count(*),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY t.value::float8),"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY t.value::float8)"
        " FROM app.query_log q CROSS JOIN LATERAL jsonb_each(q.timings_ms) AS t(key, value)"
        # A stage that was not a number (a hand-edited row) is skipped, not a failed page.
        f" WHERE {_within('q.asked_at')} AND jsonb_typeof(t.value) = 'number'"
        " GROUP BY t.key",
        window.params(),
    ).fetchall()
    found = [StageLatency(r[0], r[1], float(r[2]), float(r[3])) for r in rows]
    rank = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    # Known stages in pipeline order, unknown ones alphabetically before "total".
    return sorted(found, key=lambda s: (s.stage == "total", rank.get(s.stage, len(rank)),
                                        s.stage))


def _blocks(conn: psycopg.Connection, window: Window) -> list[DailyBlocks]:
    rows = conn.execute(
        f"SELECT {_day('asked_at')} AS day,"
        " count(*) FILTER (WHERE guard_allowed = false),"
        " count(*) FILTER (WHERE route = 'refused')"
        f" FROM app.query_log WHERE {_within('asked_at')}"
        " AND (guard_allowed = false OR route = 'refused') GROUP BY 1 ORDER BY 1",
        window.params(),
    ).fetchall()
    return [DailyBlocks(r[0], r[1], r[2]) for r in rows]


def _reasons(conn: psycopg.Connection, window: Window, limit: int) -> list[ReasonCount]:
    # The pipeline writes the refusal reason into guard_reason too; a question rejected before
    # routing (empty, too long) is a refusal with error 'bad_input', told apart here.
    rows = conn.execute(
        "SELECT CASE WHEN guard_allowed = false THEN 'guard block'"
        "            WHEN error = 'bad_input' THEN 'bad input' ELSE 'refusal' END AS kind,"
        " coalesce(nullif(guard_reason, ''), '(no reason recorded)') AS reason, count(*)"
        f" FROM app.query_log WHERE {_within('asked_at')}"
        " AND (guard_allowed = false OR route = 'refused')"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT %(limit)s",
        window.params(limit=limit),
    ).fetchall()
    return [ReasonCount(r[0], r[1], r[2]) for r in rows]


def _thumbs(conn: psycopg.Connection, window: Window, bucket: Bucket) -> list[ThumbsPoint]:
    if bucket not in ("day", "week"):
        raise ValueError("The thumbs-up rate is grouped by 'day' or 'week'.")
    rows = conn.execute(
        f"WITH scoped AS ({_SCOPED}), votes AS ({_VOTES})"
        " SELECT date_trunc(%(bucket)s, s.asked_at AT TIME ZONE 'UTC')::date AS period,"
        " count(*) FILTER (WHERE v.rating = 1), count(*) FILTER (WHERE v.rating = -1)"
        " FROM votes v JOIN scoped s ON s.answer_id = v.answer_id GROUP BY 1 ORDER BY 1",
        window.params(bucket=bucket),
    ).fetchall()
    return [ThumbsPoint(r[0], r[1], r[2]) for r in rows]


def _worst_for(conn: psycopg.Connection, window: Window, limit: int,
               viewer: User) -> list[RatedAnswer]:
    worst = _worst(conn, window, limit)
    if not any(a.documents for a in worst):
        return worst
    return visible_to(worst, readable_paths(conn, reading_groups(viewer)))


# The logs' patterns: a secret pasted into a question or a comment is not shown to analysts.
_REDACT = Redactor()


def _worst(conn: psycopg.Connection, window: Window, limit: int) -> list[RatedAnswer]:
    rows = conn.execute(
        f"WITH scoped AS ({_SCOPED}), votes AS ({_VOTES}),"
        " tally AS (SELECT answer_id, count(*) FILTER (WHERE rating = -1) AS down,"
        "           count(*) FILTER (WHERE rating = 1) AS up FROM votes GROUP BY answer_id)"
        " SELECT s.answer_id::text, s.asked_at, s.user_name, s.question, s.route, s.variant,"
        " s.sql, s.sources, s.answer_text, t.down, t.up,"
        # Every comment counts, even on a vote later changed: it is what the user wrote.
        " ARRAY(SELECT f.comment FROM app.feedback f WHERE f.answer_id = s.answer_id"
        "       AND nullif(btrim(f.comment), '') IS NOT NULL"
        "       ORDER BY f.created_at, f.feedback_id)"
        " FROM tally t JOIN scoped s ON s.answer_id = t.answer_id WHERE t.down > 0"
        " ORDER BY t.down DESC, t.up, s.asked_at DESC, s.answer_id LIMIT %(limit)s",
        window.params(limit=limit),
    ).fetchall()
    return [
        RatedAnswer(
            # Rows logged before questions were redacted at the write are redacted here too.
            answer_id=r[0], asked_at=r[1], user=r[2], question=_REDACT(r[3] or ""),
            route=r[4], variant=r[5],
            sql=r[6], sources=tuple(_source_label(s) for s in (r[7] or [])),
            answer_text=None if r[8] is None else _REDACT(r[8]), thumbs_down=r[9], thumbs_up=r[10],
            comments=tuple(dict.fromkeys(_REDACT(c.strip()) for c in r[11])),
            documents=tuple(_source_path(s) for s in (r[7] or [])),
        )
        for r in rows
    ]


def _source_path(source: object) -> str:
    """The document a query_log.sources item cites ("" when it names none: never readable)."""
    return str(source.get("path") or "") if isinstance(source, dict) else ""


def _source_label(source: object) -> str:
    """'Title (section, p. 3)' from a query_log.sources item (Source.as_json)."""
    if not isinstance(source, dict):
        return str(source)
    title = str(source.get("title") or source.get("path") or "?")
    where = [str(source["section"])] if source.get("section") else []
    if source.get("page"):
        where.append(f"p. {source['page']}")
    return f"{title} ({', '.join(where)})" if where else title


def _variants(conn: psycopg.Connection, window: Window) -> list[VariantStats]:
    rows = conn.execute(
        f"WITH scoped AS ({_SCOPED} AND variant IS NOT NULL), votes AS ({_VOTES}),"
        " answered AS (SELECT variant, count(*) AS answers,"
        f"   percentile_cont(0.5) WITHIN GROUP (ORDER BY {_TOTAL_MS}) AS median_ms"
        "   FROM scoped GROUP BY variant),"
        " rated AS (SELECT s.variant, count(*) AS votes,"
        "   count(*) FILTER (WHERE v.rating = 1) AS up"
        "   FROM votes v JOIN scoped s ON s.answer_id = v.answer_id GROUP BY s.variant),"
        # Each preference is one duel seen from both sides; a variant against itself is no
        # evidence about it, so such rows are skipped.
        " duels AS (SELECT variant_a AS variant,"
        "   CASE preferred WHEN 'a' THEN 'win' WHEN 'b' THEN 'loss' ELSE 'tie' END AS outcome"
        f"   FROM app.ab_preferences WHERE {_within('created_at')} AND variant_a <> variant_b"
        "   UNION ALL SELECT variant_b,"
        "   CASE preferred WHEN 'b' THEN 'win' WHEN 'a' THEN 'loss' ELSE 'tie' END"
        f"   FROM app.ab_preferences WHERE {_within('created_at')} AND variant_a <> variant_b),"
        " prefs AS (SELECT variant, count(*) FILTER (WHERE outcome = 'win') AS wins,"
        "   count(*) FILTER (WHERE outcome = 'loss') AS losses,"
        "   count(*) FILTER (WHERE outcome = 'tie') AS ties FROM duels GROUP BY variant)"
        " SELECT n.variant, coalesce(a.answers, 0), coalesce(r.votes, 0), coalesce(r.up, 0),"
        " coalesce(p.wins, 0), coalesce(p.losses, 0), coalesce(p.ties, 0), a.median_ms"
        " FROM (SELECT variant FROM answered UNION SELECT variant FROM prefs) n"
        " LEFT JOIN answered a ON a.variant = n.variant"
        " LEFT JOIN rated r ON r.variant = n.variant"
        " LEFT JOIN prefs p ON p.variant = n.variant ORDER BY n.variant",
        window.params(),
    ).fetchall()
    return [VariantStats(r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                         None if r[7] is None else float(r[7])) for r in rows]


def _errors(conn: psycopg.Connection, window: Window) -> list[ErrorCount]:
    rows = conn.execute(
        f"SELECT error, count(*) FROM app.query_log WHERE {_within('asked_at')}"
        " AND error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1",
        window.params(),
    ).fetchall()
    return [ErrorCount(r[0], r[1]) for r in rows]


def _summary(conn: psycopg.Connection, window: Window) -> Summary:
    row = conn.execute(
        f"WITH scoped AS ({_SCOPED}), votes AS ({_VOTES})"
        " SELECT count(*), count(DISTINCT user_name),"
        " count(*) FILTER (WHERE guard_allowed = false),"
        " count(*) FILTER (WHERE route = 'refused'),"
        " count(*) FILTER (WHERE error IS NOT NULL),"
        " (SELECT count(*) FROM votes), (SELECT count(*) FROM votes WHERE rating = 1),"
        f" percentile_cont(0.5) WITHIN GROUP (ORDER BY {_TOTAL_MS}),"
        f" percentile_cont(0.95) WITHIN GROUP (ORDER BY {_TOTAL_MS}),"
        " EXISTS (SELECT 1 FROM app.query_log)"
        " FROM scoped",
        window.params(),
    ).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return Summary(
        questions=row[0], users=row[1], guard_blocks=row[2], refusals=row[3], errors=row[4],
        votes=row[5], thumbs_up=row[6],
        p50_ms=None if row[7] is None else float(row[7]),
        p95_ms=None if row[8] is None else float(row[8]),
        has_any_log=bool(row[9]),
    )

