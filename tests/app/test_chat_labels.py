"""The chat in the user's language, votes that behave, the landing and the scoped-data note,
through Streamlit's AppTest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from streamlit.testing.v1 import AppTest

from agents.messages import catalog
from tests.app.test_page_labels import shown_texts

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FRENCH_BREAKDOWN = "Chiffre d'affaires par région en 2023"


def _app(login: str = "alice") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["login"] = login
    at.run()
    assert not at.exception
    return at


def _say(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def _english_only() -> set[str]:
    """The app's English labels that differ from their French text (no placeholders)."""
    return {t["en"] for k, t in catalog().items()
            if k.startswith("app.") and "{" not in t["en"] and t["en"] != t["fr"]
            and len(t["en"]) > 3}


def test_a_french_chat_shows_no_english_label(resources: Any) -> None:
    at = _app()
    _say(at, FRENCH_BREAKDOWN)
    _say(at, "et en 2022 ?")
    english = _english_only()
    shown = shown_texts(at)
    leaks = sorted({e for e in english for t in shown if e in t})
    assert not leaks, leaks
    assert any("Définition utilisée" in t for t in shown)
    assert any(t == "Télécharger en CSV" for t in shown)
    assert any("Depuis l'entrepôt · hors ligne" in t for t in shown)
    assert at.chat_input[0].proto.placeholder.startswith("Posez une question")


def test_the_language_setting_changes_the_labels_before_any_question(resources: Any) -> None:
    at = _app()
    assert any(s.label == "Language" for s in at.sidebar.selectbox)
    # What the sidebar's picker stores (AppTest cannot drive a widget of the entry script once
    # st.navigation has run the page).
    at.session_state["ui_language"] = "fr"
    at.run()
    assert not at.exception
    # (AppTest keeps no element of the entry script after its first run: the browser test
    # checks the sidebar's labels.)
    assert any("que voulez-vous savoir" in m.value for m in at.markdown)
    _say(at, "How many orders in 2019?")  # an English question keeps the chosen language
    assert any("Définition utilisée" in c.value for c in at.caption)


def test_a_french_breakdown_has_an_altair_chart_with_safe_fields(resources: Any) -> None:
    at = _say(_app(), FRENCH_BREAKDOWN)
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    fields = [v["field"] for v in spec["encoding"].values() if isinstance(v, dict)
              and "field" in v]
    assert fields and all("'" not in f for f in fields)
    assert spec["encoding"]["y"]["title"] == "Chiffre d'affaires"
    assert "M€" in spec["encoding"]["y"]["axis"]["labelExpr"]


def _votes(seeded: str, answer_id: str) -> list[tuple[int, str | None]]:
    with psycopg.connect(seeded) as conn:
        return conn.execute("SELECT rating, comment FROM app.feedback WHERE answer_id = %s"
                            " ORDER BY feedback_id", (answer_id,)).fetchall()


def _current(seeded: str, answer_id: str) -> list[int]:
    with psycopg.connect(seeded) as conn:
        return [r[0] for r in conn.execute(
            "SELECT rating FROM app.current_votes WHERE answer_id = %s", (answer_id,))]


def test_one_current_vote_per_user_changeable_and_shown_selected(
    resources: Any, seeded: str
) -> None:
    at = _say(_app("david"), "How many orders in 2019?")
    answer_id = at.session_state["history"][-1].answer.answer_id
    up = at.button(key=f"up-{answer_id}")
    assert up.proto.type == "secondary"
    up.click().run()
    at.button(key=f"up-{answer_id}").click().run()  # the same vote twice: one row
    assert at.button(key=f"up-{answer_id}").proto.type == "primary"
    assert _votes(seeded, answer_id) == [(1, None)]

    at.text_area[0].set_value("Counts the wrong orders")
    next(b for b in at.button if b.label == "Send").click().run()
    assert not at.exception
    assert at.button(key=f"up-{answer_id}").proto.type == "secondary"
    assert [p.proto.popover.type for p in at.get("popover")] == ["primary"]
    assert _votes(seeded, answer_id) == [(1, None), (-1, "Counts the wrong orders")]
    assert _current(seeded, answer_id) == [-1]  # what Monitoring counts
    with psycopg.connect(seeded) as conn:
        conn.execute("UPDATE app.review_queue SET status = 'rejected' WHERE answer_id = %s",
                     (answer_id,))
        conn.commit()


def test_the_landing_welcomes_with_clickable_examples(resources: Any) -> None:
    at = _app("emma")
    assert any("what would you like to know?" in m.value for m in at.markdown)
    examples = [b for b in at.main.button if (b.key or "").startswith("welcome-")]
    assert len(examples) >= 3
    examples[0].click().run()
    assert not at.exception
    assert len(at.dataframe) == 1  # the first example is a data question that works
    assert not any("what would you like to know?" in m.value for m in at.markdown)


def test_a_scoped_user_is_told_their_data_is_limited(resources: Any) -> None:
    at = _app("bruno")
    assert any("Your data is limited to EMEA" in i.value for i in at.info)
    _say(at, "Revenue by region in 2023")
    assert any("Your data is limited to EMEA" in c.value for c in at.chat_message[-1].caption)
    assert not any("limited to" in i.value for i in _app("alice").info)
