"""Follow-up questions: "and in 2022?", "now by quarter", "et la marge ?", "top 3 instead".

A follow-up is read against the previous reading of the conversation: the history is replayed
(its first question read alone, each next one that reads as a follow-up merged into the reading
so far, one that stands on its own starting over), then the question is merged the same way.
What the fragment says overrides the previous reading, field by field: its metrics, its
period, its filters (a filter on the same dimension replaces, another one adds), its ranking;
its dimensions add to the previous ones unless a word says they replace them ("instead", "now",
"plutôt", "maintenant"). "Which products drove that?" drills down: the same question, broken
down by the named dimension, ranked, the top 5.

A question that names its own metric and reads as a full question stands on its own: nothing of
the conversation leaks into it. Every trust rule holds: the fragment's words must all be
accounted for (the follow-up cue words below are), else the plan is not confident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from agents.language import normalize
from agents.messages import say
from agents.sql.planner.coverage import Leftover
from agents.sql.planner.periods import period_months, period_shifted, year_earlier
from agents.sql.planner.problems import find_problem
from agents.sql.planner.ranking import ASC_CUES, DESC_CUES, parse_ranking
from agents.sql.planner.reading import Filters, Reading
from agents.sql.planner.rules import (
    _all_dates,
    drop_filtered_dimensions,
    pick_filters,
    settle_share_and_ranking,
)
from agents.sql.planner.values import Period, Plan, Ranking
from agents.sql.planner.words import EMPTY_WORDS, FOLLOW_UP_WORDS
from agents.sql.semantic_model import SemanticModel

if TYPE_CHECKING:
    from agents.sql.planner import PlanningContext

# How a follow-up starts: "and in 2022?", "et pour la France ?", "same for gross margin".
LEAD = re.compile(
    r"^(?:and|et|now|maintenant|(?:the )?same|pareil|idem|(?:la )?meme chose|what about|"
    r"how about|only|just|also|aussi|then|alors|instead|rather|plutot|seulement|uniquement|"
    r"juste|but|mais|ok|okay|sinon)\b"
)
# "Now" as in "as things stand", not "now by quarter": no follow-up cue.
NOT_A_CUE = re.compile(r"\b(?:right now|as of now|for now|until now|by now|just now|up to now|"
                       r"jusqu a maintenant|des maintenant|a partir de maintenant)\b")
# Words that make the fragment's breakdown replace the previous one.
REPLACES = re.compile(r"\b(?:instead|rather|plutot|a la place)\b|^(?:now|maintenant)\b|"
                      r"\b(?:now|maintenant)$")
# "that?" at the end: the question points back at the previous answer.
POINTS_BACK = re.compile(r"\b(?:that|those|them|this|it|ca|cela|ceux ci|celles ci)$")
# The year before the previous question's period.
YEAR_BEFORE = re.compile(
    r"\b(?:the year before|the previous year|the prior year|a year earlier|a year before|"
    r"one year earlier|l annee d avant|l annee precedente|l an d avant|un an plus tot|"
    r"un an avant|l annee d before)\b"
)
# The month, quarter or year next to the previous question's: "and the quarter before that?",
# "et le mois d'avant ?", "l'année suivante".
PERIOD_SHIFT = re.compile(
    r"\b(?:the\s+)?(?P<u1>month|quarter|year)\s+(?P<en>before|after)(?:\s+that)?\b|"
    r"\b(?:the\s+)?(?P<en2>previous|prior|next|following)\s+(?P<u2>month|quarter)\b|"
    r"\b(?:le|l)\s+(?P<u3>mois|trimestre|annee)\s+(?P<fr>d avant|precedente?|suivante?|"
    r"d apres)\b"
)
# The phrase's unit, in months: the previous period must be of that length to be shifted.
UNIT_MONTHS = {"month": 1, "mois": 1, "quarter": 3, "trimestre": 3, "year": 12, "annee": 12}
LATER = frozenset({"after", "next", "following", "suivant", "suivante", "d apres"})
# "Which products drove that?": the previous answer broken down, its largest parts first.
DRILL = re.compile(
    r"\b(?:drove|drive|drives|driving|contributed(?: (?:the )?most)?(?: to)?|contribute|"
    r"behind|responsible for|explains?|made up|account(?:s|ed)? for|ont (?:le plus )?contribue|"
    r"a (?:le plus )?contribue|y ont contribue|contribuent|expliquent|explique|"
    r"sont a l origine de|est a l origine de|ont tire|a tire|ont porte|a porte|portent)"
    r"(?: (?:that|this|it|ca|cela|ce chiffre))?\b"
)
DRILL_RANKING = Ranking(5, descending=True)
# The previous answer's first-row value of a dimension key (None when it cannot be told): what
# "which products drove that?" drills into after "the best channel".
Leader = Callable[[str], "str | None"]
# A short question about how something is broken down, without a verb of its own: "combien de
# jours par mois ?" reads as a fragment of the previous one.
SHORT = 6
# Longer than this, a question with no follow-up cue stands on its own.
LONG = 8
SHORT_CUES = re.compile(r"\b(?:by|per|par|each|chaque|for|pour|in|en|only|seulement)\b")
FULL_VERBS = re.compile(r"\b(?:is|are|was|were|do|does|did|est|sont|etait|c est|qu est)\b")
NUMBER = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class State:
    """The conversation's reading so far, why not to run it (if any), the typos it read."""

    reading: Reading
    problem: str | None
    fixes: tuple[tuple[str, str], ...] = ()


