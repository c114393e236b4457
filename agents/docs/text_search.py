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
"""

from __future__ import annotations

TS_CONFIG: dict[str, str] = {"fr": "french", "en": "english"}

# A word's count stops here (it is common past it), and the candidates are the chunks holding
# one of the question's RARE_WORDS rarest words: the lexical arm stays cheap at 50,000 chunks.
DF_CAP = 1000
RARE_WORDS = 3

# CTEs, for the retrieval query: `terms` (the question's lexemes, with their idf) and `lex`
# (the chunks ranked by the weights of the lexemes they hold). Parameters: ts_config, text,
# groups, candidates.
LEXICAL_CTES = f"""
stemmed AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(ts_config)s::regconfig, %(text)s))) AS lexeme
), words AS (
    SELECT lexeme, true AS stemmed FROM stemmed
    UNION
    -- Unstemmed words too (names, codes), unless stemming kept them as they are or drops
    -- them as stop words.
    SELECT lexeme, false
    FROM unnest(tsvector_to_array(to_tsvector('simple', %(text)s))) AS lexeme
    WHERE lexeme NOT IN (SELECT lexeme FROM stemmed)
      AND to_tsvector(%(ts_config)s::regconfig, lexeme) <> ''::tsvector
), terms AS (
    SELECT lexeme, stemmed, query, df,
           ln(1 + (population.n - df + 0.5) / (df + 0.5)) AS idf
    FROM words,
         -- The chunks the user may read, as the counts: a statistic over all rows would
         -- let restricted documents weigh on a question's scores.
         (SELECT greatest(count(*), 1) AS n FROM app.chunks
           WHERE acl_groups && %(groups)s) population,
         LATERAL (SELECT quote_literal(lexeme)::tsquery AS query) q,
         -- Counted among the chunks the user may read, up to DF_CAP: past it a word is common
         -- and its weight near nothing anyway.
         LATERAL (SELECT count(*) AS df FROM (
                      SELECT 1 FROM app.chunks WHERE acl_groups && %(groups)s
                        AND tsv @@ q.query LIMIT {DF_CAP}) hits) f
    WHERE length(lexeme) > 1
), any_word AS (
    -- Candidates hold one of the question's rarest words: a chunk with none of them does
    -- not make the lexical arm's first ranks, and common words would make it scan thousands.
    SELECT coalesce(string_agg(quote_literal(lexeme), ' | '), '')::tsquery AS query
    FROM (SELECT lexeme FROM terms WHERE df > 0 ORDER BY df, lexeme LIMIT {RARE_WORDS}) rare
), lex AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC, chunk_id) AS rank, score
    FROM (
        SELECT c.chunk_id,
               (SELECT sum(t.idf) FROM terms t WHERE t.df > 0 AND c.tsv @@ t.query)
                 + ts_rank_cd(c.tsv, any_word.query) AS score
        FROM app.chunks c, any_word
        WHERE c.acl_groups && %(groups)s AND c.tsv @@ any_word.query
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
