"""Picking the sentences that answer: every passage, tables read with their header, neighbours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.docs.sentences import clean_markdown, pick_sentences, split_sentences, states_amount

TABLE = """Budgets per trip type:

| Type | Budget |
| --- | ---: |
| Team | $1,850 |
| Education | $1,000 |
"""


def test_a_table_row_is_read_with_its_header() -> None:
    sentences = split_sentences(TABLE)
    assert "Type: Education · Budget: $1,000" in sentences
    assert not any("---" in s for s in sentences)
    picks = pick_sentences("What is the education budget?", [(1, TABLE, 0.0)])
    assert picks[0].text == "Type: Education · Budget: $1,000"


def test_the_answer_may_come_from_any_passage_and_is_first() -> None:
    passages = [(1, "Our office opens at nine. Lunch is served in the canteen.", 0.4),
                (2, "Welcome to the handbook.", 0.4),
                (5, "Itemized receipts must be included for any reimbursement over $25.", 0.3)]
    picks = pick_sentences("Above which amount do I need an itemized receipt?", passages)
    assert picks[0].source == 5 and "$25" in picks[0].text


def test_a_lead_in_keeps_its_neighbour_and_markdown_is_read_as_text() -> None:
    passage = ("The refresh timeline for each department is as follows:\n\n"
               "- Engineering and Product : 2.5yrs\n- All Other Departments: 4yrs\n")
    picks = pick_sentences("What is the refresh timeline for each department?", [(3, passage, 0.0)])
    assert picks[0].text.startswith("The refresh timeline") and "2.5yrs" in picks[0].text
    assert clean_markdown("- **Read** [the guide](https://x.y/z) <br>") == "Read the guide"


def test_similarity_decides_across_languages(resources: Any) -> None:
    passage = ("Les données de paie peuvent être conservées pendant 5 ans. Les coordonnées d'un"
               " prospect peuvent être conservées 3 ans.")
    picks = pick_sentences("How long can payroll data be kept?", [(1, passage, 0.0)],
                           resources.embedder)
    assert "5 ans" in picks[0].text


STATES_AMOUNT_CASES = Path(__file__).with_name("states_amount_cases.yaml")


@pytest.mark.parametrize("case", yaml.safe_load(STATES_AMOUNT_CASES.read_text(encoding="utf-8")),
                         ids=lambda case: case["question"][:40])
def test_an_amount_question_needs_a_sentence_stating_one(case: dict[str, Any]) -> None:
    assert states_amount(case["question"], case["passages"],
                         {str(k): float(v) for k, v in case["rarity"].items()}) is case["states"]


def test_the_words_asking_for_an_amount_are_not_what_it_is_about() -> None:
    passages = [(1, "It can take a while to settle, as long as receipts are missing.", 0.4),
                (2, "Expect a 7-10 day turn around on receiving reimbursements.", 0.3)]
    picks = pick_sentences("How long does it take to get reimbursed?", passages)
    assert picks[0].source == 2 and "7-10 day" in picks[0].text


@pytest.mark.parametrize(("passage", "sentences"), [
    # a title on a line of its own is the section, not the start of the sentence below it
    ("France\nFrance grew fastest (+25%), driven by healthcare.\n\nEMEA\nEMEA passed EUR 125"
     " million (+21%).",
     ["France grew fastest (+25%), driven by healthcare.", "EMEA passed EUR 125 million (+21%)."]),
    # a wrapped line goes on in lower case: it is no title
    ("Employees get 25 days of paid\nvacation per year. Ask your manager.",
     ["Employees get 25 days of paid vacation per year.", "Ask your manager."]),
])
def test_titles_on_their_own_line_do_not_start_a_sentence(passage: str,
                                                          sentences: list[str]) -> None:
    assert split_sentences(passage) == sentences
