"""Follow-up questions: the conversation an answer continues, read back from the query log.

A follow-up names the earlier answer it continues (`ask(..., follow_up_of=...)`). The chain is
read back (at most 3 turns, only the asker's own rows), then:

- data: the planner reads the follow-up with the earlier questions (`plan_follow_up`); its Plan,
  when it returns one, replaces the question's own;
- documents: after a documents answer, a question that looks like a follow-up is retrieved with
  the earlier question's words too;
- with a model, a follow-up the planner could not make confident is first rewritten into a
  standalone question (prompt `follow_up_v1`), which then goes the usual way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from agents.ask.router import Route, route_question
from agents.ask.turn import Turn
from agents.errors import AssistantError, BadInput, ProviderError
from agents.language import detect_language
from agents.messages import say
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, complete
from agents.resources import Resources
from agents.sql.planner import (
    Leader,
    Plan,
    PlanningContext,
    looks_like_follow_up,
    plan_follow_up,
    plan_question,
)
from agents.store.query_log import EarlierTurn, earlier_turns
from sql_guard import check

log = logging.getLogger("sourced.ask")

MAX_TURNS = 3
PROMPT_CHARS = 1_500 * 4  # ~1,500 tokens of conversation at 4 characters each
SQL_CHARS = 1_200


@dataclass(frozen=True)
class Conversation:
    """The earlier answer a question follows (`of`) and the turns up to it, oldest first."""

    of: str
    turns: tuple[EarlierTurn, ...]

    @property
    def questions(self) -> list[str]:
        return [t.asked for t in self.turns]

    @property
    def last(self) -> EarlierTurn:
        return self.turns[-1]


def conversation(resources: Resources, follow_up_of: str, user: str,
                 question: str) -> Conversation | None:
    """The chain ending at `follow_up_of`; BadInput when it is not one of `user`'s answers
    (the same sentence whether it does not exist or belongs to someone else). A refused
    question is no context: the chain starts after the last one, and a question right after
    one stands alone (None), so nothing of "delete all orders from 2019" reaches the next."""
    turns = earlier_turns(resources.app_pool, follow_up_of, user, limit=MAX_TURNS)
    if not turns:
        raise BadInput(say("ask.follow_up_unknown", detect_language(question)))
    refused = [i for i, t in enumerate(turns) if t.route == "refused"]
    kept = turns[refused[-1] + 1:] if refused else turns
    if not kept:
        return None
    return Conversation(kept[-1].answer_id, tuple(kept))


def planned_follow_up(question: str, history: Sequence[str], ctx: PlanningContext,
                      leader: Leader | None = None) -> Plan | None:
    """The planner's Plan of the follow-up read with its history; None when it stands alone."""
    return plan_follow_up(question, history, ctx, leader)


def first_row_of(turn: Turn, earlier: EarlierTurn) -> Leader:
    """The earlier answer's first row, read again when the planner asks for it (once): its SQL
    checked by the guard and run as this user's reader, like any answer (so it sees only the
    user's rows). A failure leaves the value unknown, and the planner asks for it instead."""
    row = cache(lambda: _first_row(turn, earlier.sql or ""))
    return lambda column: row().get(column)


def _first_row(turn: Turn, sql: str) -> dict[str, str | None]:
    if not sql:
        return {}
    verdict = check(sql, turn.resources.policy_for(turn.user))
    if not verdict.allowed:
        return {}
    try:
        result = turn.execute(verdict)
    except AssistantError as exc:
        log.warning("previous answer not re-read for a drill-down: %s", exc.detail)
        return {}
    if not result.rows:
        return {}
    return {column: None if cell is None else str(cell)
            for column, cell in zip(result.columns, result.rows[0], strict=True)}


def is_follow_up(question: str) -> bool:
    """Whether the question reads as a follow-up ("and in 2019?", "et pour la France ?")."""
    return looks_like_follow_up(question)


