"""Why the planner is not confident: a table of (predicate, message key), first match wins.

A question the planner cannot map with confidence is not run as a half-understood guess: the
pipeline says why (the message) and offers close questions instead. A predicate returns False,
True, or the values its message names (the impossible period, the currency, the unknown words).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

from agents.language import normalize
from agents.messages import say
from agents.sql.planner.counts import NUMBER
from agents.sql.planner.coverage import echo, written_as
from agents.sql.planner.periods import day_words
from agents.sql.planner.reading import COUNT_LEAD, VALUES_COMPARED, Reading
from agents.sql.planner.rules import is_additive
from agents.sql.planner.vocabulary import words_between
from agents.sql.semantic_model import SemanticModel

# Aggregations the model has no metric for ("median order value", "average discount").
AGGREGATE_WORDS = re.compile(
    r"\b(?:average|avg|mean|median|moyen|moyenne|moyens|moyennes|median|mediane|percentile|"
    r"maximum|minimum)\b"
)
FORECAST_CUES = re.compile(
    r"\b(?:forecast|forecasts|forecasted|predict|predicted|prediction|predictions|projection|"
    r"projections|projected|prevision|previsions|prevoir|prevu|prevue|prevues)\b"
)
# A measure compared with a number ("more than 3 items") is a filter the planner cannot write.
THRESHOLD = re.compile(
    rf"\b(?:more than|less than|fewer than|greater than|over|under|above|below|at least|"
    rf"at most|plus de|plus d|moins de|moins d|au moins|au plus|superieure? a|inferieure? a|"
    rf"au dessus de|en dessous de)\s+{NUMBER}\b|[<>]\s*[0-9]"
)

Found = bool | Mapping[str, str]
Predicate = Callable[[Reading, SemanticModel], Found]


def quoted(words: str, lang: str) -> str:
    return say("planner.quoted", lang, words=words)


def impossible_period(r: Reading, model: SemanticModel) -> Found:
    return {"written": quoted(written(r, r.impossible.written), r.lang)} if r.impossible else False


def other_currency(r: Reading, model: SemanticModel) -> Found:
    other = next((c for c in r.currencies if c.code != model.currency), None)
    if other is None:
        return False
    return {"written": quoted(written(r, other.written), r.lang), "currency": model.currency}


def no_metric(r: Reading, model: SemanticModel) -> Found:
    return not r.metrics


def unknown_aggregate(r: Reading, model: SemanticModel) -> Found:
    """An average or median of something the model does not define (or of a plain sum)."""
    metric_spans = [(m.start, m.end) for m in r.matches if m.kind == "metric"
                    and m.key in r.metrics and not is_additive(model.metrics[m.key])]
    return any(
        not any((s >= agg.end() and words_between(r.text, agg.end(), s) <= 1)
                or (e <= agg.start() and words_between(r.text, e, agg.start()) <= 1)
                for s, e in metric_spans)
        for agg in AGGREGATE_WORDS.finditer(r.outside_known)
    )


def forecast(r: Reading, model: SemanticModel) -> Found:
    return bool(FORECAST_CUES.search(r.outside_known))


def count_of_a_rate(r: Reading, model: SemanticModel) -> Found:
    return any(model.metrics[m.key].format == "percent" and COUNT_LEAD.search(r.text[:m.start])
               for m in r.matches if m.kind == "metric" and m.key in r.metrics)


def threshold(r: Reading, model: SemanticModel) -> Found:
    return bool(THRESHOLD.search(r.outside_time))


def _asked(r: Reading) -> list[tuple[date, date]]:
    periods = [*(r.comparison or ()), *((r.period,) if r.period else ())]
    return [(p.start, p.end) for p in periods]


def before_the_data(r: Reading, model: SemanticModel) -> Found:
    if r.start is None or not any(end <= r.start for _, end in _asked(r)):
        return False
    return {"start": day_words(r.start, r.lang)}


def beyond_the_data(r: Reading, model: SemanticModel) -> Found:
    asked = r.comparison[0] if r.comparison else r.period
    return asked is not None and asked.start > r.anchor


def _named(r: Reading, words: list[str]) -> Found:
    if not words:
        return False
    return {"words": ", ".join(quoted(w, r.lang) for w in echo(words))}


def unknown_value(r: Reading, model: SemanticModel) -> Found:
    """A word where a filter value would be ("in Antarctica") that is no value we hold."""
    return _named(r, [written(r, left.words) for left in r.leftovers if left.after_filter_word])


def compared_across_kinds(r: Reading, model: SemanticModel) -> Found:
    """"France vs Germany" where one is a region and the other a country: filtering on both
    would answer a question nobody asked (their intersection), so it is not run."""
    if r.comparison is not None or not VALUES_COMPARED.search(r.text):
        return False
    single = [values[0] for _, values in r.filters if len(values) == 1]
    if len(single) < 2 or any(len(values) > 1 for _, values in r.filters):
        return False
    return {"first": f"“{single[0]}”", "second": f"“{single[1]}”"}


def not_understood(r: Reading, model: SemanticModel) -> Found:
    return _named(r, [written(r, left.words) for left in r.leftovers])


PROBLEMS: tuple[tuple[Predicate, str], ...] = (
    (impossible_period, "planner.problem.impossible_period"),
    (other_currency, "planner.problem.currency"),
    (unknown_aggregate, "planner.problem.unknown_aggregate"),
    (forecast, "planner.problem.forecast"),
    (count_of_a_rate, "planner.problem.count_of_a_rate"),
    (threshold, "planner.problem.threshold"),
    (before_the_data, "planner.problem.before_the_data"),
    (beyond_the_data, "planner.problem.beyond_the_data"),
    (unknown_value, "planner.problem.unknown_value"),
    (compared_across_kinds, "planner.problem.compared_across_kinds"),
    (not_understood, "planner.problem.not_understood"),
    (no_metric, "planner.problem.no_metric"),
)


def find_problem(r: Reading, model: SemanticModel) -> str | None:
    """The first reason not to run the question, in the reader's language; None when none."""
    for predicate, key in PROBLEMS:
        found = predicate(r, model)
        if found:
            values = found if isinstance(found, Mapping) else {}
            if key == "planner.problem.impossible_period" and r.impossible:
                key = r.impossible.key
            return say(key, r.lang, **{"anchor": day_words(r.anchor, r.lang), **values})
    return None


def written(r: Reading, words: str) -> str:
    """Leftover words as the question wrote them (case and accents)."""
    return written_as(question_words(r.question), words)


def question_words(question: str) -> dict[str, str]:
    return {normalize(w): w for w in re.findall(r"[^\s'’,;:!?.()\"«»“”]+", question)
            if " " not in normalize(w)}
