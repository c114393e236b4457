"""The chat as a user sees it, through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


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