def docs_search_text(convo: Conversation, question: str, plan: Plan) -> str | None:
    """What to retrieve for a follow-up of a documents answer: both questions' words. A short
    question naming a metric of its own ("New customers by month in 2024") is a data question,
    not a fragment of the documents' topic: read as one, it got the outage post-mortem."""
    if convo.last.route != "docs" or plan.metrics or not is_follow_up(question):
        return None
    return f"{convo.last.asked} {question}"


def turns_block(turns: Sequence[EarlierTurn]) -> str:
    """The last turns for the rewrite prompt, newest kept first, within PROMPT_CHARS."""
    blocks: list[str] = []
    used = 0
    for turn in reversed(turns[-MAX_TURNS:]):
        lines = [f"Question: {turn.asked}"]
        if turn.understood_as:
            lines.append(f"Understood as: {turn.understood_as}")
        if turn.sql:
            sql = turn.sql if len(turn.sql) <= SQL_CHARS else turn.sql[:SQL_CHARS] + " …"
            lines.append(f"SQL: {sql}")
        block = "\n".join(lines)
        if used + len(block) > PROMPT_CHARS:
            if not blocks:  # the last turn always goes in, cut to the budget
                blocks.append(block[:PROMPT_CHARS])
            break
        blocks.append(block)
        used += len(block) + 2
    return "\n\n".join(reversed(blocks))


def rewritten(model: ChatModel, convo: Conversation, question: str,
              language: str) -> tuple[str | None, int | None]:
    """The model's standalone question and its tokens; (None, None) when it gave none."""
    system, user = load_prompt("follow_up_v1").render(
        language=language, turns=turns_block(convo.turns), question=question)
    try:
        reply = complete(model, system, user)
    except ProviderError as exc:
        log.warning("follow-up rewrite unavailable, answered alone: %s", exc.detail)
        return None, None
    text = " ".join(reply.text.split()).strip("\"'«» ")
    if not text or len(text) > 2_000:
        return None, reply.tokens
    return text, reply.tokens


@dataclass(frozen=True)
class Reading:
    """A question read in its conversation: the turn and plan to answer it with, the route
    when the conversation decides it, and whether the answer continues the conversation."""

    turn: Turn
    plan: Plan | None = None
    route: Route | None = None
    linked: bool = False
    standalone: str | None = None


def read_follow_up(turn: Turn, convo: Conversation, plan: Plan) -> Reading:
    """After a documents answer, the documents' follow-up; else the planner's follow-up plan
    (with a model, only a confident one), else the model's rewrite, else the planner's
    unconfident plan (its honest answer), else the question alone (no link recorded)."""
    question, ctx = turn.question, turn.resources.planning
    # After a documents answer, a fragment continues the documents' topic: no data plan for it.
    search = docs_search_text(convo, question, plan)
    if search is not None:
        return Reading(replace(turn, search_text=search), plan, _forced(turn, "docs"),
                       linked=True)
    followed = turn.timed("plan", lambda: planned_follow_up(
        question, convo.questions, ctx, first_row_of(turn, convo.last)))
    if followed is not None and (followed.confident or turn.model is None):
        return Reading(turn, followed, _forced(turn, "sql"), linked=True)
    if turn.model is not None and (followed is not None
                                   or (not plan.confident and is_follow_up(question))):
        model = turn.model
        standalone, tokens = turn.timed("follow_up_llm", lambda: rewritten(
            model, convo, question, turn.language_name))
        turn.timings.count(tokens)
        if standalone is not None:
            again = replace(turn, question=standalone)
            replanned = turn.timed("plan", lambda: plan_question(standalone, ctx))
            return Reading(again, replanned, linked=True, standalone=standalone)
    if followed is not None:
        return Reading(turn, followed, _forced(turn, "sql"), linked=True)
    return Reading(turn, plan)


def _forced(turn: Turn, route: str) -> Route:
    """The conversation's route, unless the question's own words are refused (they stand)."""
    own = route_question(turn.question, has_metric=route == "sql")
    if own.route == "refused":
        return own
    if route == "sql":
        return Route("sql", "a follow-up of a data question")
    return Route("docs", "a follow-up of a documents answer")
