"""From the phrases found in a question to a first Reading: what it mentions, before any rule.

A Reading starts from the question's spans: its time expressions, the currencies it names, the
model's phrases (see `_mentions`); rules.py then refines it rule by rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from agents.language import detect_language
from agents.sql.planner.coverage import Leftover
from agents.sql.planner.cues import ModelCues
from agents.sql.planner.limits import Limit, currencies, impossible_period
from agents.sql.planner.periods import TimeReading, parse_time
from agents.sql.planner.ranking import RANK_CUES, parse_ranking
from agents.sql.planner.values import Period, Ranking
from agents.sql.planner.vocabulary import Match, Vocabulary, find_phrases, mask, words_between
from agents.sql.semantic_model import SemanticModel

Filters = tuple[tuple[str, tuple[str, ...]], ...]
GROUP_CUES = re.compile(
    rf"(?:\b(?:by|per|par|each|chaque|across|for each|pour chaque|selon|split by|broken down by|"
    rf"breakdown by|repartition par|ventile par|in each|dans chaque|among|parmi|de chaque|"
    rf"{RANK_CUES}|[0-9]+)\s+(?:the\s+|les\s+|la\s+|le\s+|l\s+|our\s+|nos\s+|[0-9]+\s+)?)$"
)
# Before a noun that is a metric and a dimension ("customers"), these make it the dimension:
# "top 10 customers", "by customer", "quels clients".
AS_DIMENSION = re.compile(
    rf"(?:\b(?:by|per|par|each|chaque|for each|pour chaque|{RANK_CUES}|[0-9]+)\s+"
    rf"(?:(?:the|les|la|le|l|our|nos|[0-9]+|[a-z]+est|most|plus|moins)\s+)*)$"
)
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
SHARE_CUES = re.compile(
    r"\b(?:share|part|proportion|percentage|pourcentage|mix|repartition|breakdown)\b|%"
)
PLURAL_QUESTION = re.compile(r"\b(?:quels|quelles)\b")
WHO = re.compile(r"(?:who|qui)\b")
# Two values of one dimension set against each other are compared side by side, not summed.
VALUES_COMPARED = re.compile(r"\b(?:vs|versus|against|compared (?:to|with)|compare|contre|"
                             r"par rapport (?:a|au|aux)|or|ou)\b")
PER = re.compile(r"^\s*(?:(?:per|par|for each|pour chaque|by each|a|an|une?)\s+)+$")


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
    text: str  # normalized (and corrected, when typos were read as known names)
    anchor: date  # the last date in the data
    time: TimeReading
    matches: tuple[Match, ...]
    mentions: Mentions
    outside_time: str  # the text with its time expressions blanked out
    outside_known: str  # ... and its known phrases too
    cues: ModelCues
    start: date | None = None  # the first date in the data, when known
    currencies: tuple[Limit, ...] = ()
    impossible: Limit | None = None
    metrics: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: Filters = ()
    period: Period | None = None
    comparison: tuple[Period, Period] | None = None
    # As the question words them until the last rule keeps them only where they mean something.
    ranking: Ranking | None = None
    share: bool = False
    assumptions: tuple[str, ...] = ()
    # What no rule explained (see coverage.py), set by the last rule.
    leftovers: tuple[Leftover, ...] = ()

    def assuming(self, assumption: str) -> Reading:
        return replace(self, assumptions=(*self.assumptions, assumption))


# ---------------------------------------------------------------- mentions


def _only_counts(text: str, match: Match, counted: frozenset[str]) -> bool:
    """A counted noun ("orders") that qualifies another metric rather than asks for a count."""
    before = text[: match.start]
    soft = match.phrase in counted and not COUNT_LEAD.search(before)
    return soft and not COORDINATED.search(before)


def _introduces_a_value(text: str, matches: Sequence[Match], i: int,
                        entities: frozenset[str]) -> bool:
    # "revenue of product X", "le commercial <name>": the noun introduces a value, it does not
    # ask for a breakdown.
    match, following = matches[i], matches[i + 1] if i + 1 < len(matches) else None
    return (match.key in entities and following is not None
            and following.kind == "value" and following.key == match.key
            and words_between(text, match.end, following.start) <= 1)


def _qualifies_the_previous(text: str, matches: Sequence[Match], i: int,
                            entities: frozenset[str]) -> bool:
    match, previous = matches[i], matches[i - 1] if i > 0 else None
    return (match.key in entities and previous is not None
            and previous.kind == "dimension"
            and QUALIFYING_LINK.fullmatch(text[previous.end:match.start]) is not None)


def _as_dimension(text: str, match: Match) -> Match:
    """A noun that is a metric and a dimension reads as the dimension after a ranking or
    grouping word ("top 10 customers", "par client"), as the metric otherwise."""
    if (match.kind == "metric" and match.dimension is not None
            and AS_DIMENSION.search(text[: match.start])):
        return replace(match, kind="dimension", key=match.dimension)
    return match


def _mentions(text: str, matches: Sequence[Match], model: SemanticModel,
              counted: frozenset[str]) -> Mentions:
    """The matches by role; a dimension noun that introduces or qualifies is no breakdown."""
    entities = frozenset(k for k, d in model.dimensions.items() if d.entity)
    named: list[str] = []
    counts: list[str] = []
    dimensions: dict[str, int] = {}  # key -> start, in the order written
    values: list[Match] = []
    for i, match in enumerate(matches):
        if match.kind == "metric":
            found = counts if _only_counts(text, match, counted) else named
            if match.key not in found:
                found.append(match.key)
        elif match.kind == "value" and match.value is not None:
            values.append(match)
        elif (match.kind == "dimension" and match.key not in dimensions
              and not _introduces_a_value(text, matches, i, entities)
              and not _qualifies_the_previous(text, matches, i, entities)):
            dimensions[match.key] = match.start
    return Mentions(tuple(named), tuple(counts), tuple(dimensions),
                    tuple(dimensions.values()), tuple(values))


def _ranking(outside_time: str, matches: Sequence[Match], mentions: Mentions,
             text: str) -> Ranking | None:
    plural = any(m.kind == "dimension" and m.phrase.endswith("s") and m.phrase != "pays"
                 for m in matches) or bool(PLURAL_QUESTION.search(text))
    return parse_ranking(outside_time, mentions.dimension_starts, plural)


def first_reading(question: str, text: str, model: SemanticModel, vocabulary: Vocabulary,
                  cues: ModelCues, dates: tuple[date | None, date]) -> Reading:
    """The question's spans, before any rule: time, currencies, the model's phrases."""
    start, anchor = dates
    lang = detect_language(question)
    time = parse_time(text, anchor, lang)
    money = currencies(text, question)
    taken = [*time.spans, *(m.span for m in money if m.span)]
    matches = tuple(_as_dimension(text, m) for m in find_phrases(text, question, vocabulary, taken))
    mentions = _mentions(text, matches, model, cues.counted)
    outside_time = mask(text, time.spans)
    return Reading(
        question=question, lang=lang, text=text, anchor=anchor, start=start, time=time,
        matches=matches, mentions=mentions, outside_time=outside_time,
        outside_known=mask(text, [*taken, *((m.start, m.end) for m in matches)]), cues=cues,
        currencies=money, impossible=impossible_period(text),
        dimensions=mentions.dimensions, ranking=_ranking(outside_time, matches, mentions, text),
        share=bool(SHARE_CUES.search(text)), assumptions=time.assumptions,
    )
