"""The business definitions of `seed_data/semantic_model.yaml`, read into small frozen dataclasses.

The file is the single source of business truth: the planner builds SQL from it, the LLM writer
quotes it, the app shows its definitions next to every number. Everything the offline planner
knows about this business (names, synonyms, the verbs that imply a metric, which dimensions name
people or things, the currency, the suggested questions) comes from here, never from its code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from agents.errors import ConfigError
from agents.sql.model_schema import Location, line_of, validate_model_text
from agents.store.users import read_config_text

LangWords = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Source:
    key: str
    from_: str
    joins: tuple[str, ...]
    time: str
    time_label: dict[str, str]
    # Verbs and participles that say how a row of this source is dated ("opened", "placed").
    time_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Implied:
    """Words that imply a metric when no metric is named: a lead ("how many") and a verb."""

    verbs: tuple[str, ...]  # a trailing * makes a stem ("resolv*")
    leads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    key: str
    names: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]
    definition: dict[str, str]
    format: str
    source: str | None = None
    sql: str | None = None
    where: str | None = None
    ratio: tuple[str, str] | None = None
    # Nouns naming what the metric counts ("orders"): after another metric they qualify it.
    counts: tuple[str, ...] = ()
    implied_by: tuple[Implied, ...] = ()
    # synonym -> {lang: note}: said out loud when the metric is read through that synonym only.
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    # (metric, cues): this metric is meant instead of that one when a cue is in the question.
    instead_of: tuple[str, tuple[str, ...]] | None = None
    # (a, b): this metric is "a per b" ("revenue per order").
    per: tuple[str, str] | None = None
    # dimension -> values applied unless the question filters or groups by that dimension.
    default_filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class Dimension:
    key: str
    names: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]
    columns: dict[str, str] = field(default_factory=dict)
    grain: str | None = None
    values: tuple[str, ...] = ()
    value_synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values_from: str | None = None
    # Named things (products, people, customers): ranked or filtered by name.
    entity: bool = False
    # The people a "who" question ranks.
    who: bool = False
    # Values may be written without this prefix ("Gateway" for "Lumen Gateway").
    strip_prefix: str | None = None
    # value -> the rate metric that measures it ("share of orders cancelled").
    value_rates: dict[str, str] = field(default_factory=dict)

    @property
    def is_time(self) -> bool:
        return self.grain is not None

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class SemanticModel:
    sources: dict[str, Source]
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    # Amounts are in this currency; its own names are not another currency.
    currency: str = "EUR"
    currency_names: tuple[str, ...] = ()
    # Everyday words that are names only when written exactly so ("US", "CA").
    written_as: tuple[str, ...] = ()
    # A ranking with no metric ranks by this one.
    default_metric: str | None = None
    suggestions: LangWords = field(default_factory=dict)

    def with_values(self, fetch: Callable[[str], Iterable[str]]) -> SemanticModel:
        """Fill the dimensions whose values live in the warehouse (countries, products, reps)."""
        dims = {}
        for key, dim in self.dimensions.items():
            if dim.values_from:
                values = tuple(sorted({str(v) for v in fetch(dim.values_from) if v}))
                dims[key] = replace(dim, values=values or dim.values)
            else:
                dims[key] = dim
        return replace(self, dimensions=dims)

    def date_range_sql(self) -> str | None:
        """SELECT min(time), max(time) over the default metric's source (else the first one):
        the data's date range, read at startup (built with sqlglot from trusted configuration)."""
        metric = self.metrics.get(self.default_metric or "")
        source = self.sources.get(metric.source or "") if metric else None
        source = source or next(iter(self.sources.values()), None)
        if source is None:
            return None
        time = sqlglot.parse_one(source.time, read="postgres")
        query = sqlglot.parse_one(f"SELECT 1 FROM {source.from_}", read="postgres")
        base = {t.alias_or_name for t in query.find_all(exp.Table)}
        # Joins only when the time column is not on the source's own table (an index serves).
        if {c.table for c in time.find_all(exp.Column)} - base:
            for join in source.joins:
                query = query.join(join, dialect="postgres")  # type: ignore[attr-defined]
        query = query.select(  # type: ignore[attr-defined]
            exp.func("min", time.copy()), exp.func("max", time.copy()), append=False)
        return query.sql(dialect="postgres")

    def tables(self) -> frozenset[str]:
        """Schema-qualified tables the definitions read."""
        found: set[str] = set()
        for source in self.sources.values():
            for fragment in (source.from_, *source.joins):
                # Joins are parsed after a placeholder FROM; `from` fragments stand alone.
                prefix = "SELECT 1 FROM x" if fragment in source.joins else "SELECT 1 FROM"
                tree = sqlglot.parse_one(f"{prefix} {fragment}", read="postgres")
                for table in tree.find_all(exp.Table):
                    if table.db:
                        found.add(f"{table.db}.{table.name}".lower())
        return frozenset(found)