def looks_like_follow_up(question: str) -> bool:
    """The text alone reads like a fragment that needs the previous question's context."""
    text = _as_cues(normalize(question))
    if (LEAD.match(text) or REPLACES.search(text) or POINTS_BACK.search(text)
            or YEAR_BEFORE.search(text) or DRILL.search(text)):
        return True
    words = text.split()
    return (0 < len(words) <= SHORT and bool(SHORT_CUES.search(text))
            and not FULL_VERBS.search(text))


def plan_follow_up(question: str, history: Sequence[str], ctx: PlanningContext,
                   leader: Leader | None = None) -> Plan | None:
    """The Plan of `question` read against `history` (oldest first); None when it stands on
    its own, and is then planned alone. `leader` tells the previous answer's first row, for a
    drill-down of a ranking; without it such a drill-down asks for the value."""
    from agents.sql.planner import finish_plan  # the package imports this module

    if not history:
        return None
    state = _alone(history[0], ctx)
    for previous in history[1:]:
        state = _followed(state, previous, ctx) or _alone(previous, ctx)
    final = _followed(state, question, ctx, leader)
    if final is None:
        return None
    return finish_plan(final.reading, final.problem, final.fixes, ctx, follow_up=True)


# ---------------------------------------------------------------- reading


def _alone(question: str, ctx: PlanningContext) -> State:
    from agents.sql.planner import read_with_fixes

    reading, fixes = read_with_fixes(question, ctx, normalize(question))
    return State(reading, find_problem(reading, ctx.model), fixes)


def _blanked(text: str, pattern: re.Pattern[str]) -> tuple[str, str]:
    """The text with the pattern's phrase blanked out, and that phrase ("" when absent)."""
    found = pattern.search(text)
    if found is None:
        return text, ""
    return text[: found.start()] + " " * len(found.group(0)) + text[found.end():], found.group(0)


def _followed(state: State, question: str, ctx: PlanningContext,
              leader: Leader | None = None) -> State | None:
    """The state refined by `question`, or None when it stands on its own."""
    from agents.sql.planner import read_with_fixes

    text = normalize(question)
    text, year_before = _blanked(text, YEAR_BEFORE)
    text, drill = _blanked(text, DRILL)
    text, shift, steps = _period_shift(text)
    fragment, fixes = read_with_fixes(question, ctx, text)
    ranking = _ranking(fragment, state.reading.ranking)
    if not (year_before or drill or shift or _is_follow_up(fragment, ranking)):
        return None
    previous, ranked_first = state.reading, None
    if drill and previous.ranking is not None and previous.dimensions:
        # "Which products drove that?" after "the best channel": the drill-down is of the
        # channel that came first, which only the previous answer's first row tells.
        previous, ranked_first = _into_leader(previous, leader, fragment.lang)
    merged = _merged(previous, fragment, ctx.model, ranking, year_before or shift,
                     bool(drill), steps)
    problem = find_problem(merged, ctx.model) or state.problem
    if ranked_first is None and previous is not state.reading:
        problem = say("planner.problem.drill_after_ranking", fragment.lang)
    elif ranked_first is not None:
        merged = replace(merged, assumptions=(*merged.assumptions, ranked_first))
    return State(merged, problem, fixes)


