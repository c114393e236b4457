"""The chat's landing: example questions that fit the user (the metrics of the semantic model
whose tables they may query, the documents they may read) in their language, and what the
assistant can answer. Everything named comes from the semantic model and the document index,
so the code knows no metric, dimension or document of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from agents.app.documents import DocumentInfo
from agents.messages import say
from agents.sql.semantic_model import Dimension, Metric, SemanticModel
from agents.store.users import User

MAX_DATA_EXAMPLES = 3
MAX_DOC_EXAMPLES = 2
MAX_METRICS_LISTED = 8


@dataclass(frozen=True)
class Welcome:
    examples: tuple[str, ...]
    metrics: tuple[str, ...]  # metric names, in the user's language
    collections: tuple[str, ...]  # the top folders of the documents the user may read


def queryable_metrics(model: SemanticModel,
                      allowed_tables: frozenset[str] | None) -> list[Metric]:
    """The metrics whose source table the user's policy allows (ratios: both parts allowed);
    a policy with no table list (None) allows every table."""
    if allowed_tables is None:
        return list(model.metrics.values())
    allowed = {t.lower() for t in allowed_tables}

    def ok(metric: Metric, depth: int = 0) -> bool:
        if metric.ratio:
            return depth < 3 and all(m in model.metrics and ok(model.metrics[m], depth + 1)
                                     for m in metric.ratio)
        source = model.sources.get(metric.source or "")
        if source is None:
            return False
        table = source.from_.split()[0].lower() if source.from_.split() else ""
        return table in allowed or table.split(".")[-1] in {a.split(".")[-1] for a in allowed}

    return [m for m in model.metrics.values() if ok(m)]


def _first(dimensions: Sequence[Dimension], metric: Metric, *, grain: str | None = None,
           entity: bool = False) -> Dimension | None:
    """The first dimension of that kind the metric's source can be broken down by."""
    source = metric.source or ""
    for dim in dimensions:
        if grain is not None:
            if dim.grain == grain:
                return dim
            continue
        if dim.grain is None and dim.entity == entity and (not dim.columns
                                                           or source in dim.columns):
            return dim
    return None


def example_questions(model: SemanticModel, allowed_tables: frozenset[str] | None,
                      documents: Sequence[DocumentInfo], lang: str) -> tuple[str, ...]:
    """A breakdown, a trend and a ranking of the first metrics the user may query, and a
    question about each of the newest documents they may read."""
    metrics = queryable_metrics(model, allowed_tables)
    dims = list(model.dimensions.values())
    out: list[str] = []
    if metrics:
        first = metrics[0]
        by = _first(dims, first)
        year = _first(dims, first, grain="year")
        entity = _first(dims, first, entity=True)
        if by is not None:
            out.append(say("welcome.example_by", lang, metric=first.name(lang),
                           dimension=by.names.get(lang, by.names["en"]).lower()))
        if year is not None:
            second = metrics[1] if len(metrics) > 1 else first
            out.append(say("welcome.example_by", lang, metric=second.name(lang),
                           dimension=year.names.get(lang, year.names["en"]).lower()))
        if entity is not None:
            out.append(say("welcome.example_top", lang, metric=first.name(lang).lower(),
                           dimension=entity.names.get(lang, entity.names["en"]).lower()))
    # Documents in the user's language first, newest first within each language.
    readable = sorted((d for d in documents if not d.private), key=lambda d: d.language != lang)
    shown = readable[:MAX_DOC_EXAMPLES]
    out = out[:MAX_DATA_EXAMPLES] + [say("welcome.example_doc", lang, title=d.title)
                                     for d in shown]
    return tuple(out)


def collections(documents: Sequence[DocumentInfo]) -> tuple[str, ...]:
    """The folders of the readable documents, by their number of documents."""
    counts: dict[str, int] = {}
    for d in documents:
        top = PurePosixPath(d.path).parent.name
        if top:
            counts[top] = counts.get(top, 0) + 1
    return tuple(sorted(counts, key=lambda k: (-counts[k], k)))


def welcome(model: SemanticModel, allowed_tables: frozenset[str] | None,
            documents: Sequence[DocumentInfo], lang: str) -> Welcome:
    metrics = queryable_metrics(model, allowed_tables)
    return Welcome(example_questions(model, allowed_tables, documents, lang),
                   tuple(m.name(lang) for m in metrics[:MAX_METRICS_LISTED]),
                   collections(documents))


def scope_note(user: User, lang: str) -> str | None:
    """What limits the user's warehouse rows, said plainly; None when nothing does."""
    if user.scope:
        return say("welcome.scope_note", lang, scope=user.scope_values)
    return None
