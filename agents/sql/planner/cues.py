"""The model's own cue words, compiled once per process: what implies a metric, what a metric
counts, the verbs that date a source's rows, the model's currency names.

Everything here comes from `seed_data/semantic_model.yaml` (see its header); the planner's code
names no metric and no word of this business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agents.language import normalize
from agents.sql.semantic_model import SemanticModel

NOTHING = re.compile(r"(?!x)x")


def alternation(words: Iterable[str]) -> str:
    """Normalized phrases as one regex alternation, longest first; `word*` is a stem."""
    phrases = {normalize(w.rstrip("*")).replace("-", " ") + ("*" if w.endswith("*") else "")
               for w in words if normalize(w.rstrip("*"))}
    return "|".join(re.escape(p[:-1]) + r"[a-z]*" if p.endswith("*") else re.escape(p)
                    for p in sorted(phrases, key=lambda p: (-len(p), p)))


def word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    body = alternation(words)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])") if body else NOTHING


@dataclass(frozen=True)
class Implication:
    """A metric implied, with no metric named, by a verb (after a lead when it has one)."""

    key: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class ModelCues:
    implied: tuple[Implication, ...]
    implied_words: re.Pattern[str]  # every lead and verb, for the words a question explains
    counted: frozenset[str]  # the nouns count metrics count
    instead_of: tuple[tuple[str, str, re.Pattern[str]], ...]  # (meant, instead of, cues)
    instead_words: re.Pattern[str]
    time_words: re.Pattern[str]
    currency_names: re.Pattern[str]
    # metric -> the words of its names and synonyms ("nombre de clients" + "actifs").
    metric_words: dict[str, frozenset[str]]


def _implications(model: SemanticModel) -> tuple[Implication, ...]:
    found: list[tuple[int, Implication]] = []
    for metric in model.metrics.values():
        for implied in metric.implied_by:
            verbs = rf"\b(?:{alternation(implied.verbs)})\b"
            lead = rf"\b(?:{alternation(implied.leads)})\b.*" if implied.leads else ""
            pattern = lead + verbs
            # A lead and a verb are more specific than a verb alone: they are tried first.
            found.append((0 if implied.leads else 1, Implication(metric.key, re.compile(pattern))))
    return tuple(i for _, i in sorted(found, key=lambda f: f[0]))


def build_cues(model: SemanticModel) -> ModelCues:
    metrics = model.metrics.values()
    instead = tuple((m.key, m.instead_of[0], word_pattern(m.instead_of[1]))
                    for m in metrics if m.instead_of)
    return ModelCues(
        implied=_implications(model),
        implied_words=word_pattern(w for m in metrics for i in m.implied_by
                                   for w in (*i.leads, *i.verbs)),
        counted=frozenset(normalize(w) for m in metrics for w in m.counts),
        instead_of=instead,
        instead_words=word_pattern(w for m in metrics if m.instead_of for w in m.instead_of[1]),
        time_words=word_pattern(w for s in model.sources.values() for w in s.time_words),
        currency_names=word_pattern(model.currency_names),
        metric_words={m.key: frozenset(w for p in (*m.names.values(), *(s for v in
                                                   m.synonyms.values() for s in v))
                                       for w in normalize(p).replace("-", " ").split())
                      for m in metrics},
    )
