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
ship as server binaries only; Debian has none for this server), so the ranking is plain
SQL.

The counts come from app.lexeme_counts (migration 0013: per access-group set, kept by triggers
on app.chunks, behind the chunks' row level security), so the whole arm is part of the one
retrieval query. Counting the question's words over the readable chunks at each question was a
pass over every one of them: under row level security the `tsv` index cannot serve `@@` (not
leakproof); with the stored counts, a retrieval at 50,000 chunks went from 18.8 to 7.9 ms in the
same run (bench/rag.py's corpus; the vector arm alone 5.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from agents.language import normalize

TS_CONFIG: dict[str, str] = {"fr": "french", "en": "english"}

# A word in more than this share of the readable chunks is common: it still scores, but finds
# no candidates; the candidates are the chunks holding one of the question's RARE_WORDS rarest
# words, so the lexical arm stays cheap at 50,000 chunks.
COMMON_SHARE = 0.2
RARE_WORDS = 3
MAX_TERMS = 24

# CTEs, for the retrieval query: `words` (the question's lexemes: in its language's stemming,
# and unstemmed (names, codes) unless stemming kept them as they are or drops them as stop
# words), `terms` (with their document frequency and idf among the chunks the user may read,
# from app.lexeme_counts), `rare` (the any-word query of the RARE_WORDS rarest words that are
# not common) and `lex` (the chunks holding one, ranked by the weights of the lexemes they
# hold, ties broken by ts_rank_cd). Parameters: ts_config, text, groups, candidates.
LEXICAL_CTES = f"""
stemmed AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(ts_config)s::regconfig, %(text)s))) AS lexeme
), words AS (
    SELECT row_number() OVER (ORDER BY stemmed DESC, lexeme) AS n, lexeme, stemmed,
           quote_literal(lexeme)::tsquery AS query
    FROM (
        SELECT lexeme, true AS stemmed FROM stemmed WHERE length(lexeme) > 1
        UNION
        SELECT lexeme, false
        FROM unnest(tsvector_to_array(to_tsvector('simple', %(text)s))) AS lexeme
        WHERE length(lexeme) > 1 AND lexeme NOT IN (SELECT lexeme FROM stemmed)
          AND to_tsvector(%(ts_config)s::regconfig, lexeme) <> ''::tsvector
        ORDER BY 2 DESC, 1
        LIMIT {MAX_TERMS}
    ) question
), counted AS (
    -- The row of lexeme '' counts the chunks of its set.
    SELECT lexeme, sum(chunks) AS df
    FROM app.lexeme_counts
    WHERE lexeme IN (SELECT lexeme FROM words UNION ALL SELECT '')
      AND acl_groups && %(groups)s
    GROUP BY lexeme
), terms AS (
    SELECT w.n, w.lexeme, w.stemmed, w.query, p.population, coalesce(d.df, 0)::int AS df,
           ln(1 + (p.population - coalesce(d.df, 0) + 0.5)::float8
                  / (coalesce(d.df, 0) + 0.5)) AS idf
    FROM words w
    LEFT JOIN counted d USING (lexeme),
    (SELECT greatest(coalesce(sum(df) FILTER (WHERE lexeme = ''), 0), 1)::int AS population
     FROM counted) p
), rare AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query
    FROM (SELECT lexeme FROM terms
          WHERE df > 0 AND df <= {COMMON_SHARE} * population
          ORDER BY df, lexeme LIMIT {RARE_WORDS}) rarest
), lex AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC, chunk_id) AS rank, score
    FROM (
        SELECT c.chunk_id,
               (SELECT sum(t.idf) FROM terms t WHERE t.df > 0 AND c.tsv @@ t.query)
                 + ts_rank_cd(c.tsv, r.query) AS score
        FROM app.chunks c, rare r
        WHERE r.query IS NOT NULL AND c.acl_groups && %(groups)s AND c.tsv @@ r.query
        ORDER BY score DESC, chunk_id
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

# The terms as arrays (lexeme, df, idf), for word_rarity: one value per retrieval.
TERM_ARRAYS_SQL = """
SELECT array_agg(lexeme ORDER BY n) AS lexemes, array_agg(df ORDER BY n) AS dfs,
       array_agg(idf ORDER BY n) AS idfs
FROM terms"""


@dataclass(frozen=True)
class Term:
    lexeme: str
    df: int  # chunks the user may read that hold it
    idf: float


def question_terms(conn: psycopg.Connection, text: str, lang: str,
                   groups: frozenset[str]) -> list[Term]:
    """The question's lexemes with their counts among the chunks `groups` may read, as the
    retrieval query counts them. Inside the caller's transaction, as the RLS-bound role."""
    row = conn.execute(
        "WITH " + LEXICAL_CTES + " " + TERM_ARRAYS_SQL,
        {"ts_config": ts_config(lang), "text": text, "groups": sorted(groups), "candidates": 1},
    ).fetchone()
    return as_terms(*row) if row else []


def as_terms(lexemes: list[str] | None, dfs: list[int] | None,
             idfs: list[float] | None) -> list[Term]:
    return [Term(str(lexeme), int(df), float(idf))
            for lexeme, df, idf in zip(lexemes or [], dfs or [], idfs or [], strict=True)]


def word_rarity(terms: list[Term]) -> tuple[tuple[str, float], ...]:
    """The question's words some readable chunk holds, each cut to five letters as
    agents.docs.sentences.content_words cuts them, with its idf (the highest of its lexemes)."""
    rarity: dict[str, float] = {}
    for term in terms:
        if term.df > 0:
            for word in normalize(term.lexeme).split():
                rarity[word[:5]] = max(rarity.get(word[:5], 0.0), term.idf)
    return tuple(sorted(rarity.items()))


def ts_config(lang: str) -> str:
    """The configuration for `lang`; "simple" (no stemming) for a language without one."""
    return TS_CONFIG.get(lang, "simple")
