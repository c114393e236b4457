-- Who uploaded a document (the exact login; NULL for folders indexed by an administrator).
-- Set by the Documents page's upload path (agents/app/documents.py) after each ingestion of an
-- uploader's folder, from the `owner` of that folder's acl.yaml: ingestion rewrites a changed
-- document's row, so the column is stamped again rather than written once.
ALTER TABLE app.documents ADD COLUMN IF NOT EXISTS uploaded_by text;
