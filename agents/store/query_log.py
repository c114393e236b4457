"""What the app writes: one query_log row per answer, feedback, verified queries.

Every write is committed before the caller thanks the user; a failed write raises StoreError,
which the app shows, so nothing is dropped silently.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from agents.errors import BadInput, StoreError, store_errors
from agents.logs import Redactor

if TYPE_CHECKING:
    from agents.ask.answer import Answer

_SURROGATES = re.compile("[\ud800-\udfff]")
# The logs' patterns (API keys, `password=...`, bearer tokens): a secret pasted into a question
# must not be kept verbatim in the query log, which Monitoring shows to analysts.
_REDACT = Redactor()


def storable(text: str | None) -> str | None:
    """Text PostgreSQL accepts: NUL (text columns refuse it) and lone surrogates as U+FFFD.

    A lone surrogate (from bytes decoded with surrogateescape, e.g. a CLI argument that is not
    UTF-8) cannot be encoded to UTF-8 at all: psycopg raised UnicodeEncodeError, so `ask` raised
    instead of answering, and a NUL in a login made the log write fail (no query_log row). The
    user already saw a plain message for such input; the log keeps a storable copy. Replaced,
    not dropped: an unknown login "alice<NUL>" must not be logged as the user "alice".
    """
    if text is None:
        return None
    return _SURROGATES.sub("\ufffd", text.replace("\x00", "\ufffd"))


def log_answer(pool: ConnectionPool, answer: Answer) -> None:
    """Write the answer's query_log row (committed when this returns)."""
    # The answer may echo the question's words ("I don't know what “hunter2” means"): what the
    # patterns mask in the question is masked wherever it appears in the answer too.
    redact = Redactor(_REDACT.found_in(answer.question))
    try:
        with pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO app.query_log (answer_id, user_name, question, route, variant, mode,"
                " sql, guard_allowed, guard_reason, row_count, truncated, timings_ms, tokens,"
                " error, regenerated_from, answer_text, sources, sql_source, verified_id,"
                " follow_up_of, standalone_question, understood_as)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, %s, %s, %s)",
                (
                    answer.answer_id, storable(answer.user), storable(_REDACT(answer.question)),
                    answer.route, storable(answer.variant), answer.mode, storable(answer.sql),
                    answer.guard_allowed, storable(answer.guard_reason or answer.refusal_reason),
                    len(answer.rows) if answer.route in ("sql", "both") else None,
                    answer.truncated, Jsonb(answer.timings_ms), answer.tokens,
                    storable(answer.error), answer.regenerated_from,
                    storable(redact(answer.text)),
                    Jsonb([s.as_json() for s in answer.sources]),
                    answer.sql_source, answer.verified_id, answer.follow_up_of,
                    storable(_REDACT(answer.standalone_question or "")) or None,
                    storable(answer.understood_as),
                ),
            )
    except (psycopg.Error, UnicodeError) as exc:  # UnicodeError: text psycopg cannot encode
        raise StoreError("This answer could not be logged; please try again.",
                         detail=str(exc)) from exc


@dataclass(frozen=True)
class EarlierTurn:
    """One earlier answer of a conversation, as the query log kept it."""

    answer_id: str
    question: str
    standalone_question: str | None
    route: str
    understood_as: str | None
    sql: str | None
    follow_up_of: str | None

    @property
    def asked(self) -> str:
        """The question as it was understood: the model's standalone rewrite when there was one."""
        return self.standalone_question or self.question


