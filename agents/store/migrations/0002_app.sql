-- The application store: documents and chunks (pgvector + full text), logs, feedback, verified queries.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS app;

-- Which embedding model built the index: switching models rebuilds it instead of mixing vectors.
CREATE TABLE IF NOT EXISTS app.index_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    embed_model text NOT NULL,
    dimension int NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS app.documents (
    document_id bigserial PRIMARY KEY,
    -- The folder a document was ingested from: a re-scan of it removes what disappeared there.
    source_root text NOT NULL,
    path text UNIQUE NOT NULL,
    title text NOT NULL,
    content_hash text NOT NULL,
    modified_at timestamptz NOT NULL,
    language text NOT NULL,
    acl_groups text[] NOT NULL,
    chunk_count int NOT NULL DEFAULT 0,
    ingested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS documents_acl_idx ON app.documents USING gin (acl_groups);

CREATE TABLE IF NOT EXISTS app.chunks (
    chunk_id bigserial PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES app.documents (document_id) ON DELETE CASCADE,
    ordinal int NOT NULL,
    section text,
    page int,
    content text NOT NULL,
    language text NOT NULL,
    acl_groups text[] NOT NULL,
    embedding vector(512) NOT NULL,
    tsv tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document_idx ON app.chunks (document_id);
CREATE INDEX IF NOT EXISTS chunks_acl_idx ON app.chunks USING gin (acl_groups);
CREATE INDEX IF NOT EXISTS chunks_tsv_idx ON app.chunks USING gin (tsv);
CREATE INDEX IF NOT EXISTS chunks_embedding_idx ON app.chunks USING hnsw (embedding vector_cosine_ops);

-- Retrieval runs as this role, so row level security applies even to a buggy query builder.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sourced_docs_reader') THEN
        CREATE ROLE sourced_docs_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA app TO sourced_docs_reader;
-- The app's own role switches to it (SET LOCAL ROLE) for every retrieval.
GRANT sourced_docs_reader TO CURRENT_USER;
GRANT SELECT ON app.documents, app.chunks, app.index_state TO sourced_docs_reader;
ALTER TABLE app.chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.documents ENABLE ROW LEVEL SECURITY;
-- The groups come from the signed-in user, set per transaction by the retrieval code
-- (set_config(..., true)); a missing setting means no group, hence no row.
DROP POLICY IF EXISTS chunks_by_group ON app.chunks;
CREATE POLICY chunks_by_group ON app.chunks FOR SELECT TO sourced_docs_reader
    USING (acl_groups && string_to_array(coalesce(current_setting('sourced.groups', true), ''), ','));
DROP POLICY IF EXISTS documents_by_group ON app.documents;
CREATE POLICY documents_by_group ON app.documents FOR SELECT TO sourced_docs_reader
    USING (acl_groups && string_to_array(coalesce(current_setting('sourced.groups', true), ''), ','));

CREATE TABLE IF NOT EXISTS app.query_log (
    answer_id uuid PRIMARY KEY,
    asked_at timestamptz NOT NULL DEFAULT now(),
    user_name text NOT NULL,
    question text NOT NULL,
    route text NOT NULL,
    variant text,
    mode text NOT NULL,
    sql text,
    guard_allowed boolean,
    guard_reason text,
    row_count int,
    truncated boolean,
    timings_ms jsonb NOT NULL DEFAULT '{}'::jsonb,
    tokens int,
    error text,
    regenerated_from uuid REFERENCES app.query_log (answer_id),
    answer_text text,
    sources jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX IF NOT EXISTS query_log_asked_idx ON app.query_log (asked_at);

CREATE TABLE IF NOT EXISTS app.feedback (
    feedback_id bigserial PRIMARY KEY,
    answer_id uuid NOT NULL REFERENCES app.query_log (answer_id),
    user_name text NOT NULL,
    rating smallint NOT NULL CHECK (rating IN (-1, 1)),
    comment text,
    corrected_sql text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS app.verified_queries (
    verified_id bigserial PRIMARY KEY,
    question text NOT NULL,
    sql text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- No fixed dimension: a handful of rows, searched exactly, re-embedded when the model changes.
    embedding vector,
    source_feedback_id bigint REFERENCES app.feedback (feedback_id)
);

-- Fingerprint of the reader roles last synchronised from users.yaml: a start that finds it
-- unchanged skips the DDL (and its locks) entirely.
CREATE TABLE IF NOT EXISTS app.access_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    signature text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