def _lang_map(value: Any, where: str, path: Path) -> dict[str, str]:
    if not isinstance(value, dict) or "en" not in value:
        raise ConfigError(f"{path}: {where} needs an `en` entry (and ideally `fr`).")
    return {str(k): str(v) for k, v in value.items()}


def _synonyms(value: Any, where: str, path: Path) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {where}.synonyms must map a language to a list of phrases.")
    return {str(k): tuple(str(s) for s in (v or [])) for k, v in value.items()}


def _words(value: Any) -> tuple[str, ...]:
    """A list of phrases, or a {lang: [phrases]} map flattened (the planner reads both)."""
    if isinstance(value, dict):
        return tuple(str(w) for v in value.values() for w in (v or ()))
    return tuple(str(w) for w in value or ())


def _check_sql(fragment: str, where: str, path: Path) -> None:
    try:
        sqlglot.parse_one(f"SELECT {fragment}", read="postgres")
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(f"{path}: {where} is not valid SQL: {str(exc).splitlines()[0]}") from exc


def _source(key: str, raw: Any, path: Path) -> Source:
    if not isinstance(raw, dict) or "from" not in raw or "time" not in raw:
        raise ConfigError(f"{path}: source {key!r} needs `from` and `time`.")
    source = Source(
        key=key,
        from_=str(raw["from"]),
        joins=tuple(str(j) for j in raw.get("joins") or ()),
        time=str(raw["time"]),
        time_label=_lang_map(raw.get("time_label", {"en": "dated"}), f"source {key}", path),
        time_words=_words(raw.get("time_words")),
    )
    _check_sql(source.time, f"source {key}.time", path)
    return source


def _implied(raw: Any) -> tuple[Implied, ...]:
    return tuple(Implied(verbs=_words(item.get("verbs")), leads=_words(item.get("leads")))
                 for item in raw or () if isinstance(item, dict))


def _pair(value: Any) -> tuple[str, str] | None:
    return (str(value[0]), str(value[1])) if value else None


def _instead_of(raw: Any) -> tuple[str, tuple[str, ...]] | None:
    if not isinstance(raw, dict) or "metric" not in raw:
        return None
    return str(raw["metric"]), _words(raw.get("cues"))


def _metric(key: str, raw: Any, sources: dict[str, Source], path: Path) -> Metric:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: metric {key!r} must be a mapping.")
    ratio = raw.get("ratio")
    if ratio is None and (raw.get("source") not in sources or not raw.get("sql")):
        raise ConfigError(
            f"{path}: metric {key!r} needs `sql` and a `source` among {sorted(sources)}."
        )
    if raw.get("sql"):
        _check_sql(str(raw["sql"]), f"metric {key}.sql", path)
    return Metric(
        key=key,
        names=_lang_map(raw.get("names"), f"metric {key}.names", path),
        synonyms=_synonyms(raw.get("synonyms"), f"metric {key}", path),
        definition=_lang_map(raw.get("definition"), f"metric {key}.definition", path),
        format=str(raw.get("format", "number")),
        source=raw.get("source"),
        sql=raw.get("sql"),
        where=raw.get("where"),
        ratio=_pair(ratio),
        counts=_words(raw.get("counts")),
        implied_by=_implied(raw.get("implied_by")),
        notes={str(k): {str(lk): str(lv) for lk, lv in v.items()}
               for k, v in (raw.get("notes") or {}).items()},
        instead_of=_instead_of(raw.get("instead_of")),
        per=_pair(raw.get("per")),
        default_filters={str(k): _words(v) for k, v in (raw.get("default_filters") or {}).items()},
    )


