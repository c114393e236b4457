-- Follow-up questions (issue 14): the earlier answer a question followed, and the standalone
-- question the model rewrote it into (NULL when the planner read the follow-up itself).
-- `understood_as` keeps what a data answer was read as, for the next turn's rewrite prompt.
ALTER TABLE app.query_log
    ADD COLUMN IF NOT EXISTS follow_up_of uuid REFERENCES app.query_log (answer_id),
    ADD COLUMN IF NOT EXISTS standalone_question text,
    ADD COLUMN IF NOT EXISTS understood_as text;
CREATE INDEX IF NOT EXISTS query_log_follow_up_idx ON app.query_log (follow_up_of)
    WHERE follow_up_of IS NOT NULL;
