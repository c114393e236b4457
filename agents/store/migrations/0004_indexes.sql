-- Lookups the app and the monitoring page make on every render, once the log grows.
CREATE INDEX IF NOT EXISTS feedback_answer_idx ON app.feedback (answer_id);
CREATE INDEX IF NOT EXISTS query_log_user_idx ON app.query_log (user_name, asked_at);
CREATE INDEX IF NOT EXISTS query_log_regenerated_idx ON app.query_log (regenerated_from)
    WHERE regenerated_from IS NOT NULL;
CREATE INDEX IF NOT EXISTS review_queue_answer_idx ON app.review_queue (answer_id);