def _dimension(key: str, raw: Any, path: Path) -> Dimension:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: dimension {key!r} must be a mapping.")
    columns = raw.get("column") or {}
    if raw.get("kind") != "time" and not columns:
        raise ConfigError(f"{path}: dimension {key!r} needs `column` per source.")
    return Dimension(
        key=key,
        names=_lang_map(raw.get("names"), f"dimension {key}.names", path),
        synonyms=_synonyms(raw.get("synonyms"), f"dimension {key}", path),
        columns={str(k): str(v) for k, v in columns.items()},
        grain=raw.get("grain") if raw.get("kind") == "time" else None,
        values=tuple(str(v) for v in raw.get("values") or ()),
        value_synonyms={
            str(k): tuple(str(s) for s in v or ())
            for k, v in (raw.get("value_synonyms") or {}).items()
        },
        values_from=raw.get("values_from"),
        entity=bool(raw.get("entity")),
        who=bool(raw.get("who")),
        strip_prefix=raw.get("strip_prefix"),
        value_rates={str(k): str(v) for k, v in (raw.get("value_rates") or {}).items()},
    )


def _check_references(model: SemanticModel, path: Path) -> None:
    keys = model.metrics
    for key, metric in keys.items():
        named = [*(metric.ratio or ()), *(metric.per or ()),
                 *((metric.instead_of[0],) if metric.instead_of else ())]
        if not all(part in keys for part in named):
            raise ConfigError(f"{path}: metric {key!r} refers to unknown metrics.")
    rates = [m for d in model.dimensions.values() for m in d.value_rates.values()]
    if model.default_metric not in (None, *keys) or not all(m in keys for m in rates):
        raise ConfigError(f"{path}: `default_metric` or a `value_rates` entry is unknown.")


def load_semantic_model(path: Path) -> SemanticModel:
    """Read and validate the semantic model; ConfigError names the file, line and problem.

    The shape is checked by the pydantic models of `agents/sql/model_schema.py` (every problem,
    each with its line); SQL fragments are then parsed with sqlglot and references resolved."""
    return load_with_lines(path)[0]


def load_with_lines(path: Path) -> tuple[SemanticModel, dict[Location, int]]:
    """The semantic model and the line of every key of its file."""
    _, lines, data = validate_model_text(read_config_text(path), path)
    try:
        return _build(data, path), lines
    except ConfigError as exc:
        raise ConfigError(_with_line(exc.user_message, lines, path)) from exc


def _with_line(message: str, lines: dict[Location, int], path: Path) -> str:
    """`path: metric revenue.sql ...` -> `path, line N: ...` when the place can be found."""
    words = message.removeprefix(f"{path}: ").split()
    if len(words) < 2 or words[0] not in ("metric", "source", "dimension"):
        return message
    section = words[0] + "s"
    parts = words[1].strip("'`").split(".")
    line = line_of(lines, (section, *[p.strip("'") for p in parts]))
    return f"{path}, line {line}: " + message.removeprefix(f"{path}: ") if line else message


def _build(data: dict[str, Any], path: Path) -> SemanticModel:
    sources = {key: _source(key, raw, path) for key, raw in data["sources"].items()}
    currency = data.get("currency") or {}
    model = SemanticModel(
        sources=sources,
        metrics={key: _metric(key, raw, sources, path) for key, raw in data["metrics"].items()},
        dimensions={key: _dimension(key, raw, path) for key, raw in data["dimensions"].items()},
        currency=str(currency.get("code", "EUR")),
        currency_names=_words(currency.get("names")),
        written_as=_words(data.get("written_as")),
        default_metric=data.get("default_metric"),
        suggestions=_synonyms(data.get("suggestions"), "suggestions", path),
    )
    _check_references(model, path)
    return model
