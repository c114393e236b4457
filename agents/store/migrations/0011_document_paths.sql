-- Each indexed folder's label: the first part of its documents' stored paths ("docs/hr/x.md").
-- It was the folder's name, so two folders of the same name indexed from different places gave
-- the same paths and the second failed on documents_path_key. A folder keeps its label across
-- runs; a new folder whose name is taken gets the name with a number ("docs-2").
CREATE TABLE IF NOT EXISTS app.document_sources (
    source_root text PRIMARY KEY,
    label text NOT NULL UNIQUE
);

-- Existing indexes: each folder keeps the label its paths already carry. Two folders whose
-- documents share a first path part (possible when their file names differed) keep it for the
-- first; the other gets a new label, and so new paths, when it is next indexed.
INSERT INTO app.document_sources (source_root, label)
SELECT DISTINCT ON (label) source_root, label
FROM (SELECT source_root, min(split_part(path, '/', 1)) AS label
      FROM app.documents GROUP BY source_root) folders
ORDER BY label, source_root
ON CONFLICT DO NOTHING;
