"""Verified queries: the analysts' memory, and the review queue in front of it.

Nothing is learned without review. A thumbs-down or a proposed SQL correction lands in
app.review_queue; an analyst approves (it becomes a verified query) or rejects it. Analysts may
also save a question and its SQL directly (CLI `sourced verify`, SQL workbench).

A verified query is guard-checked when saved and again every time it runs. A new question reuses
one when its embedding is close enough (Settings.verified_threshold) AND it names the same
distinguishing terms (numbers, years, months, dimension values, "last"/"this"): "revenue in
2019" is very close to "revenue in 2018" for an encoder, and must not get 2018's SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from agents.docs.embeddings import Embedder
from agents.errors import BadInput, GuardRejected, store_errors
from agents.language import normalize
from agents.messages import say
from agents.sql.planner import Plan
from agents.sql.semantic_model import SemanticModel
from agents.store.users import User
from sql_guard import Policy, check

ANALYST_GROUP = "analyst"


MONTH_WORDS = frozenset(re.findall(
    r"\w+",
    "january february march april may june july august september october november december "
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
))
RELATIVE_WORDS = frozenset(re.findall(
    r"\w+",
    "last this previous current next dernier derniere dernieres derniers precedent precedente "
    "cette ce cet courant top bottom worst best pire meilleurs meilleures",
))


@dataclass(frozen=True)
class VerifiedQuery:
    verified_id: int
    question: str
    sql: str
    created_by: str
    created_at: datetime
    similarity: float = 1.0

    def badge(self, lang: str) -> str:
        return say("sql.verified_badge", lang, analyst=self.created_by,
                   day=self.created_at.date().isoformat())


@dataclass(frozen=True)
class Review:
    review_id: int
    answer_id: str | None
    question: str
    original_sql: str | None
    proposed_sql: str | None
    proposed_by: str
    comment: str | None
    status: str
    created_at: datetime
    # The documents the reviewed answer cited (their paths; "" for a source without one), so
    # a page can withhold what its viewer may not read (agents/app/workbench.py).
    documents: tuple[str, ...] = ()


def is_analyst(user: User) -> bool:
    return ANALYST_GROUP in user.groups


def distinguishing_terms(question: str, model: SemanticModel | None = None) -> frozenset[str]:
    """The words two questions must share to share an answer: numbers, months, relative-period
    and ranking words, and the dimension values they name."""
    text = normalize(question)
    words = set(text.split())
    terms = set(re.findall(r"\d+", text))
    terms |= words & MONTH_WORDS
    terms |= words & RELATIVE_WORDS
    if model is not None:
        padded = f" {text} "
        for dim in model.dimensions.values():
            for value in dim.values:
                key = normalize(value)
                if key and f" {key} " in padded:
                    terms.add(f"{dim.key}={key}")
            for value, synonyms in dim.value_synonyms.items():
                if any(f" {normalize(s)} " in padded for s in synonyms):
                    terms.add(f"{dim.key}={normalize(value)}")
    return frozenset(terms)


def signature_from_plan(plan: Plan) -> frozenset[str]:
    """The planner's reading of a question, as comparable terms (empty when it found nothing)."""
    terms = {f"metric={m}" for m in plan.metrics} | {f"by={d}" for d in plan.dimensions}
    terms |= {f"{dim}={','.join(sorted(values))}" for dim, values in plan.filters}
    if plan.period is not None:
        terms.add(f"period={plan.period.label}")
    if plan.comparison is not None:
        terms.add("compare=" + "/".join(p.label for p in plan.comparison))
    if plan.ranking is not None:
        terms.add(f"rank={plan.ranking}")
    if plan.share:
        terms.add("share")
    return frozenset(terms)


