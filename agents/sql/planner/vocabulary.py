"""The planner's vocabulary: every phrase of the semantic model, found in a question at once.

All the model's names, synonyms and values make one word trie: finding them in a question is
one walk over its words, leftmost-longest, whatever the size of the model. (A compiled regex
alternation of the same phrases matched the same way, but compiling thousands of phrases cost
more than the rest of a command-line question.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agents.language import normalize
from agents.sql.semantic_model import Dimension, SemanticModel

Span = tuple[int, int]
# What a phrase can mean: (kind, key, value); kind is metric | dimension | value.
Sense = tuple[str, str, str | None]

FILLER_WORDS = frozenset({"of", "the", "our", "a", "de", "des", "du", "la", "le", "les", "d",
                          "l", "nos", "notre", "un", "une"})
# Metrics before dimensions before values: deterministic whatever the hash seed.
KIND_RANK = {"metric": 0, "dimension": 1, "value": 2}


# A word of a normalized text ("%" is a word of its own: "gross margin %").
WORD = re.compile(r"[a-z0-9]+|%")
# A trie node: next word -> node; END -> the phrase that ends here.
Trie = dict[str, "Trie | str"]
END = ""


@dataclass(frozen=True)
class Vocabulary:
    """Every phrase the planner knows, normalized, as one word trie."""

    # phrase -> its readings (kind, key, value), most specific first
    entries: dict[str, tuple[Sense, ...]]
    # The phrases' words, one level per word: the longest known phrase wins at any word.
    trie: Trie
    # phrase -> how the original question must spell it (see SPELLED_AS_NAMES)
    spelled: dict[str, re.Pattern[str]]

    @property
    def phrases(self) -> tuple[tuple[str, str, str, str | None], ...]:
        return tuple((p, k, key, v) for p, readings in self.entries.items()
                     for k, key, v in readings)


@dataclass(frozen=True)
class Match:
    """A known phrase found in the question, with what it reads as."""

    start: int
    end: int
    kind: str  # metric | dimension | value
    key: str
    value: str | None = None
    phrase: str = ""
    # Other readings of the same words (a region and a country of one name): (key, value).
    alternatives: tuple[tuple[str, str], ...] = ()
    # A metric phrase that also names a dimension ("customers"): that dimension.
    dimension: str | None = None


def flat(text: str) -> str:
    # "royaume-uni", "mid-market", "best-selling" match whether written with a hyphen or not;
    # same length, so spans found in the flat text are spans of the normalized one.
    return text.replace("-", " ")


def mask(text: str, spans: Iterable[Span]) -> str:
    """The text with the given spans blanked out, positions unchanged."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def words_between(text: str, start: int, end: int) -> int:
    return sum(1 for w in text[start:end].split() if w not in FILLER_WORDS)


def _dimension_phrases(dim: Dimension, spelled: dict[str, str]) -> list[tuple[str, Sense]]:
    """A dimension's names and values; one-word values without the dimension's prefix (the
    model's `strip_prefix`) count only when written as names, so they join `spelled`."""
    found: list[tuple[str, Sense]] = [
        (phrase, ("dimension", dim.key, None))
        for phrase in [*dim.names.values(), *(s for v in dim.synonyms.values() for s in v)]
    ]
    for value in dim.values:
        found.append((value, ("value", dim.key, value)))
        prefix = dim.strip_prefix
        if prefix and value.lower().startswith(prefix.lower()):
            short = value[len(prefix):]
            found.append((short, ("value", dim.key, value)))
            if " " not in short.strip():
                spelled[normalize(short)] = short
    for value, synonyms in dim.value_synonyms.items():
        found.extend((phrase, ("value", dim.key, value)) for phrase in synonyms)
    return found


