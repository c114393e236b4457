"""The rules that refine a Reading, in order: which metrics are meant, the filters, how the
question sits in time, which dimensions are breakdowns, and last which words none explained.

RULES is a tuple of plain functions, each returning a refined copy of the Reading. Every word of
this business they use comes from the semantic model (see its header): no rule names a metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from itertools import pairwise

from sqlglot import exp

from agents.messages import say
from agents.sql.planner import coverage
from agents.sql.planner.build import base_metrics, parse_sql
from agents.sql.planner.cues import ModelCues
from agents.sql.planner.periods import day_words, year_earlier
from agents.sql.planner.reading import (
    GROUP_CUES,
    PER,
    VALUES_COMPARED,
    WHO,
    Reading,
    first_reading,
)
from agents.sql.planner.values import Period
from agents.sql.planner.vocabulary import Vocabulary
from agents.sql.semantic_model import Metric, SemanticModel

Rule = Callable[[Reading, SemanticModel], Reading]


# ---------------------------------------------------------------- metrics


def _implied_metric(r: Reading) -> str | None:
    # A verb alone is weak evidence ("what made the outage happen?"): it names a metric only
    # in a question that also asks for data, through a period, a value, a breakdown or a rank.
    asks_for_data = bool(r.time.periods or r.mentions.values or r.mentions.dimensions
                         or r.ranking)
    implied = next((i.key for i in r.cues.implied if i.pattern.search(r.text)), None)
    return implied if asks_for_data else None


def pick_metrics(r: Reading, model: SemanticModel) -> Reading:
    if r.mentions.named:
        return replace(r, metrics=r.mentions.named)
    implied = _implied_metric(r)
    if implied is None:
        return replace(r, metrics=r.mentions.counted[:1]) if r.mentions.counted else r
    metric = model.metrics[implied].name(r.lang).lower()
    return replace(r, metrics=(implied,)).assuming(say("planner.read_as", r.lang, metric=metric))


def say_what_a_synonym_means(r: Reading, model: SemanticModel) -> Reading:
    # "sales" alone is ambiguous between money and units: the model's note says which we took.
    for key in r.metrics:
        notes = {n.lower(): v for n, v in model.metrics[key].notes.items()}
        phrases = {m.phrase for m in r.matches if m.kind == "metric" and m.key == key}
        noted = [notes[p] for p in phrases if p in notes]
        if noted and len(noted) == len(phrases):
            r = r.assuming(noted[0].get(r.lang) or noted[0]["en"])
    return r


def meant_instead(r: Reading, model: SemanticModel) -> Reading:
    # "Did we hit the target?" asks for attainment, not for the target itself.
    for meant, instead, pattern in r.cues.instead_of:
        if instead in r.metrics and pattern.search(r.text):
            r = replace(r, metrics=tuple(dict.fromkeys(meant if m == instead else m
                                                       for m in r.metrics)))
    return r


def ratio_without_its_parts(r: Reading, model: SemanticModel) -> Reading:
    # A metric named twice through a ratio's parts ("revenue vs target" -> attainment).
    parts = {p for m in r.metrics for p in (model.metrics[m].ratio or ())}
    kept = tuple(m for m in r.metrics if m not in parts)
    return r if kept == r.metrics else replace(r, metrics=kept)


def one_per_other(r: Reading, model: SemanticModel) -> Reading:
    # "revenue per order": the model's metric that is one per the other, when it defines one.
    metric_matches = [m for m in r.matches if m.kind == "metric"]
    for a, b in pairwise(metric_matches):
        if not PER.match(r.text[a.end:b.start]):
            continue
        ratio = next((m.key for m in model.metrics.values() if m.per == (a.key, b.key)), None)
        if ratio is not None:
            kept = [m for m in r.metrics if m not in (a.key, b.key)]
            return replace(r, metrics=(ratio, *kept))
    return r


def one_count_per_noun(r: Reading, model: SemanticModel) -> Reading:
    # "new customers ... customers": a bare counted noun is the named count it is part of.
    named = [m for m in r.matches if m.kind == "metric" and m.key in r.metrics]
    bare = {m.key for m in named if m.phrase in r.cues.counted
            and any(m.phrase in o.phrase.split() and o.key != m.key for o in named)}
    kept = tuple(m for m in r.metrics if m not in bare)
    return replace(r, metrics=kept) if kept and kept != r.metrics else r


def rank_by_default(r: Reading, model: SemanticModel) -> Reading:
    if not r.metrics and r.ranking and r.dimensions and model.default_metric:
        metric = model.metrics[model.default_metric].name(r.lang).lower()
        return replace(r, metrics=(model.default_metric,)).assuming(
            say("planner.ranked_by", r.lang, metric=metric))
    return r


# ---------------------------------------------------------------- filters


def metric_sources(model: SemanticModel, keys: Sequence[str]) -> set[str]:
    return {m.source or "" for m in base_metrics(model, tuple(keys))}


def pick_filters(r: Reading, model: SemanticModel) -> Reading:
    # A value that names two things (a region and a country of one name) takes the reading the
    # metrics can be filtered by.
    if not r.mentions.values:
        return r
    sources = metric_sources(model, r.metrics)
    filters: dict[str, list[str]] = {}
    for match in r.mentions.values:
        readings = [(match.key, match.value or ""), *match.alternatives]
        key, value = next(
            ((k, v) for k, v in readings
             if all(s in model.dimensions[k].columns for s in sources)),
            readings[0],
        )
        values = filters.setdefault(key, [])
        if value not in values:
            values.append(value)
    return replace(r, filters=tuple((k, tuple(v)) for k, v in filters.items()))


def rate_of_a_value(r: Reading, model: SemanticModel) -> Reading:
    # "What share of our orders were cancelled?": the model's rate for that value.
    if not (r.share and not r.dimensions and len(r.metrics) == 1):
        return r
    defaults = model.metrics[r.metrics[0]].default_filters
    for key, values in r.filters:
        rate = model.dimensions[key].value_rates.get(values[0])
        if key in defaults and len(values) == 1 and rate:
            kept = tuple(f for f in r.filters if f[0] != key)
            return replace(r, metrics=(rate,), filters=kept, share=False)
    return r


def compare_values(r: Reading, model: SemanticModel) -> Reading:
    # "online vs partner revenue": the two values side by side, not their sum.
    if not VALUES_COMPARED.search(r.text):
        return r
    compared = tuple(k for k, values in r.filters if len(values) > 1 and k not in r.dimensions)
    return replace(r, dimensions=(*r.dimensions, *compared)) if compared else r


# ---------------------------------------------------------------- time


def _later_first(first: Period, second: Period) -> tuple[Period, Period]:
    # Show the later period first: "2019 vs 2018".
    return (first, second) if first.start > second.start else (second, first)


def _covering(periods: Sequence[Period]) -> Period:
    if len(periods) == 1:
        return periods[0]
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    return Period(start, end, f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")


def _year_dimension(model: SemanticModel) -> str | None:
    return next((k for k, d in model.dimensions.items() if d.grain == "year"), None)


def _against_a_year_earlier(r: Reading, current: Period) -> Reading:
    previous = year_earlier(current)
    r = replace(r, comparison=(current, previous))
    if current.label.isdigit():
        return r
    return r.assuming(say("planner.same_period_year_earlier", r.lang, label=previous.label))


def place_in_time(r: Reading, model: SemanticModel) -> Reading:
    """A period, two compared periods, or a breakdown by year."""
    # Grouping by a time grain removes the matching word from the "period" sense.
    periods, time = r.time.periods, r.time
    by_time = any(model.dimensions[d].is_time for d in r.dimensions)
    if time.compare and len(periods) >= 2:
        return replace(r, comparison=_later_first(periods[0], periods[1]))
    if time.growth and len(periods) == 1 and len(time.ends) == 1 and not by_time:
        # "How much did revenue grow between 2021 and 2022?": the two years, not their sum.
        return replace(r, comparison=_later_first(*time.ends[0]))
    if (time.growth or time.year_earlier) and len(periods) == 1 and not by_time:
        return _against_a_year_earlier(r, periods[0])
    year = _year_dimension(model)
    if time.growth and not periods and not by_time and year:
        r = replace(r, dimensions=(*r.dimensions, year))
        return r.assuming(say("planner.evolution_by_year", r.lang))
    if periods:
        return replace(r, period=_covering(periods))
    if r.metrics and not by_time:
        return r.assuming(_all_dates(r))
    return r


def _all_dates(r: Reading) -> str:
    end = day_words(r.anchor, r.lang)
    if r.start is None:
        return say("planner.all_dates_to", r.lang, end=end)
    return say("planner.all_dates", r.lang, start=day_words(r.start, r.lang), end=end)


# ---------------------------------------------------------------- breakdowns


def drop_filtered_dimensions(r: Reading, model: SemanticModel) -> Reading:
    filters = dict(r.filters)
    kept = tuple(d for d in r.dimensions
                 if not (d in filters and len(filters[d]) == 1
                         and not GROUP_CUES.search(r.text)))
    return r if kept == r.dimensions else replace(r, dimensions=kept)


def rank_people(r: Reading, model: SemanticModel) -> Reading:
    # "Who sold the most?": people are ranked, and the model says who they are.
    people = next((k for k, d in model.dimensions.items() if d.who), None)
    if r.ranking and not r.dimensions and WHO.match(r.text) and people:
        return replace(r, dimensions=(*r.dimensions, people))
    return r


def is_additive(metric: Metric) -> bool:
    """A plain SUM or COUNT, whose part and whole can be divided into a share."""
    if metric.ratio or not metric.sql:
        return False
    return isinstance(parse_sql(metric.sql), exp.Sum | exp.Count)


def settle_share_and_ranking(r: Reading, model: SemanticModel) -> Reading:
    # A share without a breakdown is the share of the filtered part ("of revenue from online")
    # in the whole, which only means something for a sum or a count.
    part_of_total = (r.share and not r.dimensions and bool(r.filters) and len(r.metrics) == 1
                     and is_additive(model.metrics[r.metrics[0]]))
    share = r.share and not r.comparison and (bool(r.dimensions) or part_of_total)
    ranking = r.ranking if r.dimensions else None
    if share == r.share and ranking is r.ranking:
        return r
    return replace(r, share=share, ranking=ranking)


def account_for_words(r: Reading, model: SemanticModel) -> Reading:
    """Last: the words no rule explained (see coverage.py)."""
    spans = coverage.spans_of(r.time.spans, r.matches, (m.span for m in r.currencies if m.span))
    non_additive = any(not is_additive(model.metrics[m]) for m in r.metrics)
    per = any(model.metrics[m].per for m in r.metrics)
    explained = coverage.explained_by_rules(coverage.tagged(r.text, spans), r.cues,
                                            non_additive, per, r.matches)
    return replace(r, leftovers=coverage.leftovers(r.text, explained))


RULES: tuple[Rule, ...] = (
    pick_metrics,
    say_what_a_synonym_means,
    meant_instead,
    ratio_without_its_parts,
    one_per_other,
    one_count_per_noun,
    rank_by_default,
    pick_filters,
    rate_of_a_value,
    compare_values,
    place_in_time,
    drop_filtered_dimensions,
    rank_people,
    settle_share_and_ranking,
    account_for_words,
)


def read_question(question: str, model: SemanticModel, vocabulary: Vocabulary, cues: ModelCues,
                  dates: tuple[date | None, date], text: str) -> Reading:
    """The question (its normalized, maybe corrected, text) read through every rule."""
    reading = first_reading(question, text, model, vocabulary, cues, dates)
    for rule in RULES:
        reading = rule(reading, model)
    return reading
