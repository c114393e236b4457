"""Hybrid retrieval over app.chunks: pgvector kNN + full-text search, fused by reciprocal rank.

Access control happens twice, both inside Postgres: the query filters on the user's groups
(pre-filter, with pgvector's iterative index scan so a selective filter still yields k results),
and the transaction runs as `sourced_docs_reader`, whose row level security policy only shows
chunks of the groups set for this transaction. A bug in this query cannot return a forbidden
chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from agents.docs.embeddings import Embedder
from agents.docs.text_search import ts_config
from agents.errors import RetrievalError

RRF_K = 60
CANDIDATES = 40
# Whether the index holds an answer at all: some passage reaches this cosine similarity, or
# matches the full-text query (every word), or holds at least MIN_TERMS of the question's
# words and MIN_COVERAGE of them. Calibrated on seed_data/eval/rag_questions.yaml against
# twenty company-sounding questions no document covers (tests/test_retrieval.py): the coverage
# rule lifts hit@5 from 0.82 to 0.90 and lets none of those through that the others did not.
MIN_SIMILARITY = 0.30
MIN_TERMS, MIN_COVERAGE = 3, 0.43
MAX_PER_DOCUMENT = 2

HYBRID_SQL = """
WITH terms AS (
    SELECT tsvector_to_array(to_tsvector(%(ts_config)s::regconfig, %(text)s)) AS lexemes
), vec AS (
    SELECT chunk_id, row_number() OVER (ORDER BY distance) AS rank, distance
    FROM (
        SELECT chunk_id, embedding <=> %(vector)s AS distance
        FROM app.chunks
        WHERE acl_groups && %(groups)s
        ORDER BY embedding <=> %(vector)s
        LIMIT %(candidates)s
    ) nearest
), fts AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC) AS rank
    FROM (
        SELECT chunk_id, ts_rank_cd(tsv, query) AS score
        FROM app.chunks, websearch_to_tsquery(%(ts_config)s::regconfig, %(text)s) AS query
        WHERE acl_groups && %(groups)s AND tsv @@ query
        ORDER BY score DESC
        LIMIT %(candidates)s
    ) matched
)
SELECT c.chunk_id, d.title, d.path, c.section, c.page, d.modified_at, c.content, d.uploaded_by,
       coalesce(1.0 / (%(rrf_k)s + vec.rank), 0) + coalesce(1.0 / (%(rrf_k)s + fts.rank), 0)
           AS score,
       1 - vec.distance AS similarity,
       fts.rank IS NOT NULL AS text_match,
       (SELECT count(*) FROM terms, unnest(terms.lexemes) AS l
         WHERE c.tsv @@ quote_literal(l)::tsquery) AS matched_terms,
       (SELECT cardinality(lexemes) FROM terms) AS query_terms
FROM (SELECT chunk_id FROM vec UNION SELECT chunk_id FROM fts) AS hits
JOIN app.chunks c USING (chunk_id)
JOIN app.documents d USING (document_id)
LEFT JOIN vec USING (chunk_id)
LEFT JOIN fts USING (chunk_id)
ORDER BY score DESC, c.chunk_id
LIMIT %(k)s
"""


# The kNN arm's settings, issued by retrieve_chunks in the same round trip as the role switch.
# With the group filter the iterative scan walks past other groups' rows: ef_search 200 rather
# than 100 (recall@10 0.95-0.985 -> 0.99-0.997 over index builds, ~1 ms more), and 4x work_mem
# for the rows it visits, since at 1x it stopped short of 10 rows for some questions (recall
# 0.956 -> 0.997 in bench/rag.py: 50,000 chunks, 10% filter, index forced).
HNSW_SETTINGS = ("SET LOCAL hnsw.iterative_scan = relaxed_order", "SET LOCAL hnsw.ef_search = 200",
                 "SET LOCAL hnsw.scan_mem_multiplier = 4")


def as_docs_reader(conn: psycopg.Connection, groups: frozenset[str],
                   *also: str) -> None:
    """Inside the caller's transaction: become the RLS-bound role, seeing only `groups`' rows.

    `also` are further SET LOCAL statements (literals of this package) sent in the same round
    trip: the groups go in as a quoted literal, so the whole is one simple query.
    """
    statements = [
        sql.SQL("SET LOCAL ROLE sourced_docs_reader"),
        sql.SQL("SELECT set_config('sourced.groups', {}, true)").format(
            sql.Literal(",".join(sorted(groups)))),
        *(sql.SQL(statement) for statement in also),
    ]
    conn.execute(sql.SQL("; ").join(statements))


def _register_vector(conn: psycopg.Connection) -> None:
    """register_vector once per connection: it costs four catalogue lookups every time."""
    if conn.adapters.types.get("vector") is None:
        register_vector(conn)


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    title: str
    path: str
    section: str | None
    page: int | None
    modified_at: datetime
    content: str
    score: float
    similarity: float | None
    text_match: bool
    matched_terms: int = 0
    query_terms: int = 0
    # Who uploaded the document through the app (None: indexed from an administrator's folder),
    # shown with the source so a planted upload is recognisable as one.
    uploaded_by: str | None = None

    @property
    def answers(self) -> bool:
        """Strong enough on its own to say the index holds an answer."""
        covered = self.query_terms and self.matched_terms >= MIN_TERMS and (
            self.matched_terms / self.query_terms >= MIN_COVERAGE)
        return self.text_match or (self.similarity or 0) >= MIN_SIMILARITY or bool(covered)


def retrieve_chunks(
    conn: psycopg.Connection,
    embedder: Embedder,
    question: str,
    groups: frozenset[str],
    *,
    k: int = 5,
    lang: str = "en",
    query_vector: np.ndarray | None = None,
) -> list[Passage]:
    """The k passages most relevant to `question` among those `groups` may read."""
    _register_vector(conn)
    vector = query_vector if query_vector is not None else embedder.embed([question])[0]
    group_list = sorted(groups)
    params = {
        "vector": vector,
        "groups": group_list,
        "candidates": max(CANDIDATES, k * 4),
        "ts_config": ts_config(lang),
        "text": question,
        "rrf_k": RRF_K,
        # Fetched wider than k, then capped per document: the user gets several documents to
        # weigh, not five passages of the same one.
        "k": k * 3,
    }
    try:
        with conn.transaction():
            as_docs_reader(conn, groups, *HNSW_SETTINGS)
            rows = conn.execute(HYBRID_SQL, params).fetchall()
    except psycopg.Error as exc:
        raise RetrievalError(
            "The document index cannot be searched right now; try again shortly.",
            detail=str(exc),
        ) from exc
    passages = [
        Passage(
            chunk_id=r[0], title=r[1], path=r[2], section=r[3], page=r[4], modified_at=r[5],
            content=r[6], uploaded_by=r[7], score=float(r[8]),
            similarity=None if r[9] is None else float(r[9]), text_match=bool(r[10]),
            matched_terms=int(r[11] or 0), query_terms=int(r[12] or 0),
        )
        for r in rows
    ]
    # The floor decides whether the index holds an answer at all, not which passages to show:
    # cutting each passage at it lost the right document for 5 of the 76 questions of
    # seed_data/eval/rag_questions.yaml whose best passage had cleared it (hit@5 0.75 -> 0.82).
    kept: list[Passage] = []
    per_document: dict[str, int] = {}
    for passage in passages:
        if per_document.get(passage.path, 0) < MAX_PER_DOCUMENT:
            kept.append(passage)
            per_document[passage.path] = per_document.get(passage.path, 0) + 1
    kept = kept[:k]
    return kept if any(p.answers for p in kept) else []
