"""The Chinook sample warehouse, never tuned on: its drafted model passes `check`, and the
questions of its eval set are answered offline through it (>= 80% correct, 0 confidently wrong:
the questions that need a definition the draft lacks get honest answers)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from agents.commands.evaluation import CORRECT, WRONG, evaluate_questions, load_sql_questions
from agents.commands.evaluation.samples import merge, samples
from agents.config import Settings
from agents.resources import build_resources
from agents.sql.model_check import check_model, locator
from agents.sql.semantic_model import load_with_lines


def _sample():  # type: ignore[no-untyped-def]
    return next(s for s in samples() if s.name == "chinook")


def test_the_raw_draft_and_the_edited_model_pass_check(chinook: Settings) -> None:
    model_file = Path(chinook.semantic_model_file)
    draft = model_file.with_name("chinook_draft.yaml")
    assert "DECIDE:" in draft.read_text(encoding="utf-8")
    assert chinook.warehouse_url is not None
    for path in (draft, model_file):
        model, lines = load_with_lines(path)
        with psycopg.connect(chinook.warehouse_url.get_secret_value(), autocommit=True) as conn:
            assert check_model(model, conn, locator(path, lines)) == [], path
        # Joins along the foreign keys, a count per dated table, names in both languages.
        assert {"invoice", "invoice_line"} <= set(model.sources)
        assert {"invoices", "invoice_lines", "invoice_total"} <= set(model.metrics)
        assert model.metrics["invoices"].names["fr"] == "Factures"
        assert {"country", "genre", "artist", "year", "month"} <= set(model.dimensions)


@pytest.mark.timeout(600)
def test_the_eval_set_meets_its_targets(chinook: Settings) -> None:
    questions = load_sql_questions(_sample().questions)
    assert len(questions) >= 20
    assert {q.lang for q in questions} == {"en", "fr"}
    resources = build_resources(chinook)
    try:
        report = evaluate_questions(questions, resources)
    finally:
        resources.close()
    gold = [o for o in report.outcomes if not o.question.expects_honest]
    honest = [o for o in report.outcomes if o.question.expects_honest]
    right = sum(o.verdict == CORRECT for o in gold)
    assert right / len(gold) >= 0.80, [(o.question.id, o.reason) for o in gold
                                       if o.verdict != CORRECT]
    assert not [o.question.id for o in honest if o.verdict == WRONG]
    assert report.verdicts(WRONG) == 0


def test_edits_merge_mappings_and_replace_the_rest() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge(base, {"a": {"c": [3]}, "e": 2}) == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}


def test_the_writer_and_the_guard_read_the_connected_schema(chinook: Settings) -> None:
    resources = build_resources(chinook)
    try:
        alice = resources.directory.get("alice")
        policy = resources.policy_for(alice)
        assert policy.search_path == ("public",)
        assert "public.invoice" in (policy.allowed_tables or ())
        catalog = resources.schema_catalog()
        names = {t.name for t in catalog.tables}
        assert "public.invoice_line" in names and not any(n.startswith("warehouse.")
                                                          for n in names)
        assert resources.planning.anchor.year == 2025  # the last invoice date
    finally:
        resources.close()
