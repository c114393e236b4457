"""Routing a question with a metric word whose topic is a document's ('plafond de chiffre
d'affaires'): to the documents when a passage the user may read holds the words the data does
not define; otherwise the honest SQL answer, the same for a restricted document as a missing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.ask.pipeline import ask
from agents.docs.access import private_group
from agents.docs.ingest import ingest_folder

QUESTION = "Quel est le plafond de chiffre d'affaires pour un freelance ?"


@pytest.fixture
def freelance_note(resources: Any, tmp_path: Path) -> Any:
    """A note only emma may read (her private upload group), removed afterwards."""
    root = tmp_path / "freelance"
    root.mkdir()
    (root / "statut.md").write_text(
        "# Statut des freelances\n\nLe plafond de chiffre d'affaires d'un freelance en"
        " micro-entreprise est de 77 700 euros par an pour les prestations de services.\n",
        encoding="utf-8")
    emma = resources.directory.get("emma")
    with resources.app_pool.connection() as conn:
        ingest_folder(conn, root, resources.embedder, groups_override=(private_group(emma),))
    yield root
    with resources.app_pool.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM app.documents WHERE source_root = %s", (str(root.resolve()),))
        conn.execute("DELETE FROM app.document_sources WHERE source_root = %s",
                     (str(root.resolve()),))


def test_a_document_topic_with_a_metric_word_goes_to_the_documents(
        resources: Any, freelance_note: Path) -> None:
    reader = ask(QUESTION, "emma", resources)
    assert reader.route == "docs" and "77 700" in reader.text
    # bruno may not read the note: the answer is the one he gets for a note that does not exist.
    restricted = ask(QUESTION, "bruno", resources)
    missing = ask("Quel est le plafond de chiffre d'affaires pour un intermittent ?", "bruno",
                  resources)
    assert restricted.route == missing.route == "sql"
    assert "77 700" not in restricted.text and not restricted.sources
