"""Answer composition: the typed answer every surface (app, CLI, tests) renders.

Data answers: one sentence with the key figure, the table, the SQL, the business definition and
a chart hint. Document answers: extractive passages with numbered citations (offline), each
source with title, section or page, and date.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from agents.docs.retrieval import Passage
from agents.language import normalize
from agents.sql.executor import QueryResult, to_json_value


@dataclass(frozen=True)
class Source:
    number: int
    title: str
    path: str
    section: str | None
    page: int | None
    modified: str
    score: float
    passage: str

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "path": self.path,
            "section": self.section,
            "page": self.page,
            "modified": self.modified,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Chart:
    kind: str  # line | bar | metric | none
    x: str | None = None
    y: tuple[str, ...] = ()


@dataclass
class Answer:
    question: str
    user: str
    route: str
    text: str
    mode: str
    lang: str = "en"
    answer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    sql: str | None = None
    explanation: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    column_labels: dict[str, str] = field(default_factory=dict)
    column_formats: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    row_cap: int | None = None
    chart: Chart = field(default_factory=lambda: Chart("none"))
    sources: list[Source] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    origin: str = ""  # "from the warehouse" | "from documents" | both
    guard_allowed: bool | None = None
    guard_reason: str | None = None
    error: str | None = None
    refusal_reason: str | None = None
    suggestions: list[str] = field(default_factory=list)
    verified_by: str | None = None  # the trusted badge: "Verified by chloe on 2026-03-02"
    verified_id: int | None = None
    sql_source: str | None = None  # planner | llm | verified
    variant: str | None = None
    regenerated_from: str | None = None
    tokens: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The `sourced ask --json` contract."""
        return {
            "answer_id": self.answer_id,
            "question": self.question,
            "user": self.user,
            "route": self.route,
            "answer": self.text,
            "sql": self.sql,
            "explanation": self.explanation,
            "columns": list(self.columns),
            "rows": [[to_json_value(v) for v in row] for row in self.rows],
            "truncated": self.truncated,
            "chart": {"kind": self.chart.kind, "x": self.chart.x, "y": list(self.chart.y)},
            "sources": [s.as_json() for s in self.sources],
            "mode": self.mode,
            "origin": self.origin,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "error": self.error,
            "suggestions": list(self.suggestions),
            "sql_source": self.sql_source,
            "verified_by": self.verified_by,
            "variant": self.variant,
        }


# ---------------------------------------------------------------- number formatting


def format_value(value: Any, fmt: str | None, lang: str) -> str:
    """EUR with thousands separators, percentages, plain counts; French or English style."""
    if value is None:
        return "—"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, int | float | Decimal):
        return str(value)
    number = float(value)
    if fmt == "percent":
        text = f"{number * 100:,.1f}"
        return _localize(text, lang) + (" %" if lang == "fr" else "%")
    if fmt == "eur":
        text = f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.2f}"
        return ("€" + text) if lang == "en" else (_localize(text, lang) + " €")
    if fmt in ("score", "hours"):
        text = _localize(f"{number:,.2f}", lang)
        return text + (" h" if fmt == "hours" else "")
    if number == int(number):
        return _localize(f"{int(number):,}", lang)
    return _localize(f"{number:,.2f}", lang)


def _localize(text: str, lang: str) -> str:
    if lang != "fr":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


# ---------------------------------------------------------------- data answers


