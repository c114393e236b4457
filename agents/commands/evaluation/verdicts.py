"""Every answer of an SQL evaluation is correct, honest or confidently wrong (or failed).

- correct: a question with gold SQL got rows that match the gold rows (`compare_results`); a
  question marked `expect: honest` got an honest answer.
- honest: no number is presented as the answer. The assistant refused (route "refused"), said
  it did not understand (error "not_understood"), or said plainly it cannot answer: an error
  that is a stated limit (the guard blocked the query, the query timed out, bad input, or any
  other kind `agents.ask.answer.ErrorKind` names), no table, or an empty table (all its cells
  empty counts as empty: "—" is not a figure). For a question with gold SQL, honest is not
  correct, but it is not wrong either.
- confidently wrong: a figure shown that does not match the gold rows, any figure at all for an
  `expect: honest` question, or document excerpts shown in reply to a data question (unrelated
  text presented as the answer; a documents answer with no sources is honest).
- a documents question (a conversation turn with `expected: <path>`, `judge_document`): correct
  when a source of the answer is that document; confidently wrong when other documents or a
  figure are shown as the answer; honest when it says it found nothing or refuses.
- failed: the pipeline broke (an "internal: ..." error, or a database, model, index or store
  failure) or the gold SQL did not run. Reported apart: it is neither a claim nor a limit.

Each verdict also carries the finer outcome the accuracy table always printed: pass, miss,
refused or error (for an `expect: honest` question, pass when the answer was honest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any, get_args

from agents.commands.evaluation.compare import compare_results
from agents.commands.evaluation.rag_set import is_document
from agents.errors import AssistantError

if TYPE_CHECKING:
    from agents.ask.answer import Answer

CORRECT, HONEST, WRONG, FAILED = "correct", "honest", "confidently wrong", "failed"
VERDICTS = (CORRECT, HONEST, WRONG, FAILED)
PASS, MISS, REFUSED, ERROR = "pass", "miss", "refused", "error"

# Stage errors (AssistantError class names) that are limits the answer states to the user:
# the guard blocked the statement, it ran out of time, the input could not be read.
STATED_LIMITS = frozenset({"GuardRejected", "QueryTimeout", "BadInput"})
# ErrorKind values that are no statement about the question: a bug, a stage's class name (judged
# by STATED_LIMITS), and a log row that failed while the answer itself stood.
_NOT_LIMITS = frozenset({"internal", "stage_error", "log_failed"})

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Judgement:
    verdict: str  # one of VERDICTS
    outcome: str  # pass | miss | refused | error
    reason: str = ""
    shown: str = ""  # what the answer showed, for a confidently wrong one


@cache
def _limit_kinds() -> frozenset[str]:
    # Read from the answer's own list, so a kind added there ("out_of_model", say) counts as a
    # stated limit without touching the evaluation. Imported late: agents.ask is heavy to load.
    from agents.ask.answer import ErrorKind

    return frozenset(get_args(ErrorKind)) - _NOT_LIMITS


def is_stated_limit(code: str) -> bool:
    """Is this `Answer.error` a limit told to the user rather than a crash?"""
    return code in STATED_LIMITS or code in _limit_kinds()


def _first_line(text: str, width: int = 120) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _has_figures(rows: Sequence[Sequence[Any]]) -> bool:
    return any(v is not None for row in rows for v in row)


def shown_by(answer: Answer) -> str:
    """What the user saw as the answer, in one line: the sentence and first row, or excerpts."""
    if answer.rows:
        first = ", ".join("" if v is None else str(v) for v in answer.rows[0])
        count = len(answer.rows)
        shown = f"{_first_line(answer.text)} [{count} row{'s' if count != 1 else ''}; {first}]"
        # A figure shown beside the words it did not understand is still shown as the answer;
        # naming those words tells the developer how close it came to saying so instead.
        unread = getattr(answer, "not_understood", None) or ()
        return shown + (f" (not understood: {', '.join(unread)})" if unread else "")
    if answer.sources:
        return "excerpts: " + "; ".join(s.title for s in answer.sources[:3])
    return _first_line(answer.text)


def _without_figures(answer: Answer) -> Judgement | None:
    """The judgement of an answer that shows no figure; None when there is a table to judge."""
    route = answer.route
    code = answer.error if answer.error != "log_failed" else None
    said = f"{code}: {_first_line(answer.text)}" if code else ""
    # A bug is a failure whatever it looks like: the apology for one may come as a refusal.
    crashed = code is not None and code.startswith("internal")
    if code and (crashed or (route == "refused" and not is_stated_limit(code))):
        return Judgement(FAILED, ERROR, said)
    if route == "refused":
        return Judgement(HONEST, REFUSED,
                         f"refused: {answer.refusal_reason or _first_line(answer.text, 80)}")
    if code == "not_understood":
        return Judgement(HONEST, REFUSED, f"not understood: {answer.explanation or 'no plan'}")
    if answer.columns and _has_figures(answer.rows):
        return None
    if answer.sources:
        return Judgement(WRONG, MISS, f"document excerpts shown for a data question (route "
                                      f"{route})", shown_by(answer))
    if code:
        return Judgement(HONEST if is_stated_limit(code) else FAILED, ERROR, said)
    if answer.columns:
        return None  # an empty table: it says "nothing matches", right or wrong
    return Judgement(HONEST, MISS, f"no table in the answer (route {route})")


def judge_answer(answer: Answer, gold_rows: Callable[[], Rows] | None, *,
                 ordered: bool = False) -> Judgement:
    """The verdict on one answer. `gold_rows` runs the gold SQL; None for `expect: honest`.

    The gold SQL only runs when the answer shows a table: an AssistantError it raises makes
    the verdict failed ("gold SQL failed: ...").
    """
    plain = _without_figures(answer)
    if gold_rows is None:
        return _judge_expecting_honest(answer, plain)
    if plain is not None:
        return plain
    try:
        gold = gold_rows()
    except AssistantError as exc:
        return Judgement(FAILED, ERROR, f"gold SQL failed: {exc.user_message}")
    verdict = compare_results(gold, answer.rows, ordered=ordered)
    if verdict.match:
        return Judgement(CORRECT, PASS)
    return Judgement(WRONG, MISS, verdict.reason, shown_by(answer))


def _judge_expecting_honest(answer: Answer, plain: Judgement | None) -> Judgement:
    if plain is None and _has_figures(answer.rows):
        return Judgement(WRONG, MISS, "a figure was shown for a question the data cannot answer",
                         shown_by(answer))
    if plain is None:
        return Judgement(CORRECT, PASS, "an empty table: nothing shown as the answer")
    if plain.verdict == HONEST:
        return replace(plain, verdict=CORRECT, outcome=PASS)
    return plain


def judge_document(answer: Answer, expected: str) -> Judgement:
    """The verdict on the answer to a documents question: does it cite the expected document?"""
    code = answer.error if answer.error != "log_failed" else None
    said = f"{code}: {_first_line(answer.text)}" if code else ""
    if code is not None and not is_stated_limit(code):
        return Judgement(FAILED, ERROR, said)
    paths = [s.path for s in answer.sources]
    if any(is_document(path, expected) for path in paths):
        return Judgement(CORRECT, PASS)
    if paths:
        return Judgement(WRONG, MISS, f"cites {', '.join(paths[:3])}, expected {expected}",
                         shown_by(answer))
    if answer.columns and _has_figures(answer.rows):
        return Judgement(WRONG, MISS, f"a figure shown for a documents question (expected "
                                      f"{expected})", shown_by(answer))
    if answer.route == "refused":
        return Judgement(HONEST, REFUSED,
                         f"refused: {answer.refusal_reason or _first_line(answer.text, 80)}")
    return Judgement(HONEST, MISS, said or f"no document cited (route {answer.route}), "
                                           f"expected {expected}")
