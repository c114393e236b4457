"""The chat as a user sees it, through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_data_question_shows_a_table_and_its_sql(resources) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("demo mode" in str(getattr(b, "label", "")) or "demo" in str(b.value)
               for b in at.sidebar.selectbox) or at.sidebar.selectbox
    at.chat_input[0].set_value("What was total revenue in 2018?").run()
    assert not at.exception
    assert len(at.dataframe) == 1
    codes = [c.value for c in at.code]
    assert any("SUM(oi.quantity" in c for c in codes)
    assert any("Revenue" in m.value for m in at.markdown)


def test_document_question_shows_sources(resources) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.chat_input[0].set_value("What does the expense policy say about meals?").run()
    assert not at.exception
    assert len(at.expander) >= 1
    assert not at.dataframe


def test_documents_page_lists_only_what_the_user_may_read(resources) -> None:
    page = str(Path(APP).parent / "pages" / "documents.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.session_state["user_login"] = "emma"
    at.run()
    assert not at.exception
    paths = list(at.dataframe[0].value["Path"])
    assert paths and not any("board/" in p or "salary" in p for p in paths)
    at = AppTest.from_file(page, default_timeout=120)
    at.session_state["user_login"] = "alice"
    at.run()
    assert any("board/" in p for p in at.dataframe[0].value["Path"])


def _ask(question: str, login: str = "alice") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    # The sidebar picker reads its value from its widget key (set_value on a widget of the
    # entry script is lost once st.navigation has run the page, an AppTest limitation).
    at.session_state["login"] = login
    at.run()
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def _last_answer_id(seeded: str, login: str) -> str:
    import psycopg

    with psycopg.connect(seeded) as conn:
        row = conn.execute("SELECT answer_id::text FROM app.query_log WHERE user_name = %s"
                           " ORDER BY asked_at DESC LIMIT 1", (login,)).fetchone()
    assert row is not None
    return row[0]


def test_thumbs_down_with_a_comment_is_stored_and_queued_for_review(resources, seeded) -> None:
    import psycopg

    at = _ask("How many orders in 2019?", "bruno")
    answer_id = _last_answer_id(seeded, "bruno")
    at.text_area[0].set_value("Should count cancelled orders too")
    next(b for b in at.button if b.label == "Send").click().run()
    assert not at.exception
    with psycopg.connect(seeded) as conn:
        feedback = conn.execute("SELECT rating, comment FROM app.feedback WHERE answer_id = %s",
                                (answer_id,)).fetchall()
        review = conn.execute("SELECT status, comment FROM app.review_queue"
                              " WHERE answer_id = %s", (answer_id,)).fetchall()
        conn.execute("UPDATE app.review_queue SET status = 'rejected' WHERE answer_id = %s",
                     (answer_id,))
        conn.commit()
    assert feedback == [(-1, "Should count cancelled orders too")]
    assert review == [("pending", "Should count cancelled orders too")]
    assert any("feedback was saved" in t.value for t in at.toast)


def test_regenerate_offline_says_the_answer_is_deterministic_and_offers_to_rephrase(
    resources, seeded
) -> None:
    import psycopg

    at = _ask("What was revenue in 2020?", "alice")
    first = _last_answer_id(seeded, "alice")
    next(b for b in at.button if "Regenerate" in b.label).click().run()
    assert not at.exception
    with psycopg.connect(seeded) as conn:
        rows = conn.execute("SELECT question FROM app.query_log WHERE regenerated_from = %s",
                            (first,)).fetchall()
    assert rows == []  # the same question offline gives the same answer: not asked again
    assert any("deterministic" in i.value for i in at.info)
    rephrase = at.text_input(key=f"rephrase-text-{first}")
    assert rephrase.value == "What was revenue in 2020?"
    rephrase.set_value("What was revenue in 2021?")
    next(b for b in at.button if b.label == "Ask").click().run()
    assert not at.exception
    assert len(at.dataframe) == 2
    assert any("What was revenue in 2021" in m.value for m in at.chat_message[-2].markdown)


def test_pages_follow_the_groups(resources) -> None:
    from agents.app.state import may_see_page

    directory = resources.directory
    assert may_see_page(directory.get("chloe"), "workbench")
    assert not may_see_page(directory.get("emma"), "workbench")
    assert not may_see_page(directory.get("bruno"), "monitoring")
    assert may_see_page(directory.get("alice"), "monitoring")


def test_refusal_and_bad_input_are_plain_sentences(resources) -> None:
    at = _ask("Tell me a joke about accountants")
    assert any("can't help" in m.value for m in at.markdown)
    at.chat_input[0].set_value("x" * 5000).run()
    assert not at.exception
    assert any("limit is 2,000" in m.value for m in at.markdown)


def test_model_mode_streams_the_answer_and_shows_the_variant(
    llm_resources, fake_llm, monkeypatch
) -> None:
    import agents.app.state
    from tests.fake_openai import asks_about_documents, asks_for_route

    monkeypatch.setattr(agents.app.state, "shared_resources", lambda: llm_resources)
    fake_llm.on(asks_for_route, '{"route": "docs", "reason": "policy"}')
    fake_llm.on(asks_about_documents, "Up to three days of remote work per week [1].")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["login"] = "emma"
    at.run()
    assert any("model fake-model" in m.value for m in at.sidebar.markdown)
    assert any(b.label == "Test connection" for b in at.sidebar.button)
    at.chat_input[0].set_value("How many days of remote work are allowed per week?").run()
    assert not at.exception
    assert any("Up to three days of remote work per week [1]." in m.value for m in at.markdown)
    assert any("model fake-model" in c.value for c in at.caption)
    assert len(fake_llm.chat_requests(asks_about_documents)) == 1


def test_with_a_model_regenerate_adds_a_labelled_answer_linked_to_the_first(
    llm_resources, fake_llm, monkeypatch, seeded
) -> None:
    import psycopg

    import agents.app.state
    from tests.fake_openai import asks_about_documents, asks_for_route

    monkeypatch.setattr(agents.app.state, "shared_resources", lambda: llm_resources)
    fake_llm.on(asks_for_route, '{"route": "docs", "reason": "policy"}')
    fake_llm.on(asks_about_documents, "Up to three days of remote work per week [1].")
    at = _ask("How many days of remote work are allowed per week?", "emma")
    first = _last_answer_id(seeded, "emma")
    at.button(key=f"again-{first}").click().run()
    assert not at.exception
    with psycopg.connect(seeded) as conn:
        rows = conn.execute("SELECT question FROM app.query_log WHERE regenerated_from = %s",
                            (first,)).fetchall()
    assert rows == [("How many days of remote work are allowed per week?",)]
    assert any(c.value == "↻ Regenerated answer" for c in at.chat_message[-1].caption)
    assert not any("deterministic" in i.value for i in at.info)