def chart_for(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    time_columns: tuple[str, ...],
    formats: dict[str, str],
) -> Chart:
    """Pick a chart from the result's shape and column types (never from model-written code)."""
    if not rows or not columns:
        return Chart("none")
    numeric = [
        c
        for i, c in enumerate(columns)
        if all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        and any(r[i] is not None for r in rows)
    ]
    labels = [c for c in columns if c not in numeric]
    # An integer year or month is numeric but is the axis, not the figure: measuring it would
    # plot `year` against itself (and show 2018 as the key metric of "revenue in 2018").
    values = [c for c in numeric if c not in time_columns] or numeric
    if len(rows) == 1 and len(numeric) >= 1 and not labels:
        return Chart("metric", None, tuple(values[:1]))
    if not numeric:
        return Chart("none")
    measure = tuple(c for c in values if formats.get(c) != "percent" or len(values) == 1)[
        :1
    ] or tuple(values[:1])
    time_like = [c for c in columns if c in time_columns] or [
        c
        for i, c in enumerate(columns)
        if c in labels and all(isinstance(r[i], date) for r in rows)
    ]
    if time_like:
        if measure[0] == time_like[0]:  # only time columns are numeric: nothing to plot
            return Chart("none")
        return Chart("line", time_like[0], measure)
    if labels:
        return Chart("bar", labels[0], measure)
    if numeric and len(numeric) > 1 and columns[0] in numeric and columns[0] in time_columns:
        return Chart("line", columns[0], measure)
    return Chart("none")


def data_sentence(
    result: QueryResult,
    labels: dict[str, str],
    formats: dict[str, str],
    lang: str,
    period_words: str = "",
) -> str:
    """One sentence with the key figure."""
    if not result.rows:
        return (
            "Aucune ligne ne correspond à cette question."
            if lang == "fr"
            else "No rows match this question."
        )
    columns = result.columns
    first = result.rows[0]
    if len(result.rows) == 1:
        parts = [
            f"{labels.get(c, c)}: **{format_value(v, formats.get(c), lang)}**"
            for c, v in zip(columns, first, strict=True)
        ]
        return "; ".join(parts) + (f" ({period_words})" if period_words else "") + "."
    numeric_idx = next(
        (
            i
            for i, c in enumerate(columns)
            if formats.get(c) and isinstance(first[i], int | float | Decimal)
        ),
        None,
    )
    count = len(result.rows)
    if numeric_idx is None:
        return f"{count} lignes." if lang == "fr" else f"{count} rows."
    label_idx = next(
        (i for i, v in enumerate(first) if not isinstance(v, int | float | Decimal)), None
    )
    column = columns[numeric_idx]
    value = format_value(first[numeric_idx], formats.get(column), lang)
    lead = str(first[label_idx]) if label_idx is not None else ""
    if lang == "fr":
        return (
            f"{count} lignes ; première : {lead} avec {labels.get(column, column)} = **{value}**."
        )
    return f"{count} rows; first: {lead} with {labels.get(column, column)} = **{value}**."


def answer_table(answer: Answer) -> tuple[list[str], list[list[Any]]]:
    """Readable headers and values for display (numbers stay numbers; the app formats them)."""
    headers = [
        answer.column_labels.get(c, c.replace("_", " ").capitalize()) for c in answer.columns
    ]
    rows = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in answer.rows]
    return headers, rows


# ---------------------------------------------------------------- document answers


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+(?=[A-ZÉÀ0-9«\"(-])", flat) if s.strip()]


STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "what",
        "which",
        "how",
        "do",
        "does",
        "did",
        "our",
        "we",
        "you",
        "about",
        "with",
        "by",
        "from",
        "at",
        "as",
        "it",
        "this",
        "that",
        "be",
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "d",
        "l",
        "et",
        "ou",
        "est",
        "sont",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "comment",
        "pour",
        "par",
        "sur",
        "dans",
        "au",
        "aux",
        "ce",
        "cette",
        "qui",
        "que",
        "quoi",
        "nos",
        "notre",
        "il",
        "elle",
        "on",
        "y",
        "en",
        "a",
    ]
)


def best_sentences(passage: str, question: str, limit: int = 2) -> list[str]:
    """The sentences of a passage sharing the most words with the question (extractive)."""
    wanted = {w for w in normalize(question).split() if w not in STOPWORDS and len(w) > 2}
    scored = []
    for index, sentence in enumerate(_sentences(passage)):
        words = set(normalize(sentence).split())
        overlap = len(wanted & words) + 0.5 * sum(
            1 for w in wanted for x in words if len(w) > 4 and x.startswith(w[:5])
        )
        scored.append((overlap, -index, sentence))
    scored.sort(reverse=True)
    picked = [s for score, _, s in scored[:limit] if score > 0] or [
        s for _, _, s in sorted(scored, key=lambda t: -t[1])[:1]
    ]
    order = {s: i for i, s in enumerate(_sentences(passage))}
    return sorted(picked, key=lambda s: order.get(s, 0))


