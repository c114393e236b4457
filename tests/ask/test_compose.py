"""Answer composition from frozen parts, without a database: what each route's answer joins,
what a failure keeps, and the exact error strings the query log stores."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from agents.ask.answer import Fault, Source
from agents.ask.compose import compose, failure_of
from agents.ask.parts import MODEL_DOWN, DataPart, DocsPart, Refusal, SqlTrace, Table
from agents.ask.turn import Timings, Turn
from agents.errors import GuardRejected, ProviderError
from agents.language import Lang
from agents.resources import Resources
from agents.sql.executor import QueryResult
from agents.store.users import User


class _Embedder:
    name = "fake"
    dimension = 2

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Any) -> np.ndarray:
        self.calls += 1
        return np.ones((len(texts), 2), dtype=np.float32)


def _turn(lang: Lang = "en") -> Turn:
    resources = SimpleNamespace(settings=SimpleNamespace(mode="offline"), embedder=_Embedder())
    return Turn("revenue in 2018?", lang, User("emma", "Emma"),
                cast(Resources, resources), None, None, run_query=cast(Any, None),
                retrieve_chunks=cast(Any, None), timings=Timings())


SOURCE = Source(1, "Annual report", "reports/annual.md", None, None, "2026-01-01", 0.5, "text")
TRACE = SqlTrace(source="planner", sql="SELECT 1", explanation="why", guard_allowed=True)
TABLE = Table(QueryResult(["revenue"], [(5,)], truncated=False, row_cap=None, elapsed_ms=1.0),
              {"revenue": "Revenue"}, {"revenue": "eur"})


def test_both_joins_the_data_then_the_documents_and_keeps_the_data_fault() -> None:
    data = DataPart("Revenue: **€5**.", TRACE, TABLE, ("a hint",), Fault("not_understood"))
    docs = DocsPart("The report says so [1].", (SOURCE,))
    answer = compose(_turn(), "both", [data, docs], None, variant=None, regenerated_from=None)
    assert answer.text == "Revenue: **€5**.\n\nThe report says so [1]."
    assert answer.error == "not_understood" and answer.origin == "from the warehouse and documents"
    assert (answer.sql, answer.sql_source, answer.rows, answer.sources) == (
        "SELECT 1", "planner", [(5,)], [SOURCE])
    assert answer.column_formats == {"revenue": "eur"} and answer.suggestions == ["a hint"]
    with_docs_fault = compose(_turn(), "both", [data, DocsPart("x", (SOURCE,), MODEL_DOWN)],
                              None, variant=None, regenerated_from=None)
    assert with_docs_fault.error == "ProviderError"


def test_a_refusal_runs_nothing_and_has_no_origin() -> None:
    answer = compose(_turn(), "refused", [Refusal("Sorry.", "jokes")], None, variant="b",
                     regenerated_from="a1")
    assert (answer.text, answer.refusal_reason, answer.origin, answer.error) == (
        "Sorry.", "jokes", "", None)
    assert (answer.variant, answer.regenerated_from, answer.rows, answer.sql) == (
        "b", "a1", [], None)
    assert list(answer.timings_ms) == ["total"] and answer.tokens is None


def test_a_failure_keeps_what_ran_and_puts_its_message_first() -> None:
    data = DataPart("Revenue: **€5**.", TRACE, TABLE)
    stopped_docs = DocsPart("", (SOURCE,))
    failure = failure_of(GuardRejected("Blocked."), [data, stopped_docs], "en")
    answer = compose(_turn(), "both", [data, stopped_docs], failure, variant=None,
                     regenerated_from=None)
    assert answer.text == "Blocked.\n\nRevenue: **€5**." and answer.error == "GuardRejected"
    assert answer.sql == "SELECT 1" and answer.sources == [SOURCE]

    blocked = DataPart("", SqlTrace(source="llm", sql="DROP", guard_allowed=False,
                                    guard_reason="not a SELECT"))
    alone = compose(_turn(), "sql", [blocked], failure_of(GuardRejected("No."), [blocked], "en"),
                    variant=None, regenerated_from=None)
    assert (alone.text, alone.sql, alone.guard_allowed, alone.guard_reason) == (
        "No.", "DROP", False, "not a SELECT")


@pytest.mark.parametrize("lang, text", [
    ("en", "Sorry, an internal error prevented an answer. It has been logged."),
    ("fr", "Désolé, une erreur interne m'empêche de répondre. Elle a été consignée."),
])
def test_a_bug_ends_as_an_apology_logged_as_internal(lang: str, text: str) -> None:
    failure = failure_of(ValueError("boom"), [DataPart("partial")], lang)
    assert (failure.text, failure.fault.code) == (text, "internal: ValueError")


def test_error_codes_are_the_strings_the_log_stores() -> None:
    assert [Fault(k).code for k in ("bad_input", "not_understood", "log_failed")] == [
        "bad_input", "not_understood", "log_failed"]
    assert Fault.of(ProviderError("down")).code == MODEL_DOWN.code == "ProviderError"
    assert Fault.of(KeyError("x")).code == "internal: KeyError"


def test_timings_add_up_a_stage_run_twice_even_when_it_raises() -> None:
    timings = Timings()
    assert timings.timed("llm_answer", lambda: 3) == 3
    with pytest.raises(ZeroDivisionError):
        timings.timed("llm_answer", lambda: 1 / 0)
    timings.count(None)
    timings.count(7)
    assert list(timings.with_total()) == ["llm_answer", "total"] and timings.tokens == 7


def test_the_question_is_embedded_once_and_timed_as_embed() -> None:
    turn = _turn()
    assert turn.vector is turn.vector
    assert turn.resources.embedder.calls == 1  # type: ignore[attr-defined]
    assert "embed" in turn.timings.stages