def earlier_turns(pool: ConnectionPool, answer_id: str, user: str,
                  limit: int = 3) -> list[EarlierTurn]:
    """The conversation ending at `answer_id`, oldest first, at most `limit` turns.

    Only rows of `user` are read: an id that is unknown, malformed or another user's gives []
    (the caller says the same thing in all three cases). The chain stops at the first turn
    that is not this user's.
    """
    chain: list[EarlierTurn] = []
    current: str | None = answer_id
    try:
        with pool.connection() as conn:
            while current is not None and len(chain) < limit:
                try:
                    current = str(uuid.UUID(current))
                except ValueError:
                    break
                row = conn.execute(
                    "SELECT answer_id::text, question, standalone_question, route, understood_as,"
                    " sql, follow_up_of::text FROM app.query_log"
                    " WHERE answer_id = %s AND user_name = %s", (current, user)).fetchone()
                if row is None or any(t.answer_id == row[0] for t in chain):
                    break
                chain.append(EarlierTurn(*row))
                current = chain[-1].follow_up_of
    except psycopg.Error as exc:
        raise StoreError("The earlier answer could not be read; please try again.",
                         detail=str(exc)) from exc
    return chain[::-1]


def follow_up_of_answer(pool: ConnectionPool, answer_id: str, user: str) -> str | None:
    """The earlier answer `answer_id` followed (None when it stood alone or is not `user`'s)."""
    turns = earlier_turns(pool, answer_id, user, limit=1)
    return turns[0].follow_up_of if turns else None


def record_feedback(pool: ConnectionPool, answer_id: str, user: str, rating: int,
                    comment: str | None = None, corrected_sql: str | None = None) -> int:
    """Store a thumbs up (1) or down (-1) for an answer; returns the feedback id once committed.

    Every change of vote is a new row (history); the current vote is the latest
    (`app.current_votes`). The same vote again with nothing written adds no row.

    A thumbs-down (or any proposed SQL) also queues the answer for an analyst's review, in the
    same transaction: both are saved or neither is.
    """
    from agents.sql.verified import queue_review

    if rating not in (1, -1):
        raise BadInput("A rating is 1 (thumbs up) or -1 (thumbs down).")
    user, comment, corrected_sql = storable(user) or "", storable(comment), storable(corrected_sql)
    with store_errors("Your feedback could not be saved; please try again.",
                      unknown="That answer is unknown, so the feedback was not saved."), \
            pool.connection() as conn, conn.transaction():
        same = conn.execute(
            "SELECT feedback_id, rating FROM app.current_votes WHERE answer_id = %s"
            " AND user_name = %s", (answer_id, user)).fetchone()
        if same is not None and same[1] == rating and not comment and not corrected_sql:
            return int(same[0])  # the same vote again: nothing new to keep
        row = conn.execute(
            "INSERT INTO app.feedback (answer_id, user_name, rating, comment, corrected_sql)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING feedback_id",
            (answer_id, user, rating, (comment or None), (corrected_sql or None)),
        ).fetchone()
        if row is not None and (rating == -1 or corrected_sql):
            queue_review(conn, answer_id, user, proposed_sql=corrected_sql,
                         comment=comment, feedback_id=int(row[0]))
    assert row is not None
    return int(row[0])


def current_vote(pool: ConnectionPool, answer_id: str, user: str) -> int | None:
    """`user`'s current vote on an answer: 1, -1 or None (never voted, or unreadable)."""
    try:
        with pool.connection() as conn:
            row = conn.execute("SELECT rating FROM app.current_votes WHERE answer_id = %s"
                               " AND user_name = %s", (answer_id, storable(user) or "")).fetchone()
    except psycopg.Error:
        return None  # the buttons then show unselected; voting still works or says why
    return int(row[0]) if row is not None else None


def record_preference(pool: ConnectionPool, user: str, question: str, answer_a: str,
                      variant_a: str, answer_b: str, variant_b: str, preferred: str) -> int:
    """Compare mode: which of two variants' answers the user preferred ('a', 'b' or 'tie')."""
    if preferred not in ("a", "b", "tie"):
        raise BadInput("A preference is 'a', 'b' or 'tie'.")
    user, question = storable(user) or "", storable(question) or ""
    with store_errors("Your preference could not be saved; please try again.",
                      unknown="Those answers are unknown, so the preference was not saved."), \
            pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO app.ab_preferences (user_name, question, answer_a, variant_a,"
            " answer_b, variant_b, preferred) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING preference_id",
            (user, question, answer_a, variant_a, answer_b, variant_b, preferred),
        ).fetchone()
    assert row is not None
    return int(row[0])