def sources_from(passages: list[Passage]) -> list[Source]:
    return [
        Source(
            number=i,
            title=p.title,
            path=p.path,
            section=p.section,
            page=p.page,
            modified=p.modified_at.date().isoformat(),
            score=p.score,
            passage=p.content,
        )
        for i, p in enumerate(passages, start=1)
    ]


def extractive_answer(question: str, sources: list[Source], lang: str) -> str:
    """Offline document answer: the best sentences of the top passages, each cited [n]."""
    if not sources:
        return not_found_text(lang)
    lines = [
        "**Extraits des documents** (réponse hors ligne, sans modèle) :"
        if lang == "fr"
        else "**Excerpts from the documents** (offline answer, no model):"
    ]
    for source in sources[:3]:
        picked = best_sentences(source.passage, question)
        excerpt = " … ".join(picked)
        lines.append(f"- {excerpt} [{source.number}]")
    return "\n".join(lines)


def not_found_text(lang: str) -> str:
    """The one answer for 'nothing found': identical whether a document is missing or restricted."""
    if lang == "fr":
        return "Je n'ai trouvé aucun document qui réponde à cette question."
    return "I could not find any document that answers this question."


def source_line(source: Source, lang: str) -> str:
    where = []
    if source.section:
        where.append(source.section)
    if source.page:
        where.append(f"p. {source.page}")
    place = f" — {', '.join(where)}" if where else ""
    return f"[{source.number}] {source.title}{place} ({source.modified}) · `{source.path}`"


# ---------------------------------------------------------------- model-written answers


class CitationFilter:
    """Streams text while removing citations that point outside the retrieved sources.

    A model may write [7] with five passages, or cite a number it invented; that marker is
    dropped before the user sees it. Text is held back only while a bracket is open.
    """

    PATTERN = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        open_at = self._pending.rfind("[")
        if open_at != -1 and "]" not in self._pending[open_at:] and \
                len(self._pending) - open_at < 24:
            ready, self._pending = self._pending[:open_at], self._pending[open_at:]
        else:
            ready, self._pending = self._pending, ""
        return self._clean(ready)

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return self._clean(ready)

    def _clean(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
            kept = [n for n in numbers if n in self.valid]
            return "".join(f"[{n}]" for n in kept)

        return self.PATTERN.sub(keep, text)


def filter_citations(text: str, valid: set[int]) -> str:
    citations = CitationFilter(valid)
    return citations.feed(text) + citations.flush()


def passages_block(sources: list[Source]) -> str:
    """The retrieved passages for the prompt, each numbered; a passage cannot close the block."""
    blocks = []
    for source in sources:
        where = ", ".join(x for x in (source.section, f"p. {source.page}" if source.page else None)
                          if x)
        body = re.sub(r"</?\s*passages?\s*>", "", source.passage, flags=re.IGNORECASE)
        blocks.append(f"[{source.number}] {source.title}"
                      f"{f' — {where}' if where else ''} ({source.modified})\n{body}")
    return "\n\n".join(blocks)


def result_preview(columns: list[str], rows: list[tuple[Any, ...]], formats: dict[str, str],
                   lang: str, limit: int = 20) -> str:
    """The first rows as a small text table for the summary prompt (formatted like the app)."""
    lines = [" | ".join(columns)]
    for row in rows[:limit]:
        lines.append(" | ".join(format_value(v, formats.get(c), lang)
                                for c, v in zip(columns, row, strict=True)))
    return "\n".join(lines)


LANGUAGE_NAMES = {"fr": "French", "en": "English"}
