"""The plan restated in the user's language, shown above the numbers so that a misreading is
caught at a glance: "Revenue by region, top 5, orders dated in 2022".

Built from the model's names, the period's label and the message catalog only.
"""

from __future__ import annotations

import re

from agents.messages import say
from agents.sql.planner.values import Period, Plan
from agents.sql.semantic_model import SemanticModel


def _joined(names: list[str], lang: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + say("planner.understood.and", lang) + names[-1]


def _label(period: Period, lang: str) -> str:
    # Labels are written the English way ("Q3 2019", "H1 2020"); French says T3 and S1.
    if lang == "fr":
        return re.sub(r"\bQ([1-4])\b", r"T\1", re.sub(r"\bH([12])\b", r"S\1", period.label))
    return period.label


def _time_label(plan: Plan, model: SemanticModel) -> str:
    for key in plan.metrics:
        metric = model.metrics[key]
        source = metric.source or (model.metrics[metric.ratio[0]].source if metric.ratio else None)
        if source:
            return model.sources[source].time_label.get(plan.lang, "")
    return ""


def _what(plan: Plan, model: SemanticModel) -> str:
    lang = plan.lang
    names = [model.metrics[k].name(lang) for k in plan.metrics]
    text = _joined(names, lang) or say("planner.understood.nothing", lang)
    if plan.dimensions:
        dims = [model.dimensions[d].name(lang).lower() for d in plan.dimensions]
        text += " " + say("planner.understood.by", lang, names=_joined(dims, lang))
    return text


def _filters(plan: Plan, model: SemanticModel) -> list[str]:
    return [say("planner.understood.filter", plan.lang,
                dimension=model.dimensions[k].name(plan.lang).lower(),
                values=say("planner.understood.or", plan.lang).join(values))
            for k, values in plan.filters]


def _ranking(plan: Plan) -> list[str]:
    if not plan.ranking:
        return []
    key = "planner.understood.top" if plan.ranking.descending else "planner.understood.bottom"
    return [say(key, plan.lang, limit=plan.ranking.limit)]


def _time(plan: Plan, model: SemanticModel) -> list[str]:
    lang, time_label = plan.lang, _time_label(plan, model)
    if plan.comparison:
        current, previous = plan.comparison
        return [say("planner.understood.compared", lang, current=_label(current, lang),
                    previous=_label(previous, lang))]
    if plan.period and time_label:
        return [say("planner.understood.period", lang, time_label=time_label,
                    label=_label(plan.period, lang))]
    if plan.period:
        return [_label(plan.period, lang)]
    return []


def _corrections(plan: Plan) -> list[str]:
    return [say("planner.understood.corrected", plan.lang, written=written, read=read)
            for written, read in plan.corrections]


def understood_as(plan: Plan, model: SemanticModel) -> str:
    """One line: what, by what, filtered how, ranked how, when; and the typos read."""
    parts = [_what(plan, model), *_filters(plan, model), *_ranking(plan), *_time(plan, model)]
    if plan.share:
        parts.append(say("planner.understood.share", plan.lang))
    return ", ".join([*parts, *_corrections(plan)])
