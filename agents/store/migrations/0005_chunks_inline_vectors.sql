-- Keep each chunk's embedding inside its heap row instead of TOASTing it.
--
-- A vector(512) is 2,052 bytes, just over the 2 KB threshold at which Postgres moves a value to
-- the TOAST table: every distance the exact kNN arm of retrieval computes (the planner reads the
-- group's rows through the ACL index when the group is small) then costs a TOAST index lookup
-- and two chunk reads. At 50,000 chunks and a 10% group that was about half of a retrieval.
-- MAIN storage keeps the vector inline (it leaves the row only if the row could not fit a page
-- otherwise), and a tuple target of a full page stops the toaster from moving the content and
-- tsvector out first. Rows written before this migration keep their TOASTed vectors until they
-- are rewritten (re-ingested, or `VACUUM FULL app.chunks`).
ALTER TABLE app.chunks SET (toast_tuple_target = 8160);
ALTER TABLE app.chunks ALTER COLUMN embedding SET STORAGE MAIN;
