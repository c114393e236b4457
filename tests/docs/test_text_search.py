"""The lexical arm's word counts: app.lexeme_counts (migration 0013) against a recount of the
chunks, after every kind of write, and behind the same row level security as the chunks."""

from __future__ import annotations

import psycopg
import pytest

from agents.docs.retrieval import as_docs_reader
from agents.docs.text_search import question_terms

# The counts as the triggers keep them, and as a recount of app.chunks gives them.
KEPT = "SELECT lexeme, acl_groups, chunks FROM app.lexeme_counts ORDER BY 1, 2"
RECOUNT = """
SELECT lexeme, acl_groups, count(*)::int
FROM app.chunks, unnest(tsvector_to_array(tsv) || ''::text) AS lexeme
GROUP BY 1, 2 ORDER BY 1, 2"""


def _add_document(conn: psycopg.Connection, path: str, groups: list[str],
                  texts: list[str]) -> int:
    document_id = conn.execute(
        "INSERT INTO app.documents (source_root, path, title, content_hash, modified_at,"
        " language, acl_groups, chunk_count) VALUES ('/t', %s, 't', 'h', now(), 'en', %s, %s)"
        " RETURNING document_id", (path, groups, len(texts))).fetchone()[0]
    dimension = conn.execute(
        "SELECT atttypmod FROM pg_attribute"
        " WHERE attrelid = 'app.chunks'::regclass AND attname = 'embedding'").fetchone()[0]
    vector = "[" + ",".join(["0.1"] * dimension) + "]"
    # One statement for all the chunks, and one per chunk: the triggers count both alike.
    conn.execute(
        "INSERT INTO app.chunks (document_id, ordinal, content, language, acl_groups,"
        " embedding, tsv) SELECT %s, n, t, 'en', %s, %s::vector, to_tsvector('english', t)"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) WHERE n > 1",
        (document_id, groups, vector, texts))
    conn.execute(
        "INSERT INTO app.chunks (document_id, ordinal, content, language, acl_groups,"
        " embedding, tsv) VALUES (%s, 1, %s, 'en', %s, %s::vector, to_tsvector('english', %s))",
        (document_id, texts[0], groups, vector, texts[0]))
    return int(document_id)


def test_counts_follow_every_write(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(KEPT).fetchall() == []
        first = _add_document(conn, "a/one.md", ["hr"], [
            "Parental leave lasts sixteen weeks.", "Leave requests go to the manager.",
            "Sixteen weeks, paid in full."])
        _add_document(conn, "a/two.md", ["hr", "exec"], ["Bonus pools are set in March."])
        _add_document(conn, "a/three.md", ["everyone"], ["Leave the office tidy."])
        assert conn.execute(KEPT).fetchall() == conn.execute(RECOUNT).fetchall()
        assert ("leav", ["hr"], 2) in conn.execute(KEPT).fetchall()
        assert ("", ["hr"], 3) in conn.execute(KEPT).fetchall()  # the set's chunk count

        conn.execute("UPDATE app.chunks SET tsv = to_tsvector('english', 'Twenty weeks.'),"
                     " acl_groups = ARRAY['exec'] WHERE ordinal = 1 AND document_id = %s",
                     (first,))
        assert conn.execute(KEPT).fetchall() == conn.execute(RECOUNT).fetchall()

        conn.execute("DELETE FROM app.documents WHERE document_id = %s", (first,))  # cascades
        assert conn.execute(KEPT).fetchall() == conn.execute(RECOUNT).fetchall()
        # A word no chunk holds any more leaves no row behind, not a row of zero.
        assert conn.execute("SELECT count(*) FROM app.lexeme_counts WHERE chunks <= 0"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM app.lexeme_counts WHERE lexeme = 'sixteen'"
                            ).fetchone()[0] == 0

        conn.execute("TRUNCATE app.chunks")
        assert conn.execute(KEPT).fetchall() == []
        conn.rollback()


def test_the_counts_are_behind_the_chunks_policy(resources) -> None:
    """As the reader role, without any filter of the query's own: only the rows of sets the
    user's groups overlap, so a restricted document's words are not counted."""
    with psycopg.connect(resources.urls.app, autocommit=True) as conn:
        every_set = {tuple(row[0]) for row in conn.execute(
            "SELECT DISTINCT acl_groups FROM app.lexeme_counts")}
        with conn.transaction():
            as_docs_reader(conn, frozenset({"everyone"}))
            seen = {tuple(row[0]) for row in conn.execute(
                "SELECT DISTINCT acl_groups FROM app.lexeme_counts")}
        with conn.transaction():
            conn.execute("SET LOCAL ROLE sourced_docs_reader")
            nothing = conn.execute("SELECT count(*) FROM app.lexeme_counts").fetchone()[0]
    assert seen and all("everyone" in groups for groups in seen)
    assert every_set - seen, "the seeded index has restricted documents"
    assert nothing == 0, "no group set means no rows"


@pytest.mark.parametrize(("login", "question"), [
    ("emma", "How much are we paying to acquire Nordlys Data?"),
    ("alice", "How much are we paying to acquire Nordlys Data?"),
    ("alice", "Combien de jours de congés payés par an ?"),
])
def test_counts_are_those_of_the_readable_chunks(resources, login: str, question: str) -> None:
    """What retrieval weighs the words by is what counting the readable chunks gives."""
    groups = resources.directory.get(login).all_groups
    lang = "fr" if "jours" in question else "en"
    with resources.app_pool.connection() as conn, conn.transaction():
        as_docs_reader(conn, groups)
        terms = question_terms(conn, question, lang, groups)
        assert terms
        for term in terms:
            counted = conn.execute(
                "SELECT count(*) FROM app.chunks WHERE tsv @@ quote_literal(%s)::tsquery",
                (term.lexeme,)).fetchone()[0]
            assert term.df == counted, term


def test_counts_follow_ingestion(resources, fresh_db: str, tmp_path) -> None:
    """Through ingest_folder, which writes a batch of documents in one statement: new files,
    then one changed, one deleted and one added."""
    from agents.docs.ingest import ingest_folder

    root = tmp_path / "corpus"
    root.mkdir()
    files = {"a.md": "# Leave\n\nParental leave lasts sixteen weeks, paid in full.\n",
             "b.md": "# Congés\n\nChaque salarié dispose de 25 jours de congés payés.\n",
             "c.md": "# Bonus\n\nBonus pools are set in March by the board.\n"}
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ingest_folder(conn, root, resources.embedder)
        assert conn.execute(KEPT).fetchall() == conn.execute(RECOUNT).fetchall()
        assert conn.execute("SELECT count(*) FROM app.lexeme_counts WHERE lexeme = 'sixteen'"
                            ).fetchone()[0] == 1
        (root / "a.md").write_text("# Leave\n\nParental leave lasts twenty weeks.\n")
        (root / "c.md").unlink()
        (root / "d.md").write_text("# Travel\n\nTrains are booked in second class.\n")
        report = ingest_folder(conn, root, resources.embedder)
        assert (report.added, report.updated, report.deleted) == (1, 1, 1)
        assert conn.execute(KEPT).fetchall() == conn.execute(RECOUNT).fetchall()
        gone = conn.execute("SELECT count(*) FROM app.lexeme_counts"
                            " WHERE lexeme IN ('sixteen', 'bonus')").fetchone()[0]
        assert gone == 0
