-- Feedback that behaves (issue 17): app.feedback keeps every vote (history, and every comment a
-- user wrote); a user's *current* vote on an answer is their latest row. The view is what the
-- chat shows as selected and what Monitoring counts.
CREATE INDEX IF NOT EXISTS feedback_current_idx
    ON app.feedback (answer_id, user_name, created_at DESC, feedback_id DESC);
CREATE OR REPLACE VIEW app.current_votes AS
    SELECT DISTINCT ON (f.answer_id, f.user_name)
           f.feedback_id, f.answer_id, f.user_name, f.rating, f.comment, f.created_at
      FROM app.feedback f
     ORDER BY f.answer_id, f.user_name, f.created_at DESC, f.feedback_id DESC;