def save_verified(
    pool: ConnectionPool,
    embedder: Embedder,
    user: User,
    question: str,
    sql: str,
    policy: Policy,
    *,
    review_id: int | None = None,
) -> VerifiedQuery:
    """Store an analyst's question + SQL after the guard accepted it; committed on return.

    With `review_id`, the review is closed as approved in the same transaction.
    """
    if not is_analyst(user):
        raise BadInput("Only members of the analyst group can save verified queries.")
    question = " ".join((question or "").split())
    sql = (sql or "").strip().rstrip(";").strip()
    if not question:
        raise BadInput("A verified query needs the question it answers.")
    if not sql:
        raise BadInput("A verified query needs its SQL.")
    verdict = check(sql, policy)
    if not verdict.allowed:
        raise GuardRejected(f"This SQL cannot be saved: {verdict.reason}", detail=verdict.reason)
    vector = embedder.embed([question])[0]
    with store_errors("The verified query could not be saved; please try again."), \
            pool.connection() as conn, conn.transaction():
        register_vector(conn)
        row = conn.execute(
            "INSERT INTO app.verified_queries"
            " (question, sql, created_by, embedding, embed_model, review_id)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING verified_id, created_at",
            (question, sql, user.login, vector, embedder.name, review_id),
        ).fetchone()
        if review_id is not None:
            _close_review(conn, review_id, user, "approved", None)
    assert row is not None
    return VerifiedQuery(int(row[0]), question, sql, user.login, row[1])


def closest_verified(
    conn: psycopg.Connection, vector: np.ndarray, embed_model: str, k: int = 3
) -> list[VerifiedQuery]:
    """The k verified queries closest to a question vector (same embedding model only)."""
    register_vector(conn)
    rows = conn.execute(
        "SELECT verified_id, question, sql, created_by, created_at,"
        " 1 - (embedding::vector <=> %s) AS similarity"
        " FROM app.verified_queries"
        " WHERE embed_model = %s AND embedding IS NOT NULL"
        "   AND vector_dims(embedding) = %s"
        " ORDER BY embedding::vector <=> %s LIMIT %s",
        (vector, embed_model, len(vector), vector, k),
    ).fetchall()
    return [VerifiedQuery(r[0], r[1], r[2], r[3], r[4], float(r[5])) for r in rows]


def question_terms(question: str, model: SemanticModel | None,
                   signature_of: Callable[[str], frozenset[str]] | None) -> frozenset[str]:
    """What two questions must share to share a verified query (see match_verified)."""
    found = distinguishing_terms(question, model)
    return found | signature_of(question) if signature_of is not None else found


def match_verified(
    conn: psycopg.Connection,
    vector: np.ndarray,
    embed_model: str,
    threshold: float,
    wanted: frozenset[str],
    terms_of: Callable[[VerifiedQuery], frozenset[str]],
) -> VerifiedQuery | None:
    """The verified query a question may reuse as is, or None.

    Close embeddings are not enough (the encoder rates "average order value of enterprise
    customers" 0.85 close to "average discount of enterprise customers"), so the candidate must
    also have the question's terms (`wanted`, from question_terms: distinguishing words and the
    planner's reading: metrics, dimensions, filters, period, ranking). Precision first: a miss
    falls back to the planner or the model; a wrong reuse would show a confident wrong number.
    """
    for candidate in closest_verified(conn, vector, embed_model, k=3):
        if candidate.similarity < threshold:
            break
        if terms_of(candidate) == wanted:
            return candidate
    return None


def mark_used(conn: psycopg.Connection, verified_id: int) -> None:
    conn.execute("UPDATE app.verified_queries SET times_used = times_used + 1"
                 " WHERE verified_id = %s", (verified_id,))


def list_verified(pool: ConnectionPool, limit: int = 200) -> list[VerifiedQuery]:
    with store_errors("The verified queries cannot be read right now; please try again."), \
            pool.connection() as conn:
        rows = conn.execute(
            "SELECT verified_id, question, sql, created_by, created_at FROM app.verified_queries"
            " ORDER BY created_at DESC LIMIT %s", (limit,),
        ).fetchall()
    return [VerifiedQuery(*r) for r in rows]


# ---------------------------------------------------------------- review queue


def propose_correction(
    pool: ConnectionPool,
    answer_id: str,
    user: str,
    *,
    proposed_sql: str | None = None,
    comment: str | None = None,
    feedback_id: int | None = None,
) -> int:
    """Queue an answer for review (with a corrected SQL when someone wrote one)."""
    with store_errors("The correction could not be saved; please try again."), \
            pool.connection() as conn, conn.transaction():
        return queue_review(conn, answer_id, user, proposed_sql=proposed_sql,
                            comment=comment, feedback_id=feedback_id)


