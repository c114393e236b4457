"""Every word accounted for: which words of a question no rule explained.

The question is tagged: each span a rule read (time, metric, dimension, value, currency) becomes
a run of capitals of the same length, so that the cue patterns below can say "a grouping word
before a dimension" without losing positions. The cues of the planner's rules are blanked out,
then the empty words of words.py; what is left was not understood, and makes the plan not
confident. Adjacent leftovers (bridged by one empty word) are named together: "member of staff".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agents.sql.planner.counts import NUMBER
from agents.sql.planner.cues import ModelCues
from agents.sql.planner.periods import COMPARE_WORDS, GROWTH_CUES
from agents.sql.planner.ranking import ASC_CUES, DESC_CUES, EXPLICIT_COUNT, RANK_CUES
from agents.sql.planner.vocabulary import Match, Span
from agents.sql.planner.words import EMPTY_WORDS, FILTER_WORDS, RULE_PHRASES

TAGS = {"metric": "M", "dimension": "D", "value": "V", "time": "T", "currency": "C"}
GROUPING = (r"by|per|par|each|chaque|across|for each|pour chaque|selon|split by|broken down by|"
            r"breakdown by|repartition par|ventile par|in each|dans chaque|among|parmi|de chaque|"
            r"for every|pour tous les|pour toutes les|grouped by|groupe par|on|sur|entre|between")
# A grouping or ranking word before a dimension (or a counted noun read as one).
BEFORE_DIMENSION = re.compile(
    rf"\b(?:{GROUPING}|{RANK_CUES}|[0-9]+)\s+(?:(?:the|les|la|le|l|our|nos|des|[0-9]+)\s+)*"
    rf"(?=[DMV]+\b)")
# Numbers and words the rankings read: "top 5", "the 3 products".
RANK_WORDS = re.compile(rf"\b{NUMBER}\b(?=\s+(?:[a-z-]+\s+){{0,3}}[DM]+\b)")
AGGREGATES = re.compile(r"\b(?:average|avg|mean|median|moyen|moyenne|moyens|moyennes|mediane)\b")
WHO = re.compile(r"^(?:who|qui)\b")
SHARE = re.compile(r"\b(?:share|part|proportion|percentage|pourcentage|percent|pourcent|mix|"
                   r"repartition|breakdown)\b|%")
OWN_RULES = re.compile(r"\b(?:" + "|".join(RULE_PHRASES) + r")\b")
# Before a dating verb, these ask for a state now, which no count of dated rows answers.
STATE = re.compile(r"\b(?:are|is|still|currently|remain|remaining|stay|toujours|encore|restent|"
                   r"reste|sont|est)\s+$")
MAX_ECHO = 200


@dataclass(frozen=True)
class Leftover:
    """Words no rule explained, as written in the normalized question, and where."""

    words: str
    span: Span
    after_filter_word: bool  # "in Antarctica", "à Paris": where a filter value would be


def tagged(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    chars = list(text)
    for start, end, kind in spans:
        chars[start:end] = TAGS[kind] * (end - start)
    return "".join(chars)


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _blank_time_words(text: str, pattern: re.Pattern[str]) -> str:
    # "tickets opened in 2024" dates the tickets; "tickets still open" asks for a state.
    for m in pattern.finditer(text):
        if not STATE.search(text[: m.start()]):
            text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end():]
    return text


def _blank_name_words(text: str, matches: Iterable[Match], cues: ModelCues) -> str:
    # "nombre de clients actifs": the longest phrase found first leaves a word of another name
    # of the same metric just after it; it is that name, not an unknown word.
    for m in matches:
        words = cues.metric_words.get(m.key) if m.kind == "metric" else None
        after = re.match(r"\s+([a-z]+)\b", text[m.end:])
        if words and after and after.group(1) in words:
            start, end = m.end + after.start(1), m.end + after.end(1)
            text = text[:start] + " " * (end - start) + text[end:]
    return text


def explained_by_rules(text: str, cues: ModelCues, non_additive: bool, per: bool,
                       matches: Iterable[Match] = ()) -> str:
    """The tagged text with every cue of the planner's rules blanked out."""
    text = _blank_name_words(_blank_time_words(text, cues.time_words), matches, cues)
    patterns: list[re.Pattern[str]] = [
        cues.implied_words, cues.instead_words, cues.currency_names, OWN_RULES,
        BEFORE_DIMENSION, RANK_WORDS, EXPLICIT_COUNT, DESC_CUES, ASC_CUES, COMPARE_WORDS,
        GROWTH_CUES, SHARE, WHO,
    ]
    if non_additive:
        # "satisfaction moyenne": an average that is the metric itself, not one of a sum.
        patterns.append(AGGREGATES)
    if per:
        patterns.append(re.compile(r"\b(?:per|par)\b(?=\s+M)"))
    for pattern in patterns:
        text = _blank(text, pattern)
    return text


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[^\s-]+", text)]


def _is_content(word: str) -> bool:
    return not word.isupper() and word not in EMPTY_WORDS


def leftovers(text: str, explained: str) -> tuple[Leftover, ...]:
    """Runs of unexplained words; one empty word between two of them joins the run."""
    tokens = _tokens(explained)
    runs: list[list[int]] = []
    for i, (word, _, _) in enumerate(tokens):
        if not _is_content(word):
            continue
        bridged = (runs and runs[-1][-1] == i - 2 and tokens[i - 1][0] in EMPTY_WORDS)
        if runs and (runs[-1][-1] == i - 1 or bridged):
            runs[-1].append(i)
        else:
            runs.append([i])
    found = []
    for run in runs:
        start, end = tokens[run[0]][1], tokens[run[-1]][2]
        before = tokens[run[0] - 1][0] if run[0] > 0 else ""
        found.append(Leftover(text[start:end], (start, end), before in FILTER_WORDS))
    return tuple(found)


def written_as(question_words: dict[str, str], words: str) -> str:
    """The leftover as the user wrote it ("Antarctica", "élève"), word by word when known."""
    return " ".join(question_words.get(w, w) for w in words.split())


def echo(words: Sequence[str]) -> tuple[str, ...]:
    """At most MAX_ECHO characters of the user's words in all."""
    kept: list[str] = []
    used = 0
    for word in words:
        room = MAX_ECHO - used
        if room <= 0:
            break
        word = word if len(word) <= room else word[: max(room - 1, 0)] + "…"
        kept.append(word)
        used += len(word)
    return tuple(kept)


def spans_of(time_spans: Iterable[Span], matches: Iterable[Match],
             currency_spans: Iterable[Span]) -> list[tuple[int, int, str]]:
    return [*((s, e, "time") for s, e in time_spans),
            *((m.start, m.end, m.kind) for m in matches),
            *((s, e, "currency") for s, e in currency_spans)]
