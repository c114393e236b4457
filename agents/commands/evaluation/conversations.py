"""Conversations: turns asked one after the other, each with the previous answer as context.

`seed_data/eval/sql_conversations.yaml` holds conversations of 2 or 3 turns. Every turn after
the first is asked through `agents.ask.pipeline.ask` with `follow_up_of=` the previous turn's
answer_id (when `ask` takes that keyword; before it does, turns are asked alone and follow-ups
come out as whatever the pipeline makes of "and in 2022?" alone). The pipeline decides whether
a turn is a follow-up and sets `Answer.follow_up_of` when it used the context.

Each turn is judged like a question of the SQL sets (gold SQL, or `expect: honest`), or, with
`expected: <path>`, as a documents question: correct when a source of the answer is that
document (`verdicts.judge_document`). Each turn also says whether its right reading uses the
context (`follow_up`): a standalone turn answered with `follow_up_of` set is a context leak.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.commands.evaluation.rag_set import DEFAULT_USER
from agents.commands.evaluation.sql_sets import (
    EVAL_DIR,
    HONEST_EXPECTED,
    SqlEvalReport,
    SqlOutcome,
    SqlQuestion,
    check_users,
    judge_question,
    load_entries,
)
from agents.commands.evaluation.verdicts import judge_document
from agents.errors import ConfigError
from agents.language import detect_language
from agents.store.users import read_yaml

if TYPE_CHECKING:
    from agents.ask.answer import Answer
    from agents.resources import Resources

SQL_CONVERSATIONS = EVAL_DIR / "sql_conversations.yaml"
CONVERSATIONS_KEY = "conversations"
FOLLOW_UP_KEYWORD = "follow_up_of"


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[SqlQuestion, ...]  # each with `follow_up` set; ids "<conversation>#<n>"
    user: str | None = None


def is_conversations_file(path: Path) -> bool:
    """Does the file hold conversations (a top-level `conversations:` key)?"""
    data = read_yaml(path)
    return isinstance(data, dict) and CONVERSATIONS_KEY in data


def _turn_of(path: Path, where: str, n: int, item: object, lang: str | None,
             user: str | None) -> SqlQuestion:
    if not isinstance(item, dict) or not item.get("question"):
        raise ConfigError(f"{path}: {where} turn {n} needs `question`.")
    answers = [k for k in ("gold_sql", "expected", "expect") if item.get(k)]
    if len(answers) != 1:
        raise ConfigError(f"{path}: {where} turn {n} needs exactly one of `gold_sql`, "
                          f"`expected` (a document path) or `expect: {HONEST_EXPECTED}`.")
    if item.get("expect") and item["expect"] != HONEST_EXPECTED:
        raise ConfigError(f"{path}: {where} turn {n}: `expect` can only be {HONEST_EXPECTED!r}.")
    follow_up = item.get("follow_up")
    if n == 1 and follow_up:
        raise ConfigError(f"{path}: {where} turn 1 cannot be a follow-up.")
    if n > 1 and not isinstance(follow_up, bool):
        raise ConfigError(f"{path}: {where} turn {n} needs `follow_up: true` or `false`.")
    text = str(item["question"])
    return SqlQuestion(
        id=f"{where}#{n}",
        question=text,
        gold_sql=str(item.get("gold_sql") or "").strip(),
        lang=str(item.get("lang") or lang or detect_language(text)),
        ordered=bool(item.get("ordered", False)),
        user=user,
        expect=str(item["expect"]) if item.get("expect") else None,
        why=str(item.get("why") or ""),
        expected_document=str(item["expected"]) if item.get("expected") else None,
        follow_up=bool(follow_up),
    )


def _conversation_of(path: Path, n: int, item: object) -> Conversation:
    if not isinstance(item, dict) or not isinstance(item.get("turns"), list):
        raise ConfigError(f"{path}: conversation {n} needs `turns:` with a list of turns.")
    cid = str(item.get("id") or f"c{n}")
    if not 2 <= len(item["turns"]) <= 3:
        raise ConfigError(f"{path}: conversation {cid!r} needs 2 or 3 turns.")
    user = str(item["user"]) if item.get("user") else None
    lang = str(item["lang"]) if item.get("lang") else None
    turns = tuple(_turn_of(path, cid, i, turn, lang, user)
                  for i, turn in enumerate(item["turns"], start=1))
    return Conversation(cid, turns, user)


def load_conversations(path: Path) -> list[Conversation]:
    """Read a conversations file; ConfigError names the file and the faulty entry."""
    return load_entries(path, CONVERSATIONS_KEY, "conversation", _conversation_of)


def takes_follow_up(ask: Callable[..., Any]) -> bool:
    """Does this `ask` accept `follow_up_of=`? (Before the pipeline does, turns go alone.)"""
    try:
        return FOLLOW_UP_KEYWORD in inspect.signature(ask).parameters
    except (TypeError, ValueError):
        return False


def ask_turn(ask: Callable[..., Answer], question: str, login: str, resources: Resources,
             previous: str | None) -> Answer:
    """One turn, with the previous answer's id as context when there is one and `ask` takes it."""
    if previous is not None and takes_follow_up(ask):
        return ask(question, login, resources, **{FOLLOW_UP_KEYWORD: previous})
    return ask(question, login, resources)


def _judge_turn(turn: SqlQuestion, login: str, answer: Answer, resources: Resources,
                elapsed: float) -> SqlOutcome:
    took = bool(getattr(answer, FOLLOW_UP_KEYWORD, None))
    if turn.expected_document is None:
        judged = judge_question(turn, login, answer, resources, elapsed)
        return SqlOutcome(judged.question, judged.user, judged.outcome, judged.reason,
                          judged.sql, judged.elapsed_ms, judged.verdict, judged.shown,
                          took_context=took)
    verdict = judge_document(answer, turn.expected_document)
    return SqlOutcome(turn, login, verdict.outcome, verdict.reason, answer.sql, elapsed,
                      verdict.verdict, verdict.shown, took_context=took)


def evaluate_conversations(conversations: Sequence[Conversation], resources: Resources,
                           user: str | None = None, *,
                           progress: Callable[[SqlOutcome], None] | None = None
                           ) -> SqlEvalReport:
    """Ask every conversation turn by turn and judge each turn; one outcome per turn.

    A conversation's own `user` wins over `user` (default alice). Never raises for a failing
    turn; BadInput when a user is unknown (checked before the first question).
    """
    from agents.ask.pipeline import ask

    check_users([t for c in conversations for t in c.turns], resources, user)
    outcomes: list[SqlOutcome] = []
    for conversation in conversations:
        login = conversation.user or user or DEFAULT_USER
        previous: str | None = None
        for turn in conversation.turns:
            started = time.perf_counter()
            answer = ask_turn(ask, turn.question, login, resources, previous)
            elapsed = (time.perf_counter() - started) * 1000
            previous = answer.answer_id
            outcome = _judge_turn(turn, login, answer, resources, elapsed)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return SqlEvalReport(outcomes=tuple(outcomes), mode=resources.settings.mode)


def evaluate_conversations_file(path: Path, resources: Resources, user: str | None = None
                                ) -> SqlEvalReport:
    return evaluate_conversations(load_conversations(path), resources, user)
