"""The offline planner: a question in English or French -> a Plan over the semantic model -> SQL.

No language model is involved. The planner recognises metrics, dimensions, filter values, time
periods (years, quarters, months, ranges, relative periods anchored on the last date in the data),
rankings, comparisons and shares, and builds the SQL with sqlglot expressions: the question's
text never reaches the SQL except as literal values it matched against known ones.

When it cannot map a question with confidence it says so (Plan.confident is False) and the
pipeline offers close questions instead of running a half-understood guess.

Every word is accounted for: a content word no rule explains is named in Plan.not_understood
and makes the plan not confident; a typo of the model's names is read as the name (and said).

One module per stage, each a table of small rules run in order:
  vocabulary  the model's phrases as one compiled alternation, found in the question
  cues        the model's own cue words (verbs implying a metric, counted nouns...), compiled
  periods     time expressions -> periods (a table of pattern -> handler)
  limits      periods that do not exist, currencies the amounts are not in
  ranking     top / bottom N
  reading     the question's spans -> a first Reading;  rules: the rules that refine it
  words       the empty words of each language;  coverage: which words no rule explained
  typos       unexplained words read as the model's names, when one is unambiguous
  problems    the reasons not to run it (a table of predicate -> message)
  build       the Plan -> SQL;  explain: the sentence under the numbers, suggestions
  understood  the plan restated in the user's language
  followup    a follow-up question read against the previous ones (plan_follow_up)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from agents.language import normalize
from agents.messages import say
from agents.sql.planner.build import PlanningError, build_sql
from agents.sql.planner.coverage import echo
from agents.sql.planner.cues import ModelCues, build_cues
from agents.sql.planner.explain import explain, suggestions
from agents.sql.planner.followup import Leader, looks_like_follow_up, plan_follow_up
from agents.sql.planner.periods import MONTHS, TimeReading, parse_time
from agents.sql.planner.problems import find_problem, written
from agents.sql.planner.ranking import parse_ranking
from agents.sql.planner.reading import Reading
from agents.sql.planner.rules import read_question
from agents.sql.planner.typos import TypoIndex, build_typo_index, corrections
from agents.sql.planner.understood import understood_as
from agents.sql.planner.values import Period, Plan, Ranking
from agents.sql.planner.vocabulary import Match, Vocabulary, build_vocabulary
from agents.sql.planner.words import without_whole_company
from agents.sql.semantic_model import SemanticModel

__all__ = [
    "MONTHS",
    "Leader",
    "Period",
    "Plan",
    "PlanningContext",
    "PlanningError",
    "Ranking",
    "Reading",
    "TimeReading",
    "Vocabulary",
    "build_sql",
    "build_vocabulary",
    "explain",
    "looks_like_follow_up",
    "parse_ranking",
    "parse_time",
    "plan_follow_up",
    "plan_question",
    "suggestions",
]


class PlanningContext:
    """What the planner needs, built once per process: the model, its vocabulary and cues, and
    the dates the data covers (`start` when known, `anchor` the last one)."""

    def __init__(self, model: SemanticModel, anchor: date, start: date | None = None) -> None:
        self.model = model
        self.anchor = anchor
        self.start = start
        self.vocabulary = build_vocabulary(model)
        self.cues: ModelCues = build_cues(model)
        self.typos: TypoIndex = build_typo_index(model)


def _plan_of(reading: Reading, problem: str | None,
             fixes: tuple[tuple[str, str], ...]) -> Plan:
    return Plan(
        question=reading.question,
        lang=reading.lang,
        metrics=reading.metrics,
        dimensions=reading.dimensions,
        filters=reading.filters,
        period=reading.period,
        comparison=reading.comparison,
        ranking=reading.ranking,
        share=reading.share,
        assumptions=reading.assumptions,
        confident=problem is None,
        problem=problem,
        not_understood=echo([written(reading, left.words) for left in reading.leftovers]),
        corrections=fixes,
    )


def _read(question: str, ctx: PlanningContext, text: str) -> Reading:
    return read_question(question, ctx.model, ctx.vocabulary, ctx.cues,
                         (ctx.start, ctx.anchor), without_whole_company(text))


def _match_of(reading: Reading, word: str) -> Match | None:
    return next((m for m in reading.matches if word in reading.text[m.start:m.end].split()), None)


def _label(match: Match, model: SemanticModel, lang: str) -> str:
    if match.kind == "metric":
        return model.metrics[match.key].name(lang).lower()
    if match.kind == "dimension":
        return model.dimensions[match.key].name(lang).lower()
    return match.value or match.phrase


def _said(reading: Reading, again: Reading, kept: dict[str, str],
          model: SemanticModel) -> tuple[tuple[str, str], ...]:
    """(as written, as read) per corrected phrase: "« chifre d'affaire »" read as the name."""
    by_match: dict[Match, list[str]] = {}
    for word, read in kept.items():
        match = _match_of(again, read)
        if match is not None:
            by_match.setdefault(match, []).append(written(reading, word))
    return tuple((" ".join(words), _label(m, model, reading.lang)) for m, words in by_match.items())


def _corrected(question: str, ctx: PlanningContext,
               reading: Reading) -> tuple[Reading, tuple[tuple[str, str], ...]]:
    """The question re-read with its typos corrected, when a correction reads as a name."""
    words = [w for left in reading.leftovers for w in left.words.split()]
    fixes = corrections(words, ctx.typos)
    if not fixes:
        return reading, ()
    text = " ".join(fixes.get(w, w) for w in reading.text.split())
    again = _read(question, ctx, text)
    kept = {w: r for w, r in fixes.items() if _match_of(again, r) is not None}
    if not kept:
        return reading, ()
    if kept != fixes:
        again = _read(question, ctx, " ".join(kept.get(w, w) for w in reading.text.split()))
    return again, _said(reading, again, kept, ctx.model)


def read_with_fixes(question: str, ctx: PlanningContext,
                    text: str) -> tuple[Reading, tuple[tuple[str, str], ...]]:
    """The question's Reading (of `text`, its normalized form), its typos corrected."""
    reading = _read(question, ctx, text)
    if reading.leftovers:
        return _corrected(question, ctx, reading)
    return reading, ()


def finish_plan(reading: Reading, problem: str | None, fixes: tuple[tuple[str, str], ...],
                ctx: PlanningContext, follow_up: bool = False) -> Plan:
    """The Plan of a final Reading: restated, and its SQL built when it is confident."""
    plan = _plan_of(reading, problem, fixes)
    understood = understood_as(plan, ctx.model)
    if follow_up:
        understood = say("planner.understood.follow_up", plan.lang, understood=understood)
    plan = replace(plan, understood_as=understood)
    if not plan.confident:
        return plan
    try:
        return build_sql(plan, ctx.model)
    except PlanningError as exc:
        return replace(plan, confident=False, problem=exc.message(plan.lang))


def plan_question(question: str, ctx: PlanningContext) -> Plan:
    """Understand a question and build its SQL; Plan.confident says whether to run it."""
    reading, fixes = read_with_fixes(question, ctx, normalize(question))
    return finish_plan(reading, find_problem(reading, ctx.model), fixes, ctx)