def queue_review(
    conn: psycopg.Connection,
    answer_id: str,
    user: str,
    *,
    proposed_sql: str | None = None,
    comment: str | None = None,
    feedback_id: int | None = None,
) -> int:
    """Inside the caller's transaction: one pending review for an answer of the query log."""
    row = conn.execute(
        "INSERT INTO app.review_queue"
        " (answer_id, feedback_id, question, original_sql, proposed_sql, proposed_by, comment)"
        " SELECT answer_id, %s, question, sql, %s, %s, %s FROM app.query_log"
        " WHERE answer_id = %s RETURNING review_id",
        (feedback_id, (proposed_sql or "").strip() or None, user, (comment or "").strip() or None,
         answer_id),
    ).fetchone()
    if row is None:
        raise BadInput("That answer is unknown, so it cannot be reviewed.")
    return int(row[0])


def pending_reviews(pool: ConnectionPool, limit: int = 100) -> list[Review]:
    """The pending reviews, oldest first, each with the documents its answer cited."""
    with store_errors("The review queue cannot be read right now; please try again."), \
            pool.connection() as conn:
        rows = conn.execute(
            "SELECT r.review_id, r.answer_id::text, r.question, r.original_sql,"
            " r.proposed_sql, r.proposed_by, r.comment, r.status, r.created_at,"
            " ARRAY(SELECT coalesce(s ->> 'path', '') FROM jsonb_array_elements("
            "   CASE WHEN jsonb_typeof(q.sources) = 'array' THEN q.sources ELSE '[]' END) s)"
            " FROM app.review_queue r LEFT JOIN app.query_log q ON q.answer_id = r.answer_id"
            " WHERE r.status = 'pending' ORDER BY r.created_at, r.review_id LIMIT %s", (limit,),
        ).fetchall()
    return [Review(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], tuple(r[9] or ()))
            for r in rows]


def approve_review(
    pool: ConnectionPool,
    embedder: Embedder,
    review_id: int,
    analyst: User,
    policy: Policy,
    *,
    sql: str | None = None,
    question: str | None = None,
) -> VerifiedQuery:
    """An analyst approves a review: its (possibly edited) SQL becomes a verified query."""
    if not is_analyst(analyst):
        raise BadInput("Only members of the analyst group can approve corrections.")
    review = _review(pool, review_id)
    final_sql = sql or review.proposed_sql or review.original_sql
    if not final_sql:
        raise BadInput("This review has no SQL to approve; write the corrected SQL first.")
    return save_verified(pool, embedder, analyst, question or review.question, final_sql,
                         policy, review_id=review_id)


def reject_review(pool: ConnectionPool, review_id: int, analyst: User,
                  note: str | None = None) -> None:
    if not is_analyst(analyst):
        raise BadInput("Only members of the analyst group can reject corrections.")
    _review(pool, review_id)
    with store_errors("The review could not be rejected; please try again."), \
            pool.connection() as conn, conn.transaction():
        _close_review(conn, review_id, analyst, "rejected", note)


def _review(pool: ConnectionPool, review_id: int) -> Review:
    with store_errors("The review cannot be read right now; please try again."), \
            pool.connection() as conn:
        row = conn.execute(
            "SELECT review_id, answer_id::text, question, original_sql, proposed_sql,"
            " proposed_by, comment, status, created_at FROM app.review_queue"
            " WHERE review_id = %s", (review_id,),
        ).fetchone()
    if row is None:
        raise BadInput(f"There is no review #{review_id}.")
    review = Review(*row)
    if review.status != "pending":
        raise BadInput(f"Review #{review_id} was already {review.status}.")
    return review


def _close_review(conn: psycopg.Connection, review_id: int, analyst: User, status: str,
                  note: str | None) -> None:
    conn.execute(
        "UPDATE app.review_queue SET status = %s, reviewed_by = %s, reviewed_at = now(),"
        " review_note = %s WHERE review_id = %s AND status = 'pending'",
        (status, analyst.login, note, review_id),
    )
