"""The landing's examples come from the semantic model and the readable documents, fit the
user, and work: every data example is one the planner answers with confidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agents.app.documents import DocumentInfo, list_documents
from agents.app.welcome import collections, example_questions, scope_note, welcome
from agents.sql.planner import plan_question


def _doc(title: str, path: str, language: str = "en") -> DocumentInfo:
    return DocumentInfo(title, path, ("everyone",), datetime(2026, 1, 1, tzinfo=UTC), 3,
                        language)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_data_example_is_answered_with_confidence(resources: Any, lang: str) -> None:
    tables = resources.policy_for(resources.directory.get("alice")).allowed_tables
    examples = example_questions(resources.model, tables, [], lang)
    assert len(examples) == 3
    for question in examples:
        plan = plan_question(question, resources.planning)
        assert plan.confident and plan.sql, question


def test_document_examples_are_the_readers_own_in_their_language_first() -> None:
    docs = [_doc("Rapport annuel", "docs/reports/rapport.pdf", "fr"),
            _doc("Annual report", "docs/reports/report.pdf"),
            _doc("Travel policy", "docs/hr/travel.md")]
    from agents.sql.semantic_model import SemanticModel

    empty = SemanticModel({}, {}, {})
    assert example_questions(empty, frozenset(), docs, "en") == (
        "What does “Annual report” say?", "What does “Travel policy” say?")
    assert example_questions(empty, frozenset(), docs, "fr")[0] == "Que dit « Rapport annuel » ?"
    assert collections(docs) == ("reports", "hr")


def test_what_the_assistant_can_answer_follows_the_user(resources: Any) -> None:
    emma = resources.directory.get("emma")
    documents = list_documents(resources.app_pool, emma.all_groups)
    shown = welcome(resources.model, resources.policy_for(emma).allowed_tables, documents, "en")
    assert shown.metrics and "board" not in shown.collections
    alice = resources.directory.get("alice")
    assert "board" in welcome(resources.model, resources.policy_for(alice).allowed_tables,
                              list_documents(resources.app_pool, alice.all_groups),
                              "en").collections


def test_the_scope_note_comes_from_the_users_scope(resources: Any) -> None:
    bruno = resources.directory.get("bruno")
    note = scope_note(bruno, "en") or ""
    assert bruno.scope and all(value in note for _, value in bruno.scope)
    assert scope_note(resources.directory.get("alice"), "fr") is None