def _into_leader(previous: Reading, leader: Leader | None,
                 lang: str) -> tuple[Reading, str | None]:
    """The previous reading narrowed to its first row's value, no longer ranked, and the
    assumption that says so; the reading unranked and None when the value is not known."""
    dimension = previous.dimensions[0]
    # Only "the best X" names one row; after "the top 3" the drill-down would be of which one?
    one_row = previous.ranking is not None and previous.ranking.limit == 1
    value = leader(dimension) if leader is not None and one_row else None
    unranked = replace(previous, ranking=None)
    if value is None:
        return unranked, None
    filters = (*((d, v) for d, v in previous.filters if d != dimension), (dimension, (value,)))
    narrowed = replace(unranked, filters=tuple(filters),
                       dimensions=tuple(d for d in previous.dimensions if d != dimension))
    return narrowed, say("planner.first_of_previous", lang, value=value)


def _as_cues(text: str) -> str:
    """The normalized text the cue patterns read: "right now" is no "now"."""
    return NOT_A_CUE.sub(" ", text).strip()


def _is_follow_up(fragment: Reading, ranking: Ranking | None) -> bool:
    text = _as_cues(fragment.text)
    if LEAD.match(text) or REPLACES.search(text) or POINTS_BACK.search(text):
        return True
    if fragment.metrics:
        return False  # a question of its own
    if len(text.split()) > LONG:
        # A whole sentence with no follow-up cue asks something of its own, even when it names
        # a value of the previous question ("how long is a deal registered by a partner
        # protected?" after partner revenue).
        return False
    return bool(fragment.time.periods or fragment.time.year_earlier or fragment.mentions.values
                or fragment.mentions.dimensions or ranking)


def _ranking(fragment: Reading, previous: Ranking | None) -> Ranking | None:
    """The fragment's ranking, before any rule drops it for want of a dimension; without a
    count of its own, the previous one's ("and the worst ones?")."""
    found = parse_ranking(fragment.outside_time, fragment.mentions.dimension_starts, True)
    if found is None:
        return None
    counts = [int(w) for w in fragment.outside_time.split() if NUMBER.match(w)]
    if counts and 0 < counts[0] <= 100:
        return Ranking(counts[0], found.descending)
    if previous is not None and found.limit in (1, 5):
        return Ranking(previous.limit, found.descending)
    return found


# ---------------------------------------------------------------- merging


def _filters(previous: Reading, fragment: Reading, metrics: tuple[str, ...],
             model: SemanticModel) -> Filters:
    # The fragment's values read against the metrics they filter (a region or a country).
    picked = pick_filters(replace(fragment, metrics=metrics), model).filters
    merged = dict(previous.filters)
    merged.update(picked)
    return tuple(merged.items())


def _dimensions(previous: Reading, fragment: Reading, drill: bool) -> tuple[str, ...]:
    if not fragment.dimensions:
        return previous.dimensions
    if drill or REPLACES.search(_as_cues(fragment.text)):
        return fragment.dimensions
    return tuple(dict.fromkeys((*previous.dimensions, *fragment.dimensions)))


def _period_shift(text: str) -> tuple[str, str, int]:
    """The text with a "the quarter before" phrase blanked, the phrase, and its steps in
    months (± the unit's length)."""
    found = PERIOD_SHIFT.search(text)
    if found is None:
        return text, "", 0
    word = found.group("en") or found.group("en2") or found.group("fr") or ""
    unit = found.group("u1") or found.group("u2") or found.group("u3") or ""
    blanked, phrase = _blanked(text, PERIOD_SHIFT)
    months = UNIT_MONTHS.get(unit, 0)
    return blanked, phrase, months if word in LATER else -months


