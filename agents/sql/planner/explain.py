"""The plain sentence shown under the numbers, and the questions offered when none is mapped."""

from __future__ import annotations

from agents.messages import say
from agents.sql.planner.periods import day_words
from agents.sql.planner.values import Period, Plan
from agents.sql.semantic_model import SemanticModel


def _definitions(plan: Plan, model: SemanticModel) -> list[str]:
    return [model.metrics[k].definition.get(plan.lang) or model.metrics[k].definition["en"]
            for k in plan.metrics]


def _breakdown(plan: Plan, model: SemanticModel) -> list[str]:
    if not plan.dimensions:
        return []
    names = ", ".join(model.dimensions[d].name(plan.lang).lower() for d in plan.dimensions)
    return [say("planner.by", plan.lang, names=names)]


def _filters(plan: Plan, model: SemanticModel) -> list[str]:
    return [f"{model.dimensions[k].name(plan.lang)} = {', '.join(values)}"
            for k, values in plan.filters]


def _time_label(plan: Plan, model: SemanticModel) -> str:
    """How the first metric's source names its date ("order date"), in the plan's language."""
    metric = model.metrics[plan.metrics[0]]
    source_key = metric.source or (model.metrics[metric.ratio[0]].source if metric.ratio else None)
    return model.sources[source_key].time_label.get(plan.lang, "") if source_key else ""


def _period_words(period: Period, lang: str) -> str:
    if period.label.isdigit():
        return say("planner.in_year", lang, label=period.label)
    return say("planner.between_dates", lang, start=day_words(period.start, lang),
               end=day_words(period.end, lang))


def _time(plan: Plan, model: SemanticModel) -> list[str]:
    time_label = _time_label(plan, model)
    if plan.comparison:
        current, previous = plan.comparison
        return [say("planner.compared_with", plan.lang, current=current.label,
                    previous=previous.label)]
    if plan.period:
        return [f"{time_label} {_period_words(plan.period, plan.lang)}"]
    return []


def _ranking(plan: Plan) -> list[str]:
    if not plan.ranking:
        return []
    key = "planner.top_n" if plan.ranking.descending else "planner.bottom_n"
    return [say(key, plan.lang, limit=plan.ranking.limit)]


def _share(plan: Plan) -> list[str]:
    return [say("planner.with_share", plan.lang)] if plan.share else []


def explain(plan: Plan, model: SemanticModel) -> str:
    """The plain sentence shown under the numbers: definitions, grouping, filters, period."""
    parts = [*_definitions(plan, model), *_breakdown(plan, model), *_filters(plan, model),
             *_time(plan, model), *_ranking(plan), *_share(plan),
             *(say("planner.understood.corrected", plan.lang, written=w, read=r)
               for w, r in plan.corrections)]
    text = "; ".join(parts)
    if plan.assumptions:
        text += ". " + say("planner.assumed", plan.lang, assumptions="; ".join(plan.assumptions))
    return text + "."


def suggestions(model: SemanticModel, lang: str, limit: int = 3) -> list[str]:
    """Close questions the planner can answer, offered when it cannot map one: the model's."""
    offered = model.suggestions.get(lang) or model.suggestions.get("en") or ()
    return list(offered)[:limit]
