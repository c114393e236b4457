-- A large load into a small index builds the chunks' HNSW index once at the end instead of
-- inserting every chunk into it (agents/docs/ingest.py, "deferred vector index"): the index is
-- dropped for the load and created again from the definition kept here. A run that stops in
-- between leaves the row behind, and the next ingestion creates the index from it.
CREATE TABLE IF NOT EXISTS app.deferred_indexes (
    name text PRIMARY KEY,
    definition text NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