def _model_phrases(model: SemanticModel, spelled: dict[str, str]) -> list[tuple[str, Sense]]:
    found: list[tuple[str, Sense]] = [
        (phrase, ("metric", metric.key, None))
        for metric in model.metrics.values()
        for phrase in [*metric.names.values(), *(s for v in metric.synonyms.values() for s in v)]
    ]
    for dim in model.dimensions.values():
        found.extend(_dimension_phrases(dim, spelled))
    return found


def _ordered_readings(model: SemanticModel,
                      phrases: Sequence[tuple[str, Sense]]) -> dict[str, tuple[Sense, ...]]:
    dim_order = {key: i for i, key in enumerate(model.dimensions)}
    readings: dict[str, list[Sense]] = {}
    normalized = ((normalize(p), r) for p, r in phrases)
    unique = {(" ".join(WORD.findall(flat(n))), *r) for n, r in normalized if n.strip()}
    for phrase, kind, key, value in sorted(unique):
        readings.setdefault(phrase, []).append((kind, key, value))
    # Among values, the model's dimension order: a region before a country of the same name.
    return {
        phrase: tuple(sorted(found, key=lambda r: (KIND_RANK[r[0]], dim_order.get(r[1], -1),
                                                   r[1], r[2] or "")))
        for phrase, found in readings.items()
    }


def build_vocabulary(model: SemanticModel) -> Vocabulary:
    # Everyday words that are also names count only when written as names ("US" the country,
    # not "us"): the model's `written_as`.
    spelled: dict[str, str] = {normalize(w): w for w in model.written_as}
    ordered = _ordered_readings(model, _model_phrases(model, spelled))
    trie: Trie = {}
    for phrase in ordered:
        node = trie
        for word in phrase.split(" "):
            child = node.setdefault(word, {})
            assert isinstance(child, dict)
            node = child
        node[END] = phrase
    return Vocabulary(
        entries=ordered,
        trie=trie,
        spelled={flat(normalize(k)): re.compile(rf"(?<![A-Za-z]){re.escape(v)}(?![A-Za-z])")
                 for k, v in spelled.items()},
    )


def find_phrases(text: str, question: str, vocabulary: Vocabulary,
                 taken: Iterable[Span]) -> tuple[Match, ...]:
    """Known phrases of the normalized text outside `taken` spans, leftmost-longest."""
    matches: list[Match] = []
    for start, end, phrase in _longest_phrases(flat(mask(text, taken)), vocabulary.trie):
        spelling = vocabulary.spelled.get(phrase)
        if spelling is not None and not spelling.search(question):
            continue
        readings = vocabulary.entries[phrase]
        kind, key, value = readings[0]
        alternatives = tuple((k2, v2) for kind2, k2, v2 in readings[1:]
                             if kind2 == "value" and kind == "value" and v2 is not None)
        dimension = next((k2 for kind2, k2, _ in readings[1:] if kind2 == "dimension"), None)
        matches.append(Match(start, end, kind, key, value, phrase, alternatives,
                             dimension if kind == "metric" else None))
    return tuple(matches)


def _longest_phrases(text: str, trie: Trie) -> Iterable[tuple[int, int, str]]:
    """(start, end, phrase) of the known phrases of `text`, leftmost-longest: at each word the
    longest phrase starting there, then on after it. A phrase's words are one space apart in the
    text too, so a masked span between two words breaks a phrase, as it did the regex."""
    words = [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(text)]
    i = 0
    while i < len(words):
        node: Trie | str = trie
        found: tuple[int, str] | None = None
        j = i
        while j < len(words) and isinstance(node, dict):
            if j > i and text[words[j - 1][1]:words[j][0]] != " ":
                break
            node = node.get(words[j][2], "")
            ends = words[j][1]
            # "%" ends a phrase only before a non-word character, like the regex's lookahead.
            if (isinstance(node, dict) and isinstance(node.get(END), str)
                    and not (ends < len(text) and text[ends].isalnum())):
                found = (j, str(node[END]))
            j += 1
        if found is None:
            i += 1
            continue
        last, phrase = found
        yield words[i][0], words[last][1], phrase
        i = last + 1
