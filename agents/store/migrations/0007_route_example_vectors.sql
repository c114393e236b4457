-- The router's example questions (agents/ask/route_examples.yaml) with their embeddings, so a
-- new process (a CLI question, another replica) reads them instead of embedding them again.
-- Rows are reused only when both the encoder's name and the SHA-256 of the examples file match;
-- a changed file or encoder recomputes them and replaces that encoder's rows in one transaction.
CREATE TABLE IF NOT EXISTS app.route_example_vectors (
    encoder text NOT NULL,
    content_hash text NOT NULL,
    position int NOT NULL,
    route text NOT NULL,
    example text NOT NULL,
    embedding vector NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (encoder, position)
);
