"""What a data answer understood, said back to the user so that a misreading shows at a glance.

`restated`: the plan in the user's language (the planner's own restatement when it gives one,
else one built here from the plan's metrics, breakdowns, filters and period). `unplaced`: the
words nothing explained, never echoing more than `MAX_ECHO` characters of the question.
`close_questions`: questions the planner answers with confidence, built from what it did
understand (its metrics, or the model's metrics named like the question's words, its
breakdowns and its period), the planner's fixed suggestions only as a top-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agents.language import normalize
from agents.messages import say
from agents.sql.planner import Plan, PlanningContext, plan_question, suggestions
from agents.sql.semantic_model import SemanticModel

MAX_ECHO = 200  # characters of the user's own words an answer may repeat
MAX_CANDIDATES = 20  # close questions tried through the planner, at most
# Question words too common to tie a question to a metric ("how many", "combien de").
FILLER = frozenset({
    "many", "much", "what", "which", "when", "where", "does", "have", "were", "with", "from",
    "that", "this", "there", "their", "show", "give", "tell", "list", "number", "total", "count",
    "combien", "quel", "quelle", "quels", "quelles", "nombre", "avons", "sont", "dans", "pour",
    "avec", "montre", "donne", "liste", "quoi", "etait", "etaient",
})
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def restated(plan: Plan, model: SemanticModel) -> str | None:
    """The plan in the user's language, or None when nothing of the question was placed."""
    if plan.understood_as.strip():
        return plan.understood_as.strip()
    lang = plan.lang
    pieces: list[str] = []
    names = [model.metrics[k].name(lang) for k in plan.metrics if k in model.metrics]
    if names:
        pieces.append(", ".join(names))
    dims = [model.dimensions[d].name(lang).lower() for d in plan.dimensions
            if d in model.dimensions]
    if dims:
        pieces.append(say("ask.understood_by", lang, names=", ".join(dims)))
    pieces += [f"{model.dimensions[k].name(lang)} = {', '.join(values)}"
               for k, values in plan.filters if k in model.dimensions]
    if plan.comparison:
        current, previous = plan.comparison
        pieces.append(say("ask.understood_compared", lang, current=current.label,
                          previous=previous.label))
    elif plan.period:
        pieces.append(say("ask.understood_in", lang, label=plan.period.label))
    if plan.ranking:
        key = "ask.understood_top" if plan.ranking.descending else "ask.understood_bottom"
        pieces.append(say(key, lang, limit=plan.ranking.limit))
    pieces += [say("ask.understood_correction", lang, written=quoted(w, lang),
                   read=quoted(r, lang)) for w, r in plan.corrections]
    return ", ".join(pieces) or None


def unplaced(words: Iterable[str], budget: int = MAX_ECHO) -> tuple[str, ...]:
    """The words left unexplained, deduplicated, `budget` characters of them at most."""
    kept: list[str] = []
    for raw in words:
        word = " ".join(str(raw).split())
        if not word or word in kept:
            continue
        if len(word) > budget:
            if budget > 1:
                kept.append(word[:budget - 1].rstrip() + "…")
            break
        kept.append(word)
        budget -= len(word)
    return tuple(kept)


def quoted(text: str, lang: str) -> str:
    return say("ask.quoted", lang, text=text)


def honest_lead(plan: Plan, words: tuple[str, ...], understood: str | None, lang: str) -> str:
    """Why the question is not answered: the words not understood, what was, the problem."""
    understood = understood if plan.metrics else None  # "what I did understand" needs a metric
    if not words:
        lead = say("ask.not_understood", lang)
        lead = f"{lead} {plan.problem}" if plan.problem else lead
        return f"{lead} {say('ask.understood_so_far', lang, understood=understood)}" \
            if understood else lead
    named = ", ".join(quoted(w, lang) for w in words)
    key = "ask.unknown_word" if len(words) == 1 else "ask.unknown_words"
    text = say(key, lang, words=named)
    if understood:
        text += " " + say("ask.understood_so_far", lang, understood=understood)
    # The planner's own reason, unless it only names the same words again (and echoes them).
    problem = plan.problem or ""
    if problem and not any(w.rstrip("…").lower() in problem.lower() for w in words):
        text += f" {problem}"
    return text


def close_questions(plan: Plan, ctx: PlanningContext, lang: str, limit: int = 3) -> list[str]:
    """Up to `limit` questions the planner answers confidently, close to what was understood."""
    found: list[str] = []
    seen = {normalize(plan.question)}
    for candidate in _candidates(plan, ctx, lang):
        key = normalize(candidate)
        if key in seen:
            continue
        seen.add(key)
        tried = plan_question(candidate, ctx)
        if tried.confident and tried.sql and not tried.not_understood:
            found.append(candidate)
            if len(found) == limit:
                return found
        if len(seen) > MAX_CANDIDATES:
            break
    for fixed in suggestions(ctx.model, lang):
        if len(found) < limit and normalize(fixed) not in {normalize(f) for f in found}:
            found.append(fixed)
    return found


def _candidates(plan: Plan, ctx: PlanningContext, lang: str) -> list[str]:
    """The plan's metrics (or those named like its words) by its breakdowns, alone, then by
    other breakdowns: in its period, then in the last full year of the data, then in any."""
    model = ctx.model
    metrics = list(plan.metrics) or _metrics_named_like(plan.question, model)
    names = [model.metrics[k].name(lang) for k in metrics if k in model.metrics][:3]
    period = plan.comparison[0] if plan.comparison else plan.period
    labels = list(dict.fromkeys([*([period.label] if period else []), str(_last_full_year(ctx))]))
    asked = [d for d in plan.dimensions if d in model.dimensions]
    others = [k for k, d in model.dimensions.items() if k not in asked and not d.is_time][:2]

    def phrased(metric: str, dim: str | None, label: str | None) -> str:
        text = metric if dim is None else say(
            "ask.close_by", lang, metric=metric, dimension=model.dimensions[dim].name(lang).lower())
        return say("ask.close_in", lang, question=text, label=label) if label else text

    found: list[str] = []
    for label in labels:
        found += ([phrased(n, d, label) for d in asked for n in names]
                  + [phrased(n, None, label) for n in names]
                  + [phrased(n, d, label) for d in others for n in names])
    return found + [phrased(n, None, None) for n in names]


def _last_full_year(ctx: PlanningContext) -> int:
    """The last calendar year the data covers in full."""
    anchor = ctx.anchor
    return anchor.year if (anchor.month, anchor.day) == (12, 31) else anchor.year - 1


def _metrics_named_like(question: str, model: SemanticModel) -> list[str]:
    """The model's metrics whose name or synonyms share a word with the question."""
    asked = {_stem(w) for w in normalize(question).split() if len(w) > 3 and w not in FILLER}
    found = []
    for key, metric in model.metrics.items():
        phrases = [*metric.names.values(), *(s for v in metric.synonyms.values() for s in v)]
        words = {_stem(w) for p in phrases for w in normalize(p).split()
                 if len(w) > 3 and w not in FILLER}
        if asked & words:
            found.append(key)
    return found


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def markdown_literal(text: str) -> str:
    """User or analyst text shown in Markdown as typed (no links, emphasis or directives)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def highlighted(words: Iterable[str]) -> str:
    """The words not understood, each marked for the chat (Streamlit Markdown)."""
    return " ".join(f":orange-background[{markdown_literal(w)}]" for w in words)
