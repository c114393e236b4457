"""The typed answer every surface (app, CLI, tests) renders, and its JSON contract.

Data answers: one sentence with the key figure, the table, the SQL, the business definition and
a chart hint. Document answers: extractive passages with numbered citations (offline), each
source with title, section or page, and date.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from agents.ask.router import RouteName
from agents.errors import AssistantError
from agents.messages import say
from agents.sql.executor import to_json_value

# What went wrong, when something did. `Answer.error` stores `Fault.code`: the kind itself, the
# class name of the AssistantError a stage raised ("GuardRejected", "ProviderError", ...), or
# "internal: <class>" for a bug. The query log, `sourced ask --json` and the monitoring page read
# those strings, so their spelling is the contract, not the kind.
ErrorKind = Literal["bad_input", "not_understood", "log_failed", "stage_error", "internal"]


@dataclass(frozen=True)
class Fault:
    kind: ErrorKind
    name: str = ""  # the exception's class, for "stage_error" and "internal"

    @property
    def code(self) -> str:
        if self.kind == "stage_error":
            return self.name
        if self.kind == "internal":
            return f"internal: {self.name}"
        return self.kind

    @classmethod
    def of(cls, exc: Exception) -> Fault:
        """A failed stage's AssistantError, known by its class name; anything else is a bug."""
        kind: ErrorKind = "stage_error" if isinstance(exc, AssistantError) else "internal"
        return cls(kind, type(exc).__name__)


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
    uploaded_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "path": self.path,
            "section": self.section,
            "page": self.page,
            "modified": self.modified,
            "score": round(self.score, 6),
            "uploaded_by": self.uploaded_by,
        }


@dataclass(frozen=True)
class Chart:
    kind: str  # line | bar | metric | compare | none
    x: str | None = None
    y: tuple[str, ...] = ()  # compare: current, previous, change, percent change
    color: str | None = None  # a second dimension: one colour (and legend entry) per value


@dataclass
class Answer:
    question: str
    user: str
    route: RouteName
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
    error: str | None = None  # a Fault's code
    refusal_reason: str | None = None
    suggestions: list[str] = field(default_factory=list)
    verified_by: str | None = None  # the trusted badge: "Verified by chloe on 2026-03-02"
    verified_id: int | None = None
    sql_source: str | None = None  # planner | llm | verified
    # Data answers: what the question was read as, in the user's language, and the words
    # nothing explained (at most 200 characters of them); None and [] for other answers.
    understood_as: str | None = None
    not_understood: list[str] = field(default_factory=list)
    variant: str | None = None
    regenerated_from: str | None = None
    tokens: int | None = None
    # Follow-ups: the earlier answer (same user) this one continued, None when it stood alone;
    # and the standalone question the model rewrote it into, when it did.
    follow_up_of: str | None = None
    standalone_question: str | None = None
    # "both": the documents' part of `text` (its end), which a page shows beside the sources,
    # after the data part's table and SQL.
    documents_text: str = ""

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
            "chart": {"kind": self.chart.kind, "x": self.chart.x, "y": list(self.chart.y),
                      "color": self.chart.color},
            "sources": [s.as_json() for s in self.sources],
            "mode": self.mode,
            "origin": self.origin,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "error": self.error,
            "suggestions": list(self.suggestions),
            "sql_source": self.sql_source,
            "understood_as": self.understood_as,
            "not_understood": list(self.not_understood),
            "verified_by": self.verified_by,
            "variant": self.variant,
            "follow_up_of": self.follow_up_of,
        }


def answer_table(answer: Answer) -> tuple[list[str], list[list[Any]]]:
    """Readable headers and values for display (numbers stay numbers; the app formats them)."""
    headers = [
        answer.column_labels.get(c, c.replace("_", " ").capitalize()) for c in answer.columns
    ]
    rows = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in answer.rows]
    return headers, rows


def shown_text(answer: Answer) -> str:
    """The text for a page that shows the suggestions as buttons: without their bullet list."""
    bullets = {f"- {s}" for s in answer.suggestions}
    return "\n".join(line for line in answer.text.split("\n") if line not in bullets).strip()


def shown_parts(answer: Answer) -> tuple[str, str]:
    """shown_text in two: the data part's and the documents' ("" unless both answered)."""
    text, documents = shown_text(answer), answer.documents_text.strip()
    if documents and text.endswith(documents) and len(text) > len(documents):
        return text[:-len(documents)].rstrip(), documents
    return text, ""


def source_line(source: Source, lang: str) -> str:
    where = []
    if source.section:
        where.append(source.section)
    if source.page:
        where.append(f"p. {source.page}")
    place = f" — {', '.join(where)}" if where else ""
    uploaded = (" · " + say("ask.uploaded_by", lang, login=source.uploaded_by)
                if source.uploaded_by else "")
    return (f"[{source.number}] {source.title}{place} ({source.modified}) · `{source.path}`"
            f"{uploaded}")
