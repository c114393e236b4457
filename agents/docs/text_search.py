"""Full text: the Postgres text search configuration of a language, and the lexical arm's SQL.

One configuration for both sides: ingestion builds each chunk's tsvector with it and retrieval
parses the question with it, and the two must stem the same words alike to match.

The lexical arm is an any-word query ranked like BM25, in SQL. `websearch_to_tsquery` requires
every word of the question, which matched a passage for 4 of 40 questions on real documents: a
question's words are rarely all in the passage that answers it. Here each of the question's
lexemes (in its language's stemming, and unstemmed with `simple`, for names and numbers) is
weighted by its inverse document frequency (BM25's idf) among the chunks the user may read,
and a chunk scores the weights of the lexemes it holds (ties broken by `ts_rank_cd`), so the
rare words of the question count most; term frequency and length are left out, the chunks
being of similar length. No Postgres BM25 extension installs with the embedded
server from the package registries (ParadeDB's pg_search, pg_textsearch and VectorChord-BM25
ship as server binaries only; Debian has none for this server), so the ranking is plain SQL
over the GIN index on `tsv`.

`question_terms` reads the question's lexemes and counts them first, all in one pass over the
readable chunks; the retrieval query then gets the terms as arrays and the candidates' query
as one bound value. Computed inside the retrieval query, one count per word, they made a
retrieval 57 ms at 50,000 chunks against 13 ms for the vector arm (bench/rag.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from agents.language import normalize

TS_CONFIG: dict[str, str] = {"fr": "french", "en": "english"}

# A word in more than this share of the readable chunks is common: it still scores, but finds
# no candidates; the candidates are the chunks holding one of the question's RARE_WORDS rarest
# words, so the lexical arm stays cheap at 50,000 chunks.
COMMON_SHARE = 0.2
RARE_WORDS = 3
MAX_TERMS = 24

# The question's lexemes: in its language's stemming, and unstemmed (names, codes) unless
# stemming kept them as they are or drops them as stop words.
LEXEMES_SQL = """
WITH stemmed AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(ts_config)s::regconfig, %(text)s))) AS lexeme
)
SELECT lexeme, true, quote_literal(lexeme) FROM stemmed WHERE length(lexeme) > 1
UNION
SELECT lexeme, false, quote_literal(lexeme)
FROM unnest(tsvector_to_array(to_tsvector('simple', %(text)s))) AS lexeme
WHERE length(lexeme) > 1 AND lexeme NOT IN (SELECT lexeme FROM stemmed)
  AND to_tsvector(%(ts_config)s::regconfig, lexeme) <> ''::tsvector
