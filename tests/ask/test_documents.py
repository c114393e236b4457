"""A data-shaped question about a document's topic: the documents answer it when a passage holds
the words the planner does not know; otherwise the planner's honest answer, and for a user who
may not read that passage, the same answer as if it did not exist."""

from __future__ import annotations

from typing import Any

import pytest

from agents.ask.answer import shown_parts
from agents.ask.pipeline import ask


@pytest.mark.parametrize(("question", "document", "fact", "word"), [
    ("What is the partner margin for Platinum partners?", "finance/pricing_discount_policy.md",
     "25% for Platinum", "Platinum"),
    ("Quelle est la marge des partenaires Gold ?", "finance/pricing_discount_policy.md",
     "20% for Gold", "Gold"),
    ("What commission do reps earn on hardware revenue?", "sales/compensation_plan_2025.md",
     "4% of net hardware revenue", "commission"),
])
def test_a_document_topic_with_a_metric_word_is_answered_from_the_documents(
        resources: Any, spy_executor: list[str], question: str, document: str, fact: str,
        word: str) -> None:
    answer = ask(question, "alice", resources)
    assert answer.route == "docs"
    assert answer.error is None
    assert spy_executor == [], "no SQL ran"
    assert any(s.path.endswith(document) for s in answer.sources)
    assert fact in answer.text
    # Says why the documents answer a question with a metric in it, naming the word.
    assert word in answer.text.split("\n\n")[0]


def test_without_a_passage_holding_the_words_the_planner_stays_honest(
        resources: Any, spy_executor: list[str]) -> None:
    answer = ask("What is the revenue ceiling for freelancers?", "alice", resources)
    assert answer.route == "sql"
    assert answer.error == "not_understood"
    assert answer.sources == []
    assert "freelancers" in answer.text


def test_a_restricted_passage_lends_its_words_to_nobody_else(
        resources: Any, spy_executor: list[str]) -> None:
    """Only the board's memo names Nordlys: its readers get the memo's figure; anyone else the
    planner's answer, word for word the one for a name no document holds."""
    question = "What was the revenue of {} Data in 2024?"
    board = ask(question.format("Nordlys"), "alice", resources)
    assert board.route == "docs"
    assert any("board/" in s.path for s in board.sources)
    assert "DKK 86 million" in board.text

    restricted = ask(question.format("Nordlys"), "emma", resources)
    missing = ask(question.format("Zyphora"), "emma", resources)
    assert (restricted.route, restricted.error, restricted.sources) == (
        missing.route, missing.error, missing.sources) == ("sql", "not_understood", [])
    assert restricted.text == missing.text.replace("Zyphora", "Nordlys")
    assert spy_executor == []


@pytest.mark.parametrize("question", [
    "What is the partner margin for Gold partners, and what was partner revenue in 2024?",
    "Quelle est la marge des partenaires Gold et quel a été le chiffre d'affaires du canal "
    "partenaire en 2024 ?",
])
def test_each_part_is_answered_by_what_answers_it(
        resources: Any, spy_executor: list[str], question: str) -> None:
    """The documents give the Gold partners' margin, the warehouse the partner revenue of 2024:
    neither part is dropped."""
    answer = ask(question, "alice", resources)
    assert answer.route == "both"
    assert answer.error is None
    assert len(spy_executor) == 1
    assert "channel = 'partner'" in spy_executor[0] and "2024-01-01" in spy_executor[0]
    assert answer.rows and len(answer.rows) == 1
    assert any(s.path.endswith("finance/pricing_discount_policy.md") for s in answer.sources)
    assert "20% for Gold" in answer.text
    # The page shows each part with what belongs to it: the figure with its table and SQL, the
    # excerpts with their sources.
    data_text, documents_text = shown_parts(answer)
    assert "20% for Gold" in documents_text and "20% for Gold" not in data_text
    assert "97" in data_text and "97" not in documents_text
