-- Human in the loop: the review queue in front of verified queries, and A/B preferences.

-- Nothing is learned without review: a thumbs-down or a proposed SQL correction lands here;
-- only an analyst's approval turns it into a verified query.
CREATE TABLE IF NOT EXISTS app.review_queue (
    review_id bigserial PRIMARY KEY,
    answer_id uuid REFERENCES app.query_log (answer_id),
    feedback_id bigint REFERENCES app.feedback (feedback_id),
    question text NOT NULL,
    original_sql text,
    proposed_sql text,
    proposed_by text NOT NULL,
    comment text,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reviewed_by text,
    reviewed_at timestamptz,
    review_note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS review_queue_status_idx ON app.review_queue (status, created_at);

ALTER TABLE app.verified_queries
    ADD COLUMN IF NOT EXISTS review_id bigint REFERENCES app.review_queue (review_id),
    -- The embedding is only comparable with questions embedded by the same model.
    ADD COLUMN IF NOT EXISTS embed_model text,
    ADD COLUMN IF NOT EXISTS times_used int NOT NULL DEFAULT 0;

-- Where a data answer's SQL came from (planner, llm, verified) and which verified query.
ALTER TABLE app.query_log
    ADD COLUMN IF NOT EXISTS sql_source text,
    ADD COLUMN IF NOT EXISTS verified_id bigint
        REFERENCES app.verified_queries (verified_id) ON DELETE SET NULL;

-- Compare mode: one question, two variants side by side, the user's preference.
CREATE TABLE IF NOT EXISTS app.ab_preferences (
    preference_id bigserial PRIMARY KEY,
    user_name text NOT NULL,
    question text NOT NULL,
    answer_a uuid NOT NULL REFERENCES app.query_log (answer_id),
    variant_a text NOT NULL,
    answer_b uuid NOT NULL REFERENCES app.query_log (answer_id),
    variant_b text NOT NULL,
    preferred text NOT NULL CHECK (preferred IN ('a', 'b', 'tie')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ab_preferences_created_idx ON app.ab_preferences (created_at);
