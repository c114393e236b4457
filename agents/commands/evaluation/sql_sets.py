"""The SQL evaluation sets: their questions, how each is asked, and the verdict on its answer.

Each question goes through `agents.ask.pipeline.ask`, exactly as a user's would. A question with
gold SQL has its rows compared with those of the gold SQL, which runs through the same guard
and read-only executor under the same user's role (a scoped user's row level security applies
to both sides). A question marked `expect: honest` has no gold: its right outcome is an honest
answer. `verdicts` says what correct, honest, confidently wrong and failed mean.

Three sets ship, reported apart (`sourced eval sql` runs them all):
- `sql_questions.yaml`: in-model questions, the planner's coverage; target >= 98% correct.
- `sql_out_of_model.yaml`: out-of-model and trap questions; target 0 confidently wrong and
  >= 95% correct (an honest answer is the correct one there).
- `sql_holdout.yaml`: in-model and honest-expected questions never tuned on; no target, the
  figure is what it is.
- `sql_conversations.yaml`: conversations of 2-3 turns (`conversations`), one outcome per turn;
  target >= 95% of follow-up turns right and 0 context leaks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from agents.commands.evaluation.rag_set import DEFAULT_USER
from agents.commands.evaluation.verdicts import (
    CORRECT,
    FAILED,
    PASS,
    WRONG,
    Judgement,
    Rows,
    judge_answer,
)
from agents.config import PROJECT_ROOT
from agents.errors import AssistantError, ConfigError
from agents.language import detect_language
from agents.store.users import read_yaml

if TYPE_CHECKING:
    from agents.ask.answer import Answer
    from agents.resources import Resources

EVAL_DIR = PROJECT_ROOT / "seed_data" / "eval"
SQL_QUESTIONS = EVAL_DIR / "sql_questions.yaml"
SQL_OUT_OF_MODEL = EVAL_DIR / "sql_out_of_model.yaml"
SQL_HOLDOUT = EVAL_DIR / "sql_holdout.yaml"
HONEST_EXPECTED = "honest"


@dataclass(frozen=True)
class SqlQuestion:
    id: str
    question: str
    gold_sql: str  # "" when the question expects an honest answer
    lang: str
    ordered: bool = False
    user: str | None = None
    expect: str | None = None  # "honest": no number may be shown as the answer
    why: str = ""  # for an honest-expected question: what an answer with a number gets wrong
    # A conversation turn whose right answer cites this document (path under seed_data/docs).
    expected_document: str | None = None
    # A conversation turn: does its right reading use the earlier turns? None: not a turn.
    follow_up: bool | None = None

    @property
    def expects_honest(self) -> bool:
        return self.expect == HONEST_EXPECTED


def _question_of(path: Path, n: int, item: object) -> SqlQuestion:
    if not isinstance(item, dict) or not item.get("question"):
        raise ConfigError(f"{path}: question {n} needs `question` and `gold_sql` "
                          f"(or `expect: {HONEST_EXPECTED}`).")
    expect = item.get("expect")
    if expect is not None and expect != HONEST_EXPECTED:
        raise ConfigError(f"{path}: question {n}: `expect` can only be {HONEST_EXPECTED!r}.")
    if bool(expect) == bool(item.get("gold_sql")):
        # Both would contradict each other; neither leaves nothing to judge the answer by.
        raise ConfigError(f"{path}: question {n} needs `question` and either `gold_sql` or "
                          f"`expect: {HONEST_EXPECTED}`, not both.")
    text = str(item["question"])
    return SqlQuestion(
        id=str(item.get("id") or f"q{n}"),
        question=text,
        gold_sql=str(item.get("gold_sql") or "").strip(),
        lang=str(item.get("lang") or detect_language(text)),
        ordered=bool(item.get("ordered", False)),
        user=str(item["user"]) if item.get("user") else None,
        expect=str(expect) if expect else None,
        why=str(item.get("why") or ""),
    )


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_HasId)


def load_entries(path: Path, key: str, noun: str,
                 entry_of: Callable[[Path, int, Any], E]) -> list[E]:
    """The list under `key` of an evaluation file, each item read by `entry_of`; ConfigError
    names the file and the faulty entry, or an id used twice."""
    data = read_yaml(path)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: expected `{key}:` with a list of {noun}s.")
    entries: list[E] = []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        entry = entry_of(path, n, item)
        if entry.id in seen:
            raise ConfigError(f"{path}: {noun} id {entry.id!r} is used twice.")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def load_sql_questions(path: Path) -> list[SqlQuestion]:
    """Read an SQL evaluation file; ConfigError names the file and the faulty entry."""
    return load_entries(path, "questions", "question", _question_of)


@dataclass(frozen=True)
class SqlOutcome:
    question: SqlQuestion
    user: str
    outcome: str  # pass | miss | refused | error
    reason: str = ""
    sql: str | None = None
    elapsed_ms: float = 0.0
    verdict: str = ""  # correct | honest | confidently wrong | failed
    shown: str = ""  # what a confidently wrong answer showed
    took_context: bool = False  # a conversation turn answered with `Answer.follow_up_of` set


@dataclass(frozen=True)
class SqlEvalReport:
    outcomes: tuple[SqlOutcome, ...]
    mode: str

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def verdicts(self, verdict: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    def share(self, verdict: str) -> float:
        return self.verdicts(verdict) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def accuracy(self) -> float:
        """Passes over all questions: the correct share (refusals and errors are misses)."""
        return self.count(PASS) / len(self.outcomes) if self.outcomes else 0.0

    def accuracy_for(self, lang: str) -> float:
        subset = [o for o in self.outcomes if o.question.lang == lang]
        return sum(o.outcome == PASS for o in subset) / len(subset) if subset else 0.0

    @property
    def turns(self) -> tuple[SqlOutcome, ...]:
        """The outcomes of conversation turns (empty for a set of single questions)."""
        return tuple(o for o in self.outcomes if o.question.follow_up is not None)

    @property
    def follow_ups(self) -> tuple[SqlOutcome, ...]:
        return tuple(o for o in self.outcomes if o.question.follow_up)

    @property
    def follow_ups_right(self) -> int:
        return sum(1 for o in self.follow_ups if o.verdict == CORRECT)

    @property
    def leaks(self) -> tuple[SqlOutcome, ...]:
        """Standalone turns answered with the previous answer as context."""
        return tuple(o for o in self.turns if o.question.follow_up is False and o.took_context)

    @property
    def wrong(self) -> tuple[SqlOutcome, ...]:
        return tuple(o for o in self.outcomes if o.verdict == WRONG)

    @property
    def failed(self) -> tuple[SqlOutcome, ...]:
        return tuple(o for o in self.outcomes if o.verdict == FAILED)


def run_gold(question: SqlQuestion, user_login: str,
             resources: Resources) -> tuple[list[str], Rows]:
    """The gold rows, through the guard and the read-only executor, as the user's role."""
    from agents.sql.executor import run_query
    from sql_guard import check

    if not question.gold_sql:
        raise AssistantError(f"question {question.id!r} has no gold SQL (it expects an honest "
                             "answer)")
    user = resources.directory.get(user_login)
    verdict = check(question.gold_sql, resources.policy_for(user))
    if not verdict.allowed:
        raise AssistantError(f"the guard refused the gold SQL: {verdict.reason}")
    result = run_query(verdict, resources.reader_pool(user),
                       statement_timeout_ms=resources.settings.statement_timeout_ms,
                       max_rows=resources.settings.max_rows)
    return result.columns, result.rows


