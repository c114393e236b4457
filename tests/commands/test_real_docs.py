"""The real-documents evaluation: its question file, its figures, and that it leaves no trace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.commands.evaluation import (
    REAL_QUESTIONS,
    RealEvalReport,
    evaluate_real_docs,
    format_real_report,
    load_real_questions,
)
from agents.errors import ConfigError
from agents.language import detect_language

# Floors a question or so below the shipped figures measured when this was written (README,
# "Documents on real documents": hit@5 0.970, fact 0.879, refused 0.875 of 8; before issue 16
# 0.939, 0.606, 0.375): the HNSW graph is rebuilt for each test session.
SHIPPED_FLOORS = {"hit@5": 0.93, "fact": 0.84, "refused": 0.75}


def test_the_shipped_set_is_the_size_the_issue_asks_for() -> None:
    corpus, questions = load_real_questions(REAL_QUESTIONS)
    answerable = [q for q in questions if q.expected]
    documents = {p.name for p in corpus.glob("[a-z][a-z]_*.md")}
    assert len(questions) >= 40 and len(questions) - len(answerable) >= 10
    assert {q.lang for q in questions} == {"en", "fr"}
    crossed = [q for q in answerable if q.expected and q.lang != q.expected[:2]]
    assert len(crossed) >= 10
    assert {q.expected for q in answerable} <= documents
    holdout = [q for q in questions if q.holdout]
    assert 0.2 <= len(holdout) / len(questions) <= 0.35
    assert all(detect_language(q.question) in {"en", "fr"} for q in questions)
    assert (corpus / "LICENSES").is_dir() and (corpus / "README.md").is_file()


def test_malformed_real_sets_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    path = tmp_path / "real.yaml"
    path.write_text("corpus: docs\nquestions:\n  - {question: x, expected: a.md}\n")
    with pytest.raises(ConfigError, match="keys"):
        load_real_questions(path)
    path.write_text("corpus: nowhere\nquestions: []\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_real_questions(path)


@pytest.fixture(scope="module")
def real_report(resources: Any) -> RealEvalReport:
    return evaluate_real_docs(REAL_QUESTIONS, resources)


def test_real_documents_figures(real_report: RealEvalReport) -> None:
    shipped = real_report.shipped
    text = format_real_report(real_report)
    assert shipped.hit_at(real_report.k) >= SHIPPED_FLOORS["hit@5"], text
    assert shipped.fact_rate >= SHIPPED_FLOORS["fact"], text
    assert shipped.refused_rate >= SHIPPED_FLOORS["refused"], text
    assert "holdout" in text and len(real_report.holdout.outcomes) > 0


def test_the_corpus_is_gone_after_the_run(real_report: RealEvalReport, resources: Any) -> None:
    with resources.app_pool.connection() as conn:
        left = conn.execute("SELECT count(*) FROM app.documents WHERE 'sourced-eval-real-docs'"
                            " = ANY(acl_groups)").fetchone()
    assert left == (0,)