def _time(previous: Reading, fragment: Reading, year_before: str, steps: int = 0
          ) -> tuple[Period | None, tuple[Period, Period] | None, bool]:
    """(period, comparison, whether the fragment changed them)."""
    if fragment.comparison:
        return None, fragment.comparison, True
    if fragment.period:
        return fragment.period, None, True
    base = previous.period or (previous.comparison[0] if previous.comparison else None)
    # "the quarter before" shifts a quarter, not a year: the units must agree, else it is named.
    shifted = (period_shifted(base, steps // abs(steps))
               if steps and base is not None and period_months(base) == abs(steps) else None)
    if shifted is not None:
        return shifted, None, True
    if steps:
        return previous.period, previous.comparison, False  # the phrase is named, not guessed
    if (year_before or fragment.time.year_earlier) and base is not None:
        return year_earlier(base), None, True
    return previous.period, previous.comparison, False


def _assumptions(previous: Reading, fragment: Reading, merged: Reading,
                 time_changed: bool) -> tuple[str, ...]:
    """The previous reading's assumptions about what the fragment kept, the fragment's about
    what it changed, and "all dates" when no period is asked."""
    everything = {_all_dates(previous), _all_dates(fragment)}
    times = fragment.time if time_changed else previous.time
    source = fragment if fragment.metrics and merged.metrics == fragment.metrics else previous
    kept = [a for a in source.assumptions
            if a not in everything and a not in source.time.assumptions]
    dated = merged.period or merged.comparison
    all_dates = [] if dated or not merged.metrics else [_all_dates(merged)]
    return tuple(dict.fromkeys((*times.assumptions, *kept, *all_dates)))


def _leftovers(fragment: Reading, ranking: Ranking | None,
               unanchored: str) -> tuple[Leftover, ...]:
    """The fragment's unexplained words, less the follow-up cues (and the ranking's words)."""
    def explained(word: str) -> bool:
        ranked = ranking is not None and (
            NUMBER.match(word) or DESC_CUES.fullmatch(word) or ASC_CUES.fullmatch(word))
        # A ranking with no dimension of its own is left whole by the fragment's reading
        # ("les 3 premiers"): its function words are as empty here as anywhere.
        return word in FOLLOW_UP_WORDS or word in EMPTY_WORDS or bool(ranked)

    kept = []
    for left in fragment.leftovers:
        words = [w for w in left.words.split() if not explained(w)]
        if words:
            kept.append(replace(left, words=" ".join(words)))
    if unanchored:  # "the year before" a question that asked for no period
        kept.append(Leftover(unanchored, (0, 0), False))
    return tuple(kept)


def _metrics(previous: Reading, fragment: Reading) -> tuple[str, ...]:
    # "only Enterprise customers": a counted noun after a value qualifies it, it is no metric.
    qualifies = not fragment.mentions.named and bool(fragment.mentions.values)
    return previous.metrics if qualifies or not fragment.metrics else fragment.metrics


def _unanchored(fragment: Reading, year_before: str) -> str:
    """The words asking for a year earlier than the previous period ("" when none do)."""
    if year_before:
        return year_before
    if fragment.time.year_earlier:
        return " ".join(fragment.text[s:e] for s, e in fragment.time.spans) or fragment.text
    return ""


def _merged(previous: Reading, fragment: Reading, model: SemanticModel,
            ranking: Ranking | None, year_before: str, drill: bool, steps: int = 0) -> Reading:
    metrics = _metrics(previous, fragment)
    period, comparison, time_changed = _time(previous, fragment, year_before, steps)
    if drill and ranking is None:
        ranking = DRILL_RANKING
    merged = replace(
        fragment,
        metrics=metrics,
        dimensions=_dimensions(previous, fragment, drill),
        filters=_filters(previous, fragment, metrics, model),
        period=period,
        comparison=comparison,
        ranking=ranking or previous.ranking,
        share=fragment.share or previous.share,
        time=fragment.time if time_changed else previous.time,
        leftovers=_leftovers(fragment, ranking, "" if time_changed else _unanchored(fragment,
                                                                                   year_before)),
    )
    merged = replace(merged, assumptions=_assumptions(previous, fragment, merged, time_changed))
    return settle_share_and_ranking(drop_filtered_dimensions(merged, model), model)
