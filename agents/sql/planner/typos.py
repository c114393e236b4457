"""Typos in the model's names: "revnue" read as revenue, "chifre d'affaire" as chiffre d'affaires.

Only words no rule explained are looked at, against the words of the model's names, synonyms and
listed values (not the thousands of names the warehouse holds). A word of 5 to 7 letters may be
one edit away (Damerau-Levenshtein: insert, delete, substitute, swap two neighbours), 8 letters
or more two; shorter words are never corrected, and a word with two equally close readings is
left as it is. Words are normalized, so case and accents do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agents.language import normalize
from agents.sql.semantic_model import SemanticModel

MIN_LENGTH = 5


def max_edits(word: str) -> int:
    return 0 if len(word) < MIN_LENGTH else 1 if len(word) <= 7 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), or limit + 1 once beyond it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


@dataclass(frozen=True)
class TypoIndex:
    """The model's words by length, to compare a word only with those of a close length."""

    by_length: dict[int, tuple[tuple[str, frozenset[str]], ...]]  # (word, its letters)

    def correct(self, word: str) -> str | None:
        """The one model word within reach of `word`, or None (none, or more than one)."""
        limit = max_edits(word)
        if limit == 0 or not word.isalpha():
            return None
        best: dict[int, set[str]] = {}
        letters = frozenset(word)
        for length in range(len(word) - limit, len(word) + limit + 1):
            for target, its_letters in self.by_length.get(length, ()):
                # Each edit adds or removes at most one letter: a cheap bound first.
                if len(letters - its_letters) > limit or len(its_letters - letters) > limit:
                    continue
                d = distance(word, target, limit)
                if d <= limit:
                    best.setdefault(d, set()).add(target)
        if not best:
            return None
        closest = best[min(best)]
        return next(iter(closest)) if len(closest) == 1 and min(best) > 0 else None


def _model_words(model: SemanticModel) -> Iterable[str]:
    for metric in model.metrics.values():
        yield from metric.names.values()
        yield from (s for v in metric.synonyms.values() for s in v)
    for dim in model.dimensions.values():
        yield from dim.names.values()
        yield from (s for v in dim.synonyms.values() for s in v)
        if not dim.entity:
            yield from dim.values
            yield from (s for v in dim.value_synonyms.values() for s in v)


def build_typo_index(model: SemanticModel) -> TypoIndex:
    words = {w for phrase in _model_words(model)
             for w in normalize(phrase).replace("-", " ").split()
             if len(w) >= MIN_LENGTH - 2 and w.isalpha()}
    by_length: dict[int, list[tuple[str, frozenset[str]]]] = {}
    for word in sorted(words):
        by_length.setdefault(len(word), []).append((word, frozenset(word)))
    return TypoIndex({n: tuple(ws) for n, ws in by_length.items()})


def corrections(words: Iterable[str], index: TypoIndex) -> dict[str, str]:
    """Unexplained words -> the model word each is an unambiguous typo of."""
    found = {}
    for word in words:
        read = index.correct(word)
        if read is not None:
            found[word] = read
    return found