def evaluate_sql(questions_path: Path, resources: Resources, user: str | None = None, *,
                 progress: Callable[[SqlOutcome], None] | None = None) -> SqlEvalReport:
    """Ask every question of the file through the pipeline and judge each answer.

    `resources` are the shared agents.resources.Resources (the mode they were built in is the
    mode evaluated: offline unless a model is configured). A question's own `user` wins over
    `user`, which defaults to alice. Never raises for a failing question: it becomes an outcome.
    Each answer is logged in app.query_log like any other (bench/ask.py uses its own database).
    BadInput when a user is unknown, ConfigError when the file is malformed.
    """
    questions = load_sql_questions(questions_path)
    check_users(questions, resources, user)
    return evaluate_questions(questions, resources, user, progress=progress)


def check_users(questions: Sequence[SqlQuestion], resources: Resources,
                user: str | None) -> None:
    """BadInput for an unknown user, before a run that would stop half-way."""
    for login in sorted({q.user or user or DEFAULT_USER for q in questions}):
        resources.directory.get(login)


def evaluate_questions(questions: Sequence[SqlQuestion], resources: Resources,
                       user: str | None = None, *,
                       progress: Callable[[SqlOutcome], None] | None = None) -> SqlEvalReport:
    from agents.ask.pipeline import ask

    outcomes: list[SqlOutcome] = []
    for question in questions:
        login = question.user or user or DEFAULT_USER
        started = time.perf_counter()
        answer = ask(question.question, login, resources)
        elapsed = (time.perf_counter() - started) * 1000
        outcome = judge_question(question, login, answer, resources, elapsed)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return SqlEvalReport(outcomes=tuple(outcomes), mode=resources.settings.mode)


