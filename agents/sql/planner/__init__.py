"""The offline planner: a question in English or French -> a Plan over the semantic model -> SQL.

No language model is involved. The planner recognises metrics, dimensions, filter values, time
periods (years, quarters, months, ranges, relative periods anchored on the last date in the data),
rankings, comparisons and shares, and builds the SQL with sqlglot expressions: the question's
text never reaches the SQL except as literal values it matched against known ones.

When it cannot map a question with confidence it says so (Plan.confident is False) and the
pipeline offers close questions instead of running a half-understood guess.

One module per stage, each a table of small rules run in order:
  vocabulary  the model's phrases as one compiled alternation, found in the question
  periods     time expressions -> periods (a table of pattern -> handler)
  ranking     top / bottom N
  reading     the phrases -> a Reading (metrics, dimensions, filters, period...), rule by rule
  problems    the reasons not to run it (a table of predicate -> message)
  build       the Plan -> SQL;  explain: the sentence under the numbers, suggestions
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from agents.sql.planner.build import PlanningError, build_sql
from agents.sql.planner.explain import explain, suggestions
from agents.sql.planner.periods import MONTHS, TimeReading, parse_time
from agents.sql.planner.problems import find_problem
from agents.sql.planner.ranking import parse_ranking
from agents.sql.planner.reading import Reading, read_question
from agents.sql.planner.values import Period, Plan, Ranking
from agents.sql.planner.vocabulary import Vocabulary, build_vocabulary
from agents.sql.semantic_model import SemanticModel

__all__ = [
    "MONTHS",
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
    "parse_ranking",
    "parse_time",
    "plan_question",
    "suggestions",
]


class PlanningContext:
    """What the planner needs, built once per process: the model and its vocabulary."""

    def __init__(self, model: SemanticModel, anchor: date) -> None:
        self.model = model
        self.anchor = anchor
        self.vocabulary = build_vocabulary(model)


def _plan_of(reading: Reading, problem: str | None) -> Plan:
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
    )


def plan_question(question: str, ctx: PlanningContext) -> Plan:
    """Understand a question and build its SQL; Plan.confident says whether to run it."""
    reading = read_question(question, ctx.model, ctx.vocabulary, ctx.anchor)
    plan = _plan_of(reading, find_problem(reading, ctx.model))
    if not plan.confident:
        return plan
    try:
        return build_sql(plan, ctx.model)
    except PlanningError as exc:
        return replace(plan, confident=False, problem=exc.message(plan.lang))