ORDER BY 2 DESC, 1
"""


@dataclass(frozen=True)
class Term:
    lexeme: str
    stemmed: bool
    quoted: str  # the lexeme as a tsquery operand
    df: int  # chunks the user may read that hold it
    idf: float
    population: int  # chunks the user may read


def question_terms(conn: psycopg.Connection, text: str, lang: str,
                   groups: frozenset[str]) -> list[Term]:
    """The question's lexemes with their counts among the chunks `groups` may read.

    Inside the caller's transaction, as the RLS-bound role: only readable chunks are counted.
    """
    words = conn.execute(LEXEMES_SQL, {"ts_config": ts_config(lang), "text": text}).fetchall()
    words = words[:MAX_TERMS]
    params: dict[str, Any] = {"groups": sorted(groups)}
    # One pass over the readable chunks counts them all: under row level security the `tsv`
    # index cannot serve `@@` (not leakproof, so it runs after the policy), and a count per
    # word rechecked every readable row once per word (30 ms of a 43 ms retrieval at 50,000).
    counts: list[sql.Composable] = [sql.SQL("count(*)")]
    for n, (_, _, quoted) in enumerate(words):
        params[f"q{n}"] = quoted
        counts.append(sql.SQL("count(*) FILTER (WHERE tsv @@ {}::tsquery)").format(
            sql.Placeholder(f"q{n}")))
    row = conn.execute(sql.SQL("SELECT ") + sql.SQL(", ").join(counts) + sql.SQL(
        " FROM app.chunks WHERE acl_groups && %(groups)s"), params).fetchone()
    assert row is not None
    population = max(int(row[0]), 1)
    return [
        Term(str(lexeme), bool(stemmed), str(quoted), int(df),
             math.log(1 + (population - df + 0.5) / (df + 0.5)), population)
        for (lexeme, stemmed, quoted), df in zip(words, row[1:], strict=True)
    ]


def word_rarity(terms: list[Term]) -> tuple[tuple[str, float], ...]:
    """The question's words some readable chunk holds, each cut to five letters as
    agents.docs.sentences.content_words cuts them, with its idf (the highest of its lexemes)."""
    rarity: dict[str, float] = {}
    for term in terms:
        if term.df > 0:
            for word in normalize(term.lexeme).split():
                rarity[word[:5]] = max(rarity.get(word[:5], 0.0), term.idf)
    return tuple(sorted(rarity.items()))


def term_params(terms: list[Term]) -> dict[str, Any]:
    """The terms as the retrieval query's arrays, and the candidates' any-word query."""
    # A common word is in too many chunks to find candidates with.
    common = COMMON_SHARE * max((t.population for t in terms), default=0)
    rare = sorted((t for t in terms if 0 < t.df <= common),
                  key=lambda t: (t.df, t.lexeme))[:RARE_WORDS]
    return {
        "t_lexemes": [t.lexeme for t in terms],
        "t_stemmed": [t.stemmed for t in terms],
        "t_df": [t.df for t in terms],
        "t_idf": [t.idf for t in terms],
        "any_word": " | ".join(t.quoted for t in rare) or None,
    }


# CTEs, for the retrieval query: `terms` (the question's lexemes, with their idf) and `lex`
# (the chunks ranked by the weights of the lexemes they hold). Parameters: term_params(),
# groups, candidates.
LEXICAL_CTES = """
terms AS (
    SELECT t.lexeme, t.stemmed, t.df, t.idf, quote_literal(t.lexeme)::tsquery AS query
    FROM unnest(%(t_lexemes)s::text[], %(t_stemmed)s::bool[], %(t_df)s::int[],
                %(t_idf)s::float8[]) AS t(lexeme, stemmed, df, idf)
), lex AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC, chunk_id) AS rank, score
    FROM (
        SELECT c.chunk_id,
               (SELECT sum(t.idf) FROM terms t WHERE t.df > 0 AND c.tsv @@ t.query)
                 + ts_rank_cd(c.tsv, %(any_word)s::tsquery) AS score
        FROM app.chunks c
        WHERE %(any_word)s::text IS NOT NULL AND c.acl_groups && %(groups)s
          AND c.tsv @@ %(any_word)s::tsquery
        ORDER BY score DESC
        LIMIT %(candidates)s
    ) matched
)"""

# The share of the question's weight a chunk holds: its lexemes' idf over all the question's
# stemmed ones (a word no visible chunk holds weighs the most, so a question about something
# absent from the index covers little). For a row `c` of app.chunks, beside LEXICAL_CTES.
COVERAGE_SQL = """
(SELECT coalesce(sum(t.idf) FILTER (WHERE c.tsv @@ t.query)
                 / nullif(sum(t.idf) FILTER (WHERE t.stemmed OR t.df > 0), 0), 0)
   FROM terms t)"""

# The share of the question's (stemmed) weight in words that no chunk the user may read holds.
ABSENT_SQL = """
SELECT coalesce(sum(t.idf) FILTER (WHERE t.df = 0 AND t.stemmed)
                / nullif(sum(t.idf) FILTER (WHERE t.stemmed), 0), 0)
FROM terms t"""


def ts_config(lang: str) -> str:
    """The configuration for `lang`; "simple" (no stemming) for a language without one."""
    return TS_CONFIG.get(lang, "simple")
