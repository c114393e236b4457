"""Why the planner is not confident: a table of (predicate, message key), first match wins.

A question the planner cannot map with confidence is not run as a half-understood guess: the
pipeline says why (the message) and offers close questions instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.messages import say
from agents.sql.planner.counts import NUMBER
from agents.sql.planner.periods import day_words
from agents.sql.planner.reading import COUNT_LEAD, Reading
from agents.sql.planner.vocabulary import words_between
from agents.sql.semantic_model import SemanticModel

# Aggregations the model has no metric for ("median order value", "average discount").
AGGREGATE_WORDS = re.compile(
    r"\b(?:average|avg|mean|median|moyen|moyenne|moyens|moyennes|median|mediane|percentile|"
    r"maximum|minimum)\b"
)
# An order status left over once the metrics are matched: "orders" would count completed ones.
STATUS_WORDS = re.compile(
    r"\b(?:cancel+ed|cancel+ations?|refunded|refunds?|returned|annulees?|annules?|"
    r"remboursees?|rembourses?)\b"
)
RATE_WORDS = re.compile(r"\b(?:rate|taux|share|part|proportion)\b")
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

Predicate = Callable[[Reading, SemanticModel], bool]


def no_metric(r: Reading, model: SemanticModel) -> bool:
    return not r.metrics


def unknown_aggregate(r: Reading, model: SemanticModel) -> bool:
    """An average or median of something the model does not define."""
    metric_spans = [(m.start, m.end) for m in r.matches if m.kind == "metric"]
    return any(
        not any((s >= agg.end() and words_between(r.text, agg.end(), s) <= 1)
                or (e <= agg.start() and words_between(r.text, e, agg.start()) <= 1)
                for s, e in metric_spans)
        for agg in AGGREGATE_WORDS.finditer(r.outside_known)
    )


def forecast(r: Reading, model: SemanticModel) -> bool:
    return bool(FORECAST_CUES.search(r.outside_known))


def count_of_a_rate(r: Reading, model: SemanticModel) -> bool:
    return any(model.metrics[m.key].format == "percent" and COUNT_LEAD.search(r.text[:m.start])
               for m in r.matches if m.kind == "metric" and m.key in r.metrics)


def order_status(r: Reading, model: SemanticModel) -> bool:
    if STATUS_WORDS.search(r.outside_known):
        return True
    return len(r.metrics) > 1 and any(
        m.kind == "metric" and STATUS_WORDS.search(m.phrase) and not RATE_WORDS.search(m.phrase)
        for m in r.matches
    )


def threshold(r: Reading, model: SemanticModel) -> bool:
    return bool(THRESHOLD.search(r.outside_time))


def beyond_the_data(r: Reading, model: SemanticModel) -> bool:
    asked = r.comparison[0] if r.comparison else r.period
    return asked is not None and asked.start > r.anchor


PROBLEMS: tuple[tuple[Predicate, str], ...] = (
    (no_metric, "planner.problem.no_metric"),
    (unknown_aggregate, "planner.problem.unknown_aggregate"),
    (forecast, "planner.problem.forecast"),
    (count_of_a_rate, "planner.problem.count_of_a_rate"),
    (order_status, "planner.problem.order_status"),
    (threshold, "planner.problem.threshold"),
    (beyond_the_data, "planner.problem.beyond_the_data"),
)


def find_problem(r: Reading, model: SemanticModel) -> str | None:
    """The first reason not to run the question, in the reader's language; None when none."""
    key = next((key for predicate, key in PROBLEMS if predicate(r, model)), None)
    if key is None:
        return None
    # Only the message about the end of the data has a placeholder; the others ignore it.
    return say(key, r.lang, anchor=day_words(r.anchor, r.lang))
