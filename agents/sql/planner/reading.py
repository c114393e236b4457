"""From the phrases found in a question to a Reading: what it asks for, before any SQL.

A Reading starts from the question's matches (see `_mentions`) and goes through RULES, a tuple
of plain functions, each returning a refined copy: which metrics are meant, the filters, how the
question sits in time, which dimensions are breakdowns. The order is the order of the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlglot import exp

from agents.language import detect_language, normalize
from agents.messages import say
from agents.sql.planner.build import base_metrics, parse_sql
from agents.sql.planner.periods import TimeReading, parse_time, year_earlier
from agents.sql.planner.ranking import RANK_CUES, parse_ranking
from agents.sql.planner.values import Period, Ranking
from agents.sql.planner.vocabulary import Match, Vocabulary, find_phrases, mask, words_between
from agents.sql.semantic_model import Metric, SemanticModel

Filters = tuple[tuple[str, tuple[str, ...]], ...]

ENTITY_DIMENSIONS = {"product", "sales_rep"}
GROUP_CUES = re.compile(
    rf"(?:\b(?:by|per|par|each|chaque|across|for each|pour chaque|selon|split by|broken down by|"
    rf"breakdown by|repartition par|ventile par|in each|dans chaque|among|parmi|de chaque|"
    rf"{RANK_CUES}|[0-9]+)\s+(?:the\s+|les\s+|la\s+|le\s+|l\s+|our\s+|nos\s+|[0-9]+\s+)?)$"
)
# Nouns naming what a count metric counts. After another metric they usually qualify it
# ("refund rate of online orders", "revenue from SMB customers") rather than ask for a count.
COUNTED_NOUNS = frozenset({
    "customers", "clients", "orders", "commandes", "tickets", "deals", "cases", "incidents",
    "demandes", "requests", "accounts", "comptes",
})
COUNT_LEAD = re.compile(
    r"\b(?:how many|number of|nombre de|nombre d|combien de|combien d|count of)\s+"
    r"(?:[a-z0-9-]+\s+){0,2}$"
)
COORDINATED = re.compile(
    r"(?:\band|\bet|,|&|\bas well as|\bainsi que|\bplus)\s+(?:(?:the|our|les|nos|le|la|des|du|"
    r"number of|nombre de|count of)\s+)*$"
)
# "gamme de produits", "categories of products": a noun that qualifies the dimension before it.
QUALIFYING_LINK = re.compile(r"\s+(?:of|de|des|du|d)\s+(?:the\s+)?")
SELL_VERBS = (r"sell|sells|sold|selling|vendu|vendus|vendue|vendues|vendre|vendons|vend|"
              r"ship|shipped|livre|livres")
# When no metric is named, verbs can still say which one is meant; checked in this order.
IMPLIED_METRICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:how long|how quickly|how fast|how much time|combien de temps|"
                r"en combien de temps)\b.*\b(?:resolv|solv|clos|fix|resol|clotur|regl|trait)"),
     "average_resolution_hours"),
    (re.compile(rf"\b(?:how many|combien)\b.*\b(?:{SELL_VERBS})\b"), "units_sold"),
    (re.compile(r"\b(?:how many|combien|number of|nombre de)\b.*\b(?:bought|ordered|purchased|"
                r"placed|commande|commandes|achete|achetes|acheter)\b"), "active_customers"),
    (re.compile(rf"\b(?:bring in|brings in|brought in|bringing in|generate|generated|generates|"
                rf"generating|earn|earned|earns|made|make|makes|spend|spends|spent|spending|"
                rf"rapporte|rapportent|rapporter|genere|generent|generer|encaisse|encaisser|"
                rf"facture|factures|facturer|depenser|depensent|(?:a|ont|avons) depense|"
                rf"{SELL_VERBS})\b"), "revenue"),
)
ATTAINMENT_CUES = re.compile(
    r"\b(?:hit|hits|reach|reached|meet|met|beat|beaten|achieve|achieved|attain|attained|"
    r"close to|how close|on track|atteint|atteints|atteinte|atteindre|realise|depasse|rempli|"
    r"respecte)\b"
)
SHARE_CUES = re.compile(
    r"\b(?:share|part|proportion|percentage|pourcentage|mix|repartition|breakdown)\b|%"
)
PLURAL_QUESTION = re.compile(r"\b(?:quels|quelles)\b")
SALES = re.compile(r"\b(?:sales|ventes)\b")
REVENUE_NAMED = re.compile(r"\b(?:revenue|chiffre d affaires|ca|turnover)\b")
ACTIVE = re.compile(r"\bactive|actifs\b")
WHO = re.compile(r"(?:who|qui)\b")


@dataclass(frozen=True)
class Mentions:
    """The question's known phrases, sorted by the role they play."""

    named: tuple[str, ...] = ()  # metrics the question names outright
    counted: tuple[str, ...] = ()  # metrics named only by the noun they count ("orders")
    dimensions: tuple[str, ...] = ()
    dimension_starts: tuple[int, ...] = ()
    values: tuple[Match, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What a question asks for, refined rule by rule; the Plan is made from the last one."""

    question: str
    lang: str
    text: str  # normalized
    anchor: date  # the last date in the data
    time: TimeReading
    matches: tuple[Match, ...]
    mentions: Mentions
    outside_time: str  # the text with its time expressions blanked out
    outside_known: str  # ... and its known phrases too
    metrics: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: Filters = ()
    period: Period | None = None
    comparison: tuple[Period, Period] | None = None
    # As the question words them until the last rule keeps them only where they mean something.
    ranking: Ranking | None = None
    share: bool = False
    assumptions: tuple[str, ...] = ()

    def assuming(self, assumption: str) -> Reading:
        return replace(self, assumptions=(*self.assumptions, assumption))


Rule = Callable[[Reading, SemanticModel], Reading]


# ---------------------------------------------------------------- mentions


def _only_counts(text: str, match: Match) -> bool:
    """A counted noun ("orders") that qualifies another metric rather than asks for a count."""
    before = text[: match.start]
    soft = match.phrase in COUNTED_NOUNS and not COUNT_LEAD.search(before)
    return soft and not COORDINATED.search(before)


def _introduces_a_value(text: str, matches: Sequence[Match], i: int) -> bool:
    # "revenue of product X", "le commercial Camille Berg": the noun introduces a value, it
    # does not ask for a breakdown.
    match, following = matches[i], matches[i + 1] if i + 1 < len(matches) else None
    return (match.key in ENTITY_DIMENSIONS and following is not None
            and following.kind == "value" and following.key == match.key
            and words_between(text, match.end, following.start) <= 1)


def _qualifies_the_previous(text: str, matches: Sequence[Match], i: int) -> bool:
    match, previous = matches[i], matches[i - 1] if i > 0 else None
    return (match.key in ENTITY_DIMENSIONS and previous is not None
            and previous.kind == "dimension"
            and QUALIFYING_LINK.fullmatch(text[previous.end:match.start]) is not None)


def _mentions(text: str, matches: Sequence[Match]) -> Mentions:
    """The matches by role; a dimension noun that introduces or qualifies is no breakdown."""
    named: list[str] = []
    counted: list[str] = []
    dimensions: dict[str, int] = {}  # key -> start, in the order written
    values: list[Match] = []
    for i, match in enumerate(matches):
        if match.kind == "metric":
            found = counted if _only_counts(text, match) else named
            if match.key not in found:
                found.append(match.key)
        elif match.kind == "value" and match.value is not None:
            values.append(match)
        elif (match.kind == "dimension" and match.key not in dimensions
              and not _introduces_a_value(text, matches, i)
              and not _qualifies_the_previous(text, matches, i)):
            dimensions[match.key] = match.start
    return Mentions(tuple(named), tuple(counted), tuple(dimensions),
                    tuple(dimensions.values()), tuple(values))


def _ranking(outside_time: str, matches: Sequence[Match], mentions: Mentions,
             text: str) -> Ranking | None:
    plural = any(m.kind == "dimension" and m.phrase.endswith("s") and m.phrase != "pays"
                 for m in matches) or bool(PLURAL_QUESTION.search(text))
    return parse_ranking(outside_time, mentions.dimension_starts, plural)


def read_question(question: str, model: SemanticModel, vocabulary: Vocabulary,
                  anchor: date) -> Reading:
    """The question read through every rule."""
    lang = detect_language(question)
    text = normalize(question)
    time = parse_time(text, anchor, lang)
    matches = find_phrases(text, question, vocabulary, time.spans)
    mentions = _mentions(text, matches)
    outside_time = mask(text, time.spans)
    reading = Reading(
        question=question, lang=lang, text=text, anchor=anchor, time=time, matches=matches,
        mentions=mentions, outside_time=outside_time,
        outside_known=mask(text, [*time.spans, *((m.start, m.end) for m in matches)]),
        dimensions=mentions.dimensions, ranking=_ranking(outside_time, matches, mentions, text),
        share=bool(SHARE_CUES.search(text)), assumptions=time.assumptions,
    )
    for rule in RULES:
        reading = rule(reading, model)
    return reading


# ---------------------------------------------------------------- metrics


def _implied_metric(r: Reading) -> str | None:
    # A verb alone is weak evidence ("what made the outage happen?"): it names a metric only
    # in a question that also asks for data, through a period, a value, a breakdown or a rank.
    asks_for_data = bool(r.time.periods or r.mentions.values or r.mentions.dimensions
                         or parse_ranking(r.outside_time))
    implied = next((key for pattern, key in IMPLIED_METRICS if pattern.search(r.text)), None)
    return implied if asks_for_data else None


def pick_metrics(r: Reading, model: SemanticModel) -> Reading:
    if r.mentions.named:
        return replace(r, metrics=r.mentions.named)
    implied = _implied_metric(r)
    if implied is None:
        return replace(r, metrics=r.mentions.counted[:1]) if r.mentions.counted else r
    metric = model.metrics[implied].name(r.lang).lower()
    return replace(r, metrics=(implied,)).assuming(say("planner.read_as", r.lang, metric=metric))


def say_sales_is_revenue(r: Reading, model: SemanticModel) -> Reading:
    # "sales" alone is ambiguous between money and units: say which one we took.
    if ("revenue" in r.metrics and SALES.search(r.text)
            and not REVENUE_NAMED.search(r.text)):
        return r.assuming(say("planner.sales_as_revenue", r.lang))
    return r


def attainment_for_target_cues(r: Reading, model: SemanticModel) -> Reading:
    # "Did we hit the target?" asks for attainment, not for the target itself.
    if "revenue_target" in r.metrics and ATTAINMENT_CUES.search(r.text):
        return replace(r, metrics=tuple("attainment" if m == "revenue_target" else m
                                        for m in r.metrics))
    return r


def ratio_without_its_parts(r: Reading, model: SemanticModel) -> Reading:
    # A metric named twice through a ratio's parts ("revenue vs target" -> attainment).
    if "attainment" in r.metrics:
        kept = tuple(m for m in r.metrics if m not in ("revenue", "revenue_target"))
        return replace(r, metrics=kept or ("attainment",))
    return r


def new_customers_over_active(r: Reading, model: SemanticModel) -> Reading:
    if ("active_customers" in r.metrics and "new_customers" in r.metrics
            and not ACTIVE.search(r.text)):
        return replace(r, metrics=tuple(m for m in r.metrics if m != "active_customers"))
    return r


def rank_by_revenue(r: Reading, model: SemanticModel) -> Reading:
    if not r.metrics and r.ranking and r.dimensions:
        return replace(r, metrics=("revenue",)).assuming(say("planner.ranked_by_revenue", r.lang))
    return r


# ---------------------------------------------------------------- filters


def metric_sources(model: SemanticModel, keys: Sequence[str]) -> set[str]:
    return {m.source or "" for m in base_metrics(model, tuple(keys))}


def pick_filters(r: Reading, model: SemanticModel) -> Reading:
    # A value that names two things ("France": a region and a country) takes the reading the
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


# ---------------------------------------------------------------- time


def _later_first(first: Period, second: Period) -> tuple[Period, Period]:
    # Show the later period first: "2019 vs 2018".
    return (first, second) if first.start > second.start else (second, first)


def _covering(periods: Sequence[Period]) -> Period:
    if len(periods) == 1:
        return periods[0]
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    return Period(start, end, f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")


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
    if (time.growth or time.year_earlier) and len(periods) == 1 and not by_time:
        return _against_a_year_earlier(r, periods[0])
    if time.growth and not periods and not by_time:
        r = replace(r, dimensions=(*r.dimensions, "year"))
        return r.assuming(say("planner.evolution_by_year", r.lang))
    if periods:
        return replace(r, period=_covering(periods))
    if r.metrics and not by_time:
        return r.assuming(say("planner.all_dates", r.lang))
    return r


# ---------------------------------------------------------------- breakdowns


def drop_filtered_dimensions(r: Reading, model: SemanticModel) -> Reading:
    filters = dict(r.filters)
    kept = tuple(d for d in r.dimensions
                 if not (d in filters and len(filters[d]) == 1
                         and not GROUP_CUES.search(r.text)))
    return r if kept == r.dimensions else replace(r, dimensions=kept)


def rank_people(r: Reading, model: SemanticModel) -> Reading:
    # "Who sold the most?": people are ranked, and the people here are the sales reps.
    if r.ranking and not r.dimensions and WHO.match(r.text):
        return replace(r, dimensions=(*r.dimensions, "sales_rep"))
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


RULES: tuple[Rule, ...] = (
    pick_metrics,
    say_sales_is_revenue,
    attainment_for_target_cues,
    ratio_without_its_parts,
    new_customers_over_active,
    rank_by_revenue,
    pick_filters,
    place_in_time,
    drop_filtered_dimensions,
    rank_people,
    settle_share_and_ranking,
)