def judge_question(question: SqlQuestion, login: str, answer: Answer, resources: Resources,
                   elapsed: float) -> SqlOutcome:
    def gold() -> Rows:
        return run_gold(question, login, resources)[1]

    judged: Judgement = judge_answer(answer, None if question.expects_honest else gold,
                                     ordered=question.ordered)
    return SqlOutcome(question, login, judged.outcome, judged.reason, answer.sql, elapsed,
                      judged.verdict, judged.shown)


# ---------------------------------------------------------------- the shipped sets


@dataclass(frozen=True)
class EvalSet:
    """One shipped set, with the targets its figures are held to (None: no target)."""

    name: str
    path: Path
    min_correct: float | None = None
    max_wrong: int | None = None
    note: str = ""
    conversations: bool = False  # the file holds `conversations:`, one outcome per turn
    min_follow_up: float | None = None  # share of follow-up turns right
    max_leaks: int | None = None  # standalone turns answered with the previous one's context

    @property
    def has_target(self) -> bool:
        return any(t is not None for t in (self.min_correct, self.max_wrong,
                                           self.min_follow_up, self.max_leaks))

    def misses_target(self, report: SqlEvalReport) -> list[str]:
        """The targets the report misses, in words; empty when all are met (or none is set)."""
        missed = []
        if self.min_correct is not None and report.share(CORRECT) < self.min_correct:
            missed.append(f"correct below {100 * self.min_correct:.0f}%")
        if self.max_wrong is not None and report.verdicts(WRONG) > self.max_wrong:
            missed.append(f"more than {self.max_wrong} confidently wrong")
        follow_ups = len(report.follow_ups)
        if (self.min_follow_up is not None and follow_ups
                and report.follow_ups_right / follow_ups < self.min_follow_up):
            missed.append(f"follow-up turns right below {100 * self.min_follow_up:.0f}%")
        if self.max_leaks is not None and len(report.leaks) > self.max_leaks:
            missed.append(f"more than {self.max_leaks} context leaks")
        return missed


EVAL_SETS: tuple[EvalSet, ...] = (
    EvalSet("in-model (shipped)", SQL_QUESTIONS, min_correct=0.98),
    EvalSet("out-of-model and traps", SQL_OUT_OF_MODEL, min_correct=0.95, max_wrong=0,
            note="correct = an honest answer, the only right one here"),
    EvalSet("holdout (never tuned on)", SQL_HOLDOUT,
            note="no target: wording nobody fitted the assistant to"),
    EvalSet("conversations (follow-ups)", EVAL_DIR / "sql_conversations.yaml",
            conversations=True, min_follow_up=0.95, max_leaks=0,
            note="one line per turn; each turn asked with the previous answer as context"),
)


@dataclass(frozen=True)
class SetResult:
    eval_set: EvalSet
    report: SqlEvalReport


def evaluate_sets(resources: Resources, user: str | None = None,
                  sets: Sequence[EvalSet] = EVAL_SETS) -> tuple[SetResult, ...]:
    """Every set in turn; all files are read and all users checked before the first question."""
    from agents.commands.evaluation.conversations import (
        Conversation,
        evaluate_conversations,
        load_conversations,
    )

    loaded: list[tuple[EvalSet, list[SqlQuestion], list[Conversation]]] = []
    for spec in sets:
        talks = load_conversations(spec.path) if spec.conversations else []
        questions = ([t for c in talks for t in c.turns] if spec.conversations
                     else load_sql_questions(spec.path))
        check_users(questions, resources, user)
        loaded.append((spec, questions, talks))
    return tuple(SetResult(spec, evaluate_conversations(talks, resources, user)
                           if spec.conversations else
                           evaluate_questions(questions, resources, user))
                 for spec, questions, talks in loaded)
