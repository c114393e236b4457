"""The Documents, SQL workbench (with its review queue) and Monitoring pages in French: with the
sidebar's language set to French, each page is walked as a user who may open it, and no English
text of the catalog shows (the approach of test_chat_labels.py, extended to the pages' own
keys, their placeholders' fixed text and the tables' column headers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agents.app import state as app_state
from agents.messages import catalog, say
from agents.sql.verified import propose_correction
from seed_data.demo_log import seed_demo_log
from tests.app.test_workbench import _logged_answer

PAGES = Path(__file__).resolve().parents[2] / "pages"
# The catalog sections the pages read (the chat's own are checked by test_chat_labels.py).
PREFIXES = ("documents.", "workbench.", "monitoring.", "pages.", "signin.")
ELEMENTS = ("markdown", "caption", "button", "expander", "toggle", "subheader", "title", "info",
            "success", "error", "warning", "selectbox", "multiselect", "text_input",
            "text_area", "metric", "download_button", "popover", "file_uploader", "tab")


def shown_texts(at: AppTest) -> list[str]:
    """Every label, help, placeholder, option and body the page shows, and the headers of its
    tables (a table's cells are data, not labels)."""
    texts: list[str] = []
    for kind in ELEMENTS:
        for element in at.get(kind):
            proto = element.proto
            for name in ("body", "label", "help", "placeholder"):
                value = getattr(proto, name, "")
                if isinstance(value, str) and value:
                    texts.append(value)
            texts.extend(getattr(proto, "options", []) or [])
            # A metric's delta and a selectbox's shown option.
            for name in ("delta", "value"):
                value = getattr(proto, name, "")
                if isinstance(value, str) and value:
                    texts.append(value)
    for frame in at.dataframe:
        texts.extend(str(c) for c in frame.value.columns)
        texts.extend(str(n) for n in frame.value.index.names if n)
    texts.extend(c.proto.placeholder for c in at.chat_input)
    return texts


def english_pieces() -> tuple[set[str], set[str]]:
    """The pages' English texts that differ from their French: whole short labels (matched
    exactly) and, from longer texts, each fixed run of words between placeholders."""
    whole: set[str] = set()
    pieces: set[str] = set()
    for key, texts in catalog().items():
        if not key.startswith(PREFIXES) or texts["en"] == texts["fr"]:
            continue
        if "{" not in texts["en"] and len(texts["en"]) < 25:
            whole.add(texts["en"])
            continue
        for piece in re.split(r"\{[^}]*\}", texts["en"]):
            piece = piece.strip(" .,;:#“”")
            if len(piece) >= 12 and piece not in texts["fr"]:
                pieces.add(piece)
    return whole, pieces


def english_leaks(at: AppTest) -> list[str]:
    shown = shown_texts(at)
    whole, pieces = english_pieces()
    leaks = {t for t in shown if t in whole}
    leaks |= {p for p in pieces for t in shown if p in t}
    return sorted(leaks)


def open_french(page: str, login: str, **state: Any) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=120)
    at.session_state["user_login"] = login
    at.session_state[app_state.LANGUAGE_KEY] = "fr"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception and not at.warning
    return at


def test_the_catalog_check_finds_an_english_label() -> None:
    """The check itself: an English page is full of leaks."""
    whole, pieces = english_pieces()
    assert "Approve" in whole and "Re-index" in whole
    assert "by the day each question was asked (UTC)" in pieces


