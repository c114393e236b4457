"""The Documents page: what each user may read, uploads with their groups, re-indexing; and the
upload rules (file names, types, sizes, groups) behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from agents.app import documents
from agents.app import state as app_state
from agents.docs.retrieval import retrieve_chunks
from agents.errors import BadInput

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "documents.py")
OFFSITE = (b"# Team offsite\n\nThe Lumen team offsite takes place in Annecy on 12 June. The"
           b" cable car trip to the Semnoz is optional; bring walking shoes.\n")


@pytest.fixture
def docs_resources(resources: Any, seeded: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The session's resources with a data_dir of this test's own, used by the page too.

    Uploads land under tmp_path; their documents are removed from the shared index at the end
    so that other tests see the demo corpus only.
    """
    settings = resources.settings.model_copy(update={"data_dir": tmp_path})
    local = resources.with_settings(settings)
    monkeypatch.setattr(app_state, "shared_resources", lambda: local)
    yield local
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute("DELETE FROM app.documents WHERE source_root LIKE %s",
                     (str(tmp_path.resolve()) + "/%",))


def open_page(login: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["user_login"] = login
    at.run()
    assert not at.exception and not at.warning
    return at


def listed_paths(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Path"])


def test_each_user_sees_only_what_they_may_read(docs_resources: Any) -> None:
    emma = open_page("emma")
    paths = listed_paths(emma)
    assert paths and not any("board/" in p or "salary" in p for p in paths)
    assert set(emma.dataframe[0].value["Groups"]) == {"everyone"}
    assert {"Title", "Groups", "Modified", "Chunks"} <= set(emma.dataframe[0].value.columns)
    assert any("Index last updated" in c.value for c in emma.caption)
    # Emma may share with `everyone` only: the page offers nothing else.
    assert emma.multiselect(key="doc_groups").options == ["everyone"]

    alice = open_page("alice")
    assert any("board/" in p for p in listed_paths(alice))
    assert not any("salary" in p for p in listed_paths(alice))  # HR only
    assert alice.multiselect(key="doc_groups").options == ["everyone", "exec", "finance"]


def test_an_upload_is_listed_and_retrieved_for_its_readers(docs_resources: Any) -> None:
    at = open_page("emma")
    at.file_uploader(key="doc_file").set_value(("Team offsite.md", OFFSITE, "text/markdown"))
    at.button(key="doc_submit").click().run()

    assert not at.exception and not at.error
    assert at.success[0].value.startswith("emma/Team offsite.md is indexed")
    frame = at.dataframe[0].value
    row = frame[frame["Path"] == "emma/Team offsite.md"]
    assert list(row["Title"]) == ["Team offsite"] and list(row["Groups"]) == ["everyone"]
    saved = docs_resources.settings.data_dir / "uploads" / "emma" / "Team offsite.md"
    assert saved.read_bytes() == OFFSITE

    emma = docs_resources.directory.get("emma")
    with docs_resources.app_pool.connection() as conn:
        found = retrieve_chunks(conn, docs_resources.embedder,
                                "Where does the team offsite take place?", emma.all_groups)
    assert found and found[0].path == "emma/Team offsite.md"

    # Removing it removes its passages: the file and its index entry go together.
    documents.remove_upload(docs_resources.app_pool, docs_resources.settings,
                            docs_resources.embedder, emma, "Team offsite.md")
    assert not saved.exists()
    assert "emma/Team offsite.md" not in listed_paths(open_page("emma"))


def test_uploaded_groups_are_kept_per_file(docs_resources: Any) -> None:
    res = docs_resources
    chloe, emma = res.directory.get("chloe"), res.directory.get("emma")
    at = open_page("chloe")
    at.file_uploader(key="doc_file").set_value(("queries.md", b"# Analyst notes\n\nThe"
                                                b" Nordwind dashboard refresh runs at 6am.\n",
                                                "text/markdown"))
    at.multiselect(key="doc_groups").set_value(["analyst"])
    at.button(key="doc_submit").click().run()
    assert not at.exception and not at.error
    assert "readable by: analyst" in at.success[0].value
    # A later upload for everyone must not widen the first file's groups.
    documents.add_upload(res.app_pool, res.settings, res.embedder, chloe, "public.md",
                         b"# Public note\n\nAnything.\n", ["everyone"])

    assert "chloe/queries.md" in listed_paths(open_page("chloe"))
    assert "chloe/queries.md" not in listed_paths(open_page("emma"))
    assert "chloe/public.md" in listed_paths(open_page("emma"))
    with res.app_pool.connection() as conn:
        hits = retrieve_chunks(conn, res.embedder, "Nordwind dashboard refresh",
                               emma.all_groups)
    assert not any(p.path == "chloe/queries.md" for p in hits)


def test_file_names_are_sanitised(docs_resources: Any) -> None:
    settings, emma = docs_resources.settings, docs_resources.directory.get("emma")
    path = documents.save_upload(settings, emma, "../../etc/passwd.md",
                                 b"# Notes\n\nNot a passwd.\n", ["everyone"])
    folder = (settings.data_dir / "uploads" / "emma").resolve()
    assert path == folder / "passwd.md" and path.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["acl.yaml", "passwd.md"]
    assert documents.sanitize_filename("..\\..\\boot.ini.txt") == "boot.ini.txt"
    assert documents.sanitize_filename(".hidden.md") == "hidden.md"
    assert documents.sanitize_filename("Procédure [v2]*.md") == "Procedure _v2.md"


def test_uploads_that_are_refused(docs_resources: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings, emma = docs_resources.settings, docs_resources.directory.get("emma")
    with pytest.raises(BadInput, match=r"type \.exe cannot be indexed. Supported types: .*\.md"):
        documents.save_upload(settings, emma, "tool.exe", b"MZ...", ["everyone"])
    with pytest.raises(BadInput, match="groups you belong to; you are not in: hr"):
        documents.save_upload(settings, emma, "notes.md", b"# Notes\n", ["everyone", "hr"])
    with pytest.raises(BadInput, match="at least one group"):
        documents.save_upload(settings, emma, "notes.md", b"# Notes\n", [])
    with pytest.raises(BadInput, match="empty"):
        documents.save_upload(settings, emma, "notes.md", b"", ["everyone"])
    monkeypatch.setattr(documents, "UPLOAD_MAX_BYTES", 10)
    with pytest.raises(BadInput, match="20 MB upload limit"):
        documents.save_upload(settings, emma, "notes.md", b"# Eleven b\n", ["everyone"])
    monkeypatch.undo()
    with pytest.raises(BadInput, match=r"broken\.pdf cannot be indexed: the PDF cannot be read"):
        documents.save_upload(settings, emma, "broken.pdf", b"%PDF-1.4 not really",
                              ["everyone"])
    # Nothing of the refused files was kept.
    assert not (settings.data_dir / "uploads" / "emma").exists() or not any(
        (settings.data_dir / "uploads" / "emma").iterdir())


def test_reindex_shows_progress_and_the_summary(docs_resources: Any) -> None:
    # A file saved but not indexed yet, as after a crash between the two: a re-index adds it.
    documents.save_upload(docs_resources.settings, docs_resources.directory.get("emma"),
                          "later.md", b"# Later\n\nIndexed by the re-index.\n", ["everyone"])
    assert not any(b.key == "doc_reindex" for b in open_page("emma").button)
    at = open_page("chloe")  # analysts re-index: the counts cover every document
    at.button(key="doc_reindex").click().run()

    assert not at.exception and not at.error
    assert at.progress[0].value == 100
    summary = at.success[0].value
    assert summary.startswith("Index refreshed: added 1, updated 0, deleted 0")
    assert "emma/later.md" in listed_paths(open_page("emma"))
