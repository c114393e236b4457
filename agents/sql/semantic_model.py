"""The business definitions of `seed_data/semantic_model.yaml`, read into small frozen dataclasses.

The file is the single source of business truth: the planner builds SQL from it, the LLM writer
quotes it, the app shows its definitions next to every number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from agents.errors import ConfigError
from agents.store.users import read_yaml


@dataclass(frozen=True)
class Source:
    key: str
    from_: str
    joins: tuple[str, ...]
    time: str
    time_label: dict[str, str]


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

    def with_values(self, fetch: Callable[[str], Iterable[str]]) -> SemanticModel:
        """Fill the dimensions whose values live in the warehouse (countries, products, reps)."""
        dims = {}
        for key, dim in self.dimensions.items():
            if dim.values_from:
                values = tuple(sorted({str(v) for v in fetch(dim.values_from) if v}))
                dims[key] = replace(dim, values=values or dim.values)
            else:
                dims[key] = dim
        return SemanticModel(self.sources, self.metrics, dims)

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


def _check_sql(fragment: str, where: str, path: Path) -> None:
    try:
        sqlglot.parse_one(f"SELECT {fragment}", read="postgres")
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(f"{path}: {where} is not valid SQL: {str(exc).splitlines()[0]}") from exc


def load_semantic_model(path: Path) -> SemanticModel:
    """Read and validate the semantic model; ConfigError names the file, line and problem."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with sources, metrics and dimensions.")
    for section in ("sources", "metrics", "dimensions"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"{path}: missing or malformed `{section}:` section.")
    sources = {}
    for key, raw in data["sources"].items():
        if not isinstance(raw, dict) or "from" not in raw or "time" not in raw:
            raise ConfigError(f"{path}: source {key!r} needs `from` and `time`.")
        sources[key] = Source(
            key=key,
            from_=str(raw["from"]),
            joins=tuple(str(j) for j in raw.get("joins") or ()),
            time=str(raw["time"]),
            time_label=_lang_map(raw.get("time_label", {"en": "dated"}), f"source {key}", path),
        )
        _check_sql(sources[key].time, f"source {key}.time", path)
    metrics = {}
    for key, raw in data["metrics"].items():
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: metric {key!r} must be a mapping.")
        ratio = raw.get("ratio")
        if ratio is None and (raw.get("source") not in sources or not raw.get("sql")):
            raise ConfigError(
                f"{path}: metric {key!r} needs `sql` and a `source` among {sorted(sources)}."
            )
        if raw.get("sql"):
            _check_sql(str(raw["sql"]), f"metric {key}.sql", path)
        metrics[key] = Metric(
            key=key,
            names=_lang_map(raw.get("names"), f"metric {key}.names", path),
            synonyms=_synonyms(raw.get("synonyms"), f"metric {key}", path),
            definition=_lang_map(raw.get("definition"), f"metric {key}.definition", path),
            format=str(raw.get("format", "number")),
            source=raw.get("source"),
            sql=raw.get("sql"),
            where=raw.get("where"),
            ratio=tuple(ratio) if ratio else None,
        )
    for key, metric in metrics.items():
        if metric.ratio and not all(part in metrics for part in metric.ratio):
            raise ConfigError(f"{path}: metric {key!r} is a ratio of unknown metrics.")
    dimensions = {}
    for key, raw in data["dimensions"].items():
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: dimension {key!r} must be a mapping.")
        columns = raw.get("column") or {}
        if raw.get("kind") != "time" and not columns:
            raise ConfigError(f"{path}: dimension {key!r} needs `column` per source.")
        dimensions[key] = Dimension(
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
        )
    return SemanticModel(sources=sources, metrics=metrics, dimensions=dimensions)
