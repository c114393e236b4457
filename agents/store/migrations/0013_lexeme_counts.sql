-- How many chunks of each access-group set hold each lexeme, and how many chunks each set has
-- (the row of lexeme ''), kept by triggers on app.chunks whatever writes them.
--
-- Retrieval's lexical arm weighs the question's words by their rarity among the chunks the user
-- may read. Counting them over those chunks at every question was a pass over each readable
-- chunk (a quarter of a retrieval at 50,000 chunks): under row level security the tsv index
-- cannot serve `@@`, which is not leakproof. Summing these rows over the sets the user's groups
-- overlap gives the same counts, exactly, since each chunk has one set; the rows are behind the
-- same policy as the chunks, so a user counts only what they may read.
CREATE TABLE IF NOT EXISTS app.lexeme_counts (
    lexeme text NOT NULL,
    acl_groups text[] NOT NULL,
    chunks int NOT NULL,
    PRIMARY KEY (lexeme, acl_groups)
);
GRANT SELECT ON app.lexeme_counts TO sourced_docs_reader;
ALTER TABLE app.lexeme_counts ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS lexeme_counts_by_group ON app.lexeme_counts;
CREATE POLICY lexeme_counts_by_group ON app.lexeme_counts FOR SELECT TO sourced_docs_reader
    USING (acl_groups && string_to_array(coalesce(current_setting('sourced.groups', true), ''), ','));

-- One function for the three statement triggers below (a trigger with transition tables has one
-- event). Keys are written in order, so two ingestions at once lock them in the same order.
CREATE OR REPLACE FUNCTION app.count_chunk_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE app.lexeme_counts AS n SET chunks = n.chunks - gone.chunks
        FROM (SELECT lexeme, acl_groups, count(*) AS chunks
              FROM removed, unnest(tsvector_to_array(removed.tsv) || ''::text) AS lexeme
              GROUP BY 1, 2 ORDER BY 1, 2) AS gone
        WHERE n.lexeme = gone.lexeme AND n.acl_groups = gone.acl_groups;
        DELETE FROM app.lexeme_counts AS n
        USING (SELECT DISTINCT lexeme, acl_groups
               FROM removed, unnest(tsvector_to_array(removed.tsv) || ''::text) AS lexeme) AS gone
        WHERE n.lexeme = gone.lexeme AND n.acl_groups = gone.acl_groups AND n.chunks <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO app.lexeme_counts AS n (lexeme, acl_groups, chunks)
        SELECT lexeme, acl_groups, count(*)
        FROM added, unnest(tsvector_to_array(added.tsv) || ''::text) AS lexeme
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (lexeme, acl_groups) DO UPDATE SET chunks = n.chunks + excluded.chunks;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM app.lexeme_counts;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS chunks_counted_in ON app.chunks;
CREATE TRIGGER chunks_counted_in AFTER INSERT ON app.chunks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.count_chunk_lexemes();
DROP TRIGGER IF EXISTS chunks_counted_out ON app.chunks;
CREATE TRIGGER chunks_counted_out AFTER DELETE ON app.chunks
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION app.count_chunk_lexemes();
DROP TRIGGER IF EXISTS chunks_counted_again ON app.chunks;
CREATE TRIGGER chunks_counted_again AFTER UPDATE ON app.chunks
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION app.count_chunk_lexemes();
DROP TRIGGER IF EXISTS chunks_counted_empty ON app.chunks;
CREATE TRIGGER chunks_counted_empty AFTER TRUNCATE ON app.chunks
    FOR EACH STATEMENT EXECUTE FUNCTION app.count_chunk_lexemes();

-- An existing index: count what it holds.
DELETE FROM app.lexeme_counts;
INSERT INTO app.lexeme_counts (lexeme, acl_groups, chunks)
SELECT lexeme, acl_groups, count(*)
FROM app.chunks, unnest(tsvector_to_array(tsv) || ''::text) AS lexeme
GROUP BY 1, 2;
