"""The Documents page: what each user may read, uploads with their groups, re-indexing; and the
upload rules (file names, types, sizes, groups) behind it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from agents.app import documents, publishing
from agents.app import state as app_state
from agents.ask import pipeline
from agents.ask.answer import source_line
from agents.docs.retrieval import retrieve_chunks
from agents.errors import BadInput
from agents.store.users import User

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


def folder(login: str) -> str:
    return documents.upload_folder_name(login)


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown text (agents/app/markup.plain_text)."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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
    stored = f"{folder('emma')}/Team offsite.md"
    assert shown(at.success[0].value) == (
        f"{stored} is indexed (1 passages). Only you can read it until a curator publishes it"
        " to: everyone.")
    frame = at.dataframe[0].value
    row = frame[frame["Path"] == stored]
    assert list(row["Title"]) == ["Team offsite"]
    assert list(row["Groups"]) == ["only you, until a curator publishes it"]
    assert list(row["Uploaded by"]) == ["emma"] and all(row["Indexed"])
    saved = docs_resources.settings.data_dir / "uploads" / folder("emma") / "Team offsite.md"
    assert saved.read_bytes() == OFFSITE

    emma = docs_resources.directory.get("emma")
    with docs_resources.app_pool.connection() as conn:
        found = retrieve_chunks(conn, docs_resources.embedder,
                                "Where does the team offsite take place?",
                                documents.reading_groups(emma))
    assert found and found[0].path == stored
    # The chat's sources say whose upload it is, so a planted document is recognisable.
    assert found[0].uploaded_by == "emma"
    answer = pipeline.ask("Where does the team offsite take place?", "emma", docs_resources)
    offsite = [s for s in answer.sources if s.path == stored]
    assert offsite and offsite[0].uploaded_by == "emma"
    assert "uploaded by emma" in source_line(offsite[0], "en")
    assert "déposé par emma" in source_line(offsite[0], "fr")

    # Removing it removes its passages: the file and its index entry go together.
    documents.remove_upload(docs_resources.app_pool, docs_resources.settings,
                            docs_resources.embedder, emma, "Team offsite.md")
    assert not saved.exists()
    assert stored not in listed_paths(open_page("emma"))


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

    mine = folder("chloe")
    assert f"{mine}/queries.md" in listed_paths(open_page("chloe"))
    assert f"{mine}/queries.md" not in listed_paths(open_page("emma"))
    # Chloé is a curator: her upload for everyone is published at once.
    assert f"{mine}/public.md" in listed_paths(open_page("emma"))
    with res.app_pool.connection() as conn:
        hits = retrieve_chunks(conn, res.embedder, "Nordwind dashboard refresh",
                               documents.reading_groups(emma))
    assert not any(p.path == f"{mine}/queries.md" for p in hits)


def test_file_names_are_sanitised(docs_resources: Any) -> None:
    settings, emma = docs_resources.settings, docs_resources.directory.get("emma")
    path = documents.save_upload(settings, emma, "../../etc/passwd.md",
                                 b"# Notes\n\nNot a passwd.\n", ["everyone"])
    where = (settings.data_dir / "uploads" / folder("emma")).resolve()
    assert path == where / "passwd.md" and path.exists()
    assert sorted(p.name for p in where.iterdir()) == ["acl.yaml", "passwd.md"]
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
    where = settings.data_dir / "uploads" / folder("emma")
    assert not where.exists() or not any(where.iterdir())


def test_reindex_shows_progress_and_the_summary(docs_resources: Any) -> None:
    # Files saved but not indexed yet, as after a crash between the two: a re-index adds them.
    res = docs_resources
    documents.save_upload(res.settings, res.directory.get("chloe"), "later.md",
                          b"# Later\n\nIndexed by the re-index.\n", ["everyone"])
    # David's upload (HR, unpublished) and a file of his folder nobody may read: indexed by
    # Chloé's re-index, but not hers to count.
    documents.save_upload(res.settings, res.directory.get("david"), "grid.md",
                          b"# Grid notes\n\nBands for 2026.\n", ["hr"])
    documents.save_upload(res.settings, res.directory.get("david"), "hr.md",
                          b"# HR notes\n\nFor HR.\n", ["hr"])
    (res.settings.data_dir / "uploads" / folder("david") / "hr.md").write_bytes(b"")
    assert not any(b.key == "doc_reindex" for b in open_page("emma").button)
    at = open_page("chloe")  # analysts re-index
    at.button(key="doc_reindex").click().run()

    assert not at.exception and not at.error
    assert at.progress[0].value == 100
    assert not re.search(r"\d+ of \d+", at.progress[0].proto.text)
    summary = at.success[0].value
    assert summary.startswith("Index refreshed: added 1, updated 0, deleted 0")
    assert "skipped 0" in summary  # David's empty hr.md is not Chloé's to count
    assert f"{folder('chloe')}/later.md" in listed_paths(open_page("emma"))
    assert f"{folder('david')}/grid.md" in listed_paths(open_page("david"))


def test_upload_folders_are_unique_per_login(docs_resources: Any) -> None:
    names = [documents.upload_folder_name(login) for login in (
        "a+b@corp.example", "a_b@corp.example", "../alice", "alice", "Alice", "..", "")]
    assert len(set(names)) == len(names)
    assert all("/" not in n and not n.startswith(".") and n for n in names)
    assert names[2].startswith("alice-") and names[3].startswith("alice-")
    root = documents.uploads_root(docs_resources.settings)
    sneaky = User(login="../alice", name="x")
    assert documents.upload_dir(docs_resources.settings, sneaky).parent == root


def test_an_upload_waits_for_a_curator(docs_resources: Any) -> None:
    res = docs_resources
    emma = res.directory.get("emma")
    stored = f"{folder('emma')}/Offsite.md"
    at = open_page("emma")
    assert not any(b.key.startswith("doc_publish_") for b in at.button)
    at.file_uploader(key="doc_file").set_value(("Offsite.md", OFFSITE, "text/markdown"))
    at.button(key="doc_submit").click().run()
    assert not at.exception and not at.error
    assert stored not in listed_paths(open_page("bruno"))
    with pytest.raises(BadInput, match="curator"):
        publishing.publish_upload(res.app_pool, res.settings, res.embedder, emma,
                                  folder("emma"), "Offsite.md")

    chloe = open_page("chloe")
    assert stored not in listed_paths(chloe)  # a curator does not read it either
    assert any("Offsite.md from emma, asked for: everyone" in shown(m.value)
               for m in chloe.markdown)
    chloe.button(key=f"doc_publish_{folder('emma')}/Offsite.md").click().run()
    assert not chloe.exception and not chloe.error
    assert shown(chloe.success[0].value) == "Offsite.md is published to: everyone."

    frame = open_page("bruno").dataframe[0].value
    row = frame[frame["Path"] == stored]
    assert list(row["Groups"]) == ["everyone"] and list(row["Uploaded by"]) == ["emma"]
    assert publishing.pending_uploads(res.settings, res.directory.get("chloe")) == []