@pytest.fixture
def local_resources(resources: Any, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The session's resources with a data folder of this test's own (no upload leaks into
    other tests), read by the pages at each run."""
    local = resources.with_settings(resources.settings.model_copy(update={"data_dir": tmp_path}))
    monkeypatch.setattr(app_state, "shared_resources", lambda: local)
    yield local


def test_documents_in_french(local_resources: Any) -> None:
    at = open_french("documents.py", "chloe")  # a curator and an analyst: every section
    assert not english_leaks(at), english_leaks(at)
    assert at.title[0].value == "Documents"
    assert any(e.label == "Ajouter un document" for e in at.expander)
    assert at.button(key="doc_reindex").label == "Réindexer"
    assert {"Titre", "Groupes", "Passages", "Langue"} <= set(at.dataframe[0].value.columns)

    at.button(key="doc_submit").click().run()  # no file chosen
    assert [e.value for e in at.error] == ["Choisissez d'abord un fichier à déposer."]
    at.button(key="doc_reindex").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Index actualisé :")
    assert not english_leaks(at), english_leaks(at)


def test_the_workbench_and_its_review_queue_in_french(
    local_resources: Any, seeded: str, clean_verified: None
) -> None:
    wrong = _logged_answer(seeded, "Commandes par an", "SELECT 1 AS orders")
    review_id = propose_correction(local_resources.app_pool, wrong, "bruno",
                                   comment="Pas par an du tout", proposed_sql="SELECT 2 AS x")
    at = open_french("workbench.py", "chloe")
    assert not english_leaks(at), english_leaks(at)
    assert at.title[0].value == "Atelier SQL"
    assert at.button(key="wb_run").label == "Exécuter"
    assert at.button(key=f"wb_approve_{review_id}").label == "Approuver"
    assert "Réponses à revoir" in [s.value for s in at.subheader]
    assert any(m.value.startswith("Signalé par **bruno**") for m in at.markdown)

    at.button(key="wb_run").click().run()  # nothing written
    assert [e.value for e in at.error] == ["Écrivez d'abord une requête SQL."]
    at.text_area(key="wb_sql").set_value("DELETE FROM warehouse.orders")
    at.button(key="wb_run").click().run()
    assert at.error[0].value.startswith("Bloqué par le garde-fou SQL :")
    at.text_area(key="wb_sql").set_value(
        "SELECT extract(year FROM order_date)::int AS year, count(*) AS orders"
        " FROM warehouse.orders GROUP BY 1 ORDER BY 1")
    at.button(key="wb_run").click().run()
    assert not at.exception and not at.error
    assert any(re.fullmatch(r"\d+ lignes en [\d\u202f ]+ ms\.", c.value) for c in at.caption)
    at.button(key=f"wb_try_{review_id}").click().run()
    assert any(c.value.startswith("Le SQL ci-dessus, vérifié par le garde-fou")
               for c in at.caption)
    assert not english_leaks(at), english_leaks(at)

    at.button(key=f"wb_reject_{review_id}").click().run()
    assert not at.exception
    assert at.success[0].value == f"Signalement n° {review_id} rejeté."
    assert not english_leaks(at), english_leaks(at)


def test_non_analysts_are_refused_the_workbench_in_french(local_resources: Any) -> None:
    at = AppTest.from_file(str(PAGES / "workbench.py"), default_timeout=60)
    at.session_state["user_login"] = "emma"
    at.session_state[app_state.LANGUAGE_KEY] = "fr"
    at.run()
    assert [e.value for e in at.error] == [say("workbench.not_an_analyst", "fr")]


@pytest.fixture
def logged_resources(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Resources on a fresh database holding a month of synthetic activity."""
    from agents.config import load_settings
    from agents.resources import build_resources

    resources = build_resources(load_settings(database_url=fresh_db), prepare=False)
    with resources.app_pool.connection() as conn:
        seed_demo_log(conn, 29)
    monkeypatch.setattr(app_state, "shared_resources", lambda: resources)
    yield resources
    resources.close()


@pytest.mark.parametrize("login", ["chloe", "alice"])  # an analyst and an executive
def test_monitoring_in_french(logged_resources: Any, login: str) -> None:
    # Signed in as app.py leaves it: this database is not the demo's, so no demo login.
    at = open_french("monitoring.py", login,
                     **{app_state.SIGNED_IN: logged_resources.directory.users[login]})
    assert not at.error, [e.value for e in at.error]
    assert not english_leaks(at), english_leaks(at)
    assert at.title[0].value == "Avis et suivi"
    metrics = {m.label for m in at.metric}
    assert {"Questions", "Avis positifs", "Blocages", "Latence p50", "Erreurs"} <= metrics
    frames = [d.value for d in at.dataframe]
    reasons = next(f for f in frames if "Motif" in f.columns)
    french_kinds = {say(f"monitoring.reason.{k}", "fr")
                    for k in ("guard block", "refusal", "bad input")}
    assert set(reasons["Type"]) and set(reasons["Type"]) <= french_kinds
    assert any("Commentaires" in f.columns for f in frames)
    at.selectbox[0].set_value(90).run()  # weekly: the other caption
    assert not at.exception and not english_leaks(at), english_leaks(at)
    assert any(c.value.startswith("Par semaine") for c in at.caption)
