"""dbt semantic models and metrics (MetricFlow YAML) converted into Sourced's semantic model.

The YAML files of a dbt project (`semantic_models:` and `metrics:` lists) are read and validated
with `dbt-semantic-interfaces`, dbt's own definitions of these objects (each object becomes one
of its documents; `model: ref('x')` becomes the relation `schema.x`). Then:
- a semantic model with an aggregation time dimension becomes a source, dated by it; its
  foreign entities become joins to the semantic models whose primary entity they name;
- categorical dimensions become dimensions on every source that reaches them; time dimensions
  give year, quarter and month (as fine as their granularity allows);
- measures and simple metrics become metrics (sum, count, count_distinct, average, min, max,
  sum_boolean), a metric's `filter` on a dimension its `where`; ratio metrics a `ratio`; derived
  metrics an expression over same-source inputs.
Everything else (cumulative and conversion metrics, offsets, medians, percentiles, filters on
entities or time) is listed as not converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.errors import ConfigError
from agents.sql.model_draft import TIME_DIMENSIONS
from agents.sql.model_words import english, french
from agents.sql.model_yaml import dump_model

AGGREGATES = {"sum": "SUM({})", "count": "COUNT({})", "count_distinct": "COUNT(DISTINCT {})",
              "average": "AVG({})", "min": "MIN({})", "max": "MAX({})",
              "sum_boolean": "SUM(CASE WHEN {} THEN 1 ELSE 0 END)"}
GRAINS = {"day": 3, "week": 3, "month": 3, "quarter": 2, "year": 1}
_DIMENSION_REF = re.compile(r"\{\{\s*Dimension\(\s*'([^']+)'\s*\)\s*\}\}")


@dataclass
class Converted:
    text: str
    skipped: list[str] = field(default_factory=list)


def _yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{path}: no such file or folder.")
    return sorted(p for p in path.rglob("*.y*ml") if "target" not in p.parts
                  and "dbt_packages" not in p.parts)


def _documents(path: Path, schema: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    models: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    for file in _yaml_files(path):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{file}: cannot be read as YAML ({exc}).") from exc
        if not isinstance(data, dict):
            continue
        for raw in data.get("semantic_models") or []:
            item = dict(raw)
            ref = re.match(r"\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)", str(item.pop("model", "")))
            if ref:
                item["node_relation"] = {"alias": ref.group(1), "schema_name": schema}
            models.append(item)
        for raw in data.get("metrics") or []:
            item = dict(raw)
            params = dict(item.get("type_params") or {})
            for key in ("numerator", "denominator"):
                if isinstance(params.get(key), str):
                    params[key] = {"name": params[key]}
            if isinstance(params.get("metrics"), list):
                params["metrics"] = [{"name": m} if isinstance(m, str) else m
                                     for m in params["metrics"]]
            item["type_params"] = params
            metrics.append(item)
    return models, metrics


def parse_manifest(path: Path, schema: str) -> Any:
    """The dbt semantic manifest of the project at `path` (dbt-semantic-interfaces objects)."""
    from dbt_semantic_interfaces.parsing.dir_to_model import (
        parse_yaml_files_to_validation_ready_semantic_manifest,
    )
    from dbt_semantic_interfaces.parsing.objects import YamlConfigFile

    models, metrics = _documents(path, schema)
    if not models:
        raise ConfigError(f"{path}: no `semantic_models:` found in its YAML files.")
    docs = [yaml.safe_dump({"semantic_model": m}) for m in models]
    docs += [yaml.safe_dump({"metric": m}) for m in metrics]
    docs.append(yaml.safe_dump({"project_configuration": {"time_spine_table_configurations": []}}))
    result = parse_yaml_files_to_validation_ready_semantic_manifest(
        [YamlConfigFile(filepath=str(path), contents="---\n".join(docs))],
        apply_transformations=False, raise_issues_as_exceptions=False)
    errors = [i.message for i in result.issues.errors]
    if errors:
        raise ConfigError(f"{path}: not valid dbt semantic definitions: " + "; ".join(
            e.splitlines()[0] + (" " + " ".join(e.splitlines()[1:3]) if "\n" in e else "")
            for e in errors))
    return result.semantic_manifest


def _names(name: str, label: str | None) -> dict[str, str]:
    en = label or english(name).capitalize()
    fr = french(english(name))
    return {"en": en, "fr": fr[0].capitalize() if fr else en}


def _synonyms(name: str, label: str | None) -> dict[str, list[str]]:
    words = english(name)
    fr = french(words)
    return {"en": list(dict.fromkeys([words, *([label.lower()] if label else [])])),
            "fr": [fr[0]] if fr else []}


@dataclass
class _Source:
    key: str
    alias: str
    model: Any
    joins: list[tuple[str, Any]] = field(default_factory=list)  # (alias, joined model)


def _expr(alias: str, element: Any) -> str:
    return f"{alias}.{element.expr or element.name}"


def _aliases(models: list[Any]) -> dict[str, str]:
    taken: dict[str, str] = {}
    for model in models:
        base = "".join(w[0] for w in english(model.name).split()) or "m"
        alias, n = base, 2
        while alias in taken.values():
            alias, n = f"{base}{n}", n + 1
        taken[model.name] = alias
    return taken


def _time_dimension(model: Any) -> Any | None:
    wanted = model.defaults.agg_time_dimension if model.defaults else None
    times = [d for d in model.dimensions if str(d.type.value) == "time"]
    return next((d for d in times if d.name == wanted), times[0] if len(times) == 1 else None)


def _primary(models: list[Any], entity: str) -> Any | None:
    return next((m for m in models for e in m.entities
                 if e.name == entity and str(e.type.value) in ("primary", "unique", "natural")),
                None)


def _sources(models: list[Any], aliases: dict[str, str], skipped: list[str]) -> list[_Source]:
    sources = []
    for model in models:
        if _time_dimension(model) is None:
            skipped.append(f"semantic model {model.name}: no aggregation time dimension, so it "
                           "is no source (its dimensions are reached through joins)")
            continue
        source = _Source(model.name, aliases[model.name], model)
        frontier = [(source.alias, model)]
        seen = {model.name}
        for _ in range(2):  # two levels of foreign entities
            nxt = []
            for alias, current in frontier:
                for entity in (e for e in current.entities if str(e.type.value) == "foreign"):
                    parent = _primary(models, entity.name)
                    if parent is None or parent.name in seen:
                        continue
                    seen.add(parent.name)
                    key = next(e for e in parent.entities if e.name == entity.name)
                    p_alias = aliases[parent.name]
                    source.joins.append((f"LEFT JOIN {parent.node_relation.relation_name} "
                                         f"{p_alias} ON {_expr(p_alias, key)} = "
                                         f"{_expr(alias, entity)}", parent))
                    nxt.append((p_alias, parent))
            frontier = nxt
        sources.append(source)
    return sources


def _reach(sources: list[_Source], model: Any, aliases: dict[str, str]) -> dict[str, str]:
    return {s.key: aliases[model.name] for s in sources
            if s.model.name == model.name or any(m.name == model.name for _, m in s.joins)}


def _dimensions(models: list[Any], sources: list[_Source], aliases: dict[str, str],
                skipped: list[str]) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """The dimensions, and (source, dbt dimension name) -> its column, for filters."""
    dims: dict[str, Any] = {}
    columns: dict[tuple[str, str], str] = {}
    finest = 0
    for model in models:
        reach = _reach(sources, model, aliases)
        for dim in model.dimensions:
            if str(dim.type.value) == "time":
                grain = str(dim.type_params.time_granularity.value) if dim.type_params and \
                    dim.type_params.time_granularity else "day"
                if dim is _time_dimension(model):
                    finest = max(finest, GRAINS.get(grain, 3))
                else:
                    skipped.append(f"time dimension {model.name}.{dim.name}: a source is dated "
                                   "by one column (its aggregation time dimension)")
                continue
            for source, alias in reach.items():
                columns[(source, dim.name)] = _expr(alias, dim)
            if not reach:
                skipped.append(f"dimension {model.name}.{dim.name}: no source reaches it")
                continue
            key = dim.name if dim.name not in dims else f"{model.name}_{dim.name}"
            dims[key] = {"column": {s: _expr(a, dim) for s, a in reach.items()},
                         "names": _names(dim.name, dim.label),
                         "synonyms": _synonyms(dim.name, dim.label)}
    times = dict(list(TIME_DIMENSIONS.items())[:finest])
    return {**times, **dims}, columns


def _where(filters: Any, source: str, columns: dict[tuple[str, str], str]) -> str | None:
    """A metric's dbt filter as SQL on the source, or ValueError when it cannot be."""
    parts = []
    for where in getattr(filters, "where_filters", None) or []:
        template = where.where_sql_template

        def column(match: re.Match[str]) -> str:
            name = match.group(1).split("__")[-1]
            if (source, name) not in columns:
                raise ValueError(f"its filter names {match.group(1)}, not reached from {source}")
            return columns[(source, name)]

        text = _DIMENSION_REF.sub(column, template)
        if "{{" in text:
            raise ValueError(f"its filter uses {template!r} (only Dimension() is converted)")
        parts.append(f"({text})")
    return " AND ".join(parts) or None


def _measure_metric(key: str, measure: Any, source: _Source, label: str | None,
                    description: str | None, where: str | None) -> dict[str, Any]:
    agg = str(measure.agg.value)
    sql = AGGREGATES[agg].format(_expr(source.alias, measure))
    metric: dict[str, Any] = {
        "source": source.key, "sql": sql,
        "format": "count" if agg.startswith("count") else "number",
        "names": _names(key, label), "synonyms": _synonyms(key, label),
        "definition": {"en": description or f"{label or english(key).capitalize()} = {sql}"
                       f"{' where ' + where if where else ''} ({source.model.name})"},
    }
    if where:
        metric["where"] = where
    return metric


def _metrics(manifest: Any, sources: list[_Source], columns: dict[tuple[str, str], str],
             skipped: list[str]) -> dict[str, Any]:
    by_model = {s.model.name: s for s in sources}
    measures = {m.name: (sm, m) for sm in manifest.semantic_models for m in sm.measures}
    out: dict[str, Any] = {}
    used: set[str] = set()

    def simple(key: str, measure_name: str, label: str | None, description: str | None,
               filters: Any) -> str | None:
        if measure_name not in measures:
            return f"measure {measure_name} is not defined"
        model, measure = measures[measure_name]
        if str(measure.agg.value) not in AGGREGATES:
            return f"aggregation {measure.agg.value} has no SQL equivalent here"
        if model.name not in by_model:
            return f"semantic model {model.name} is no source"
        source = by_model[model.name]
        try:
            where = _where(filters, source.key, columns)
        except ValueError as exc:
            return str(exc)
        out[key] = _measure_metric(key, measure, source, label, description, where)
        return None

    order = {"simple": 0, "ratio": 1, "derived": 2}
    for metric in sorted(manifest.metrics, key=lambda m: order.get(str(m.type.value), 3)):
        kind, params = str(metric.type.value), metric.type_params
        problem: str | None = None
        if kind == "simple" and params.measure is not None:
            used.add(params.measure.name)
            problem = simple(metric.name, params.measure.name, metric.label,
                             metric.description, metric.filter)
        elif kind == "ratio":
            problem = _ratio(metric, out)
        elif kind == "derived":
            problem = _derived(metric, out)
        else:
            problem = f"{kind} metrics are not converted"
        if problem:
            skipped.append(f"metric {metric.name}: {problem}")
    for name, (_, measure) in measures.items():
        if name not in used and name not in out:
            problem = simple(name, name, measure.label, measure.description, None)
            if problem:
                skipped.append(f"measure {name}: {problem}")
    return out


def _ratio(metric: Any, out: dict[str, Any]) -> str | None:
    params = metric.type_params
    parts = (params.numerator, params.denominator)
    if any(p is None or p.filter or p.offset_window for p in parts):
        return "a ratio whose inputs carry filters or offsets"
    if not all(p.name in out for p in parts):
        return "an input metric was not converted (convert it first)"
    out[metric.name] = {
        "ratio": [parts[0].name, parts[1].name], "format": "number",
        "names": _names(metric.name, metric.label),
        "synonyms": _synonyms(metric.name, metric.label),
        "definition": {"en": metric.description or
                       f"{metric.label or metric.name} = {parts[0].name} / {parts[1].name}"},
    }
    return None


def _derived(metric: Any, out: dict[str, Any]) -> str | None:
    params = metric.type_params
    inputs = params.metrics or []
    if any(i.offset_window or i.offset_to_grain or i.filter for i in inputs):
        return "inputs with offsets or filters (time comparisons) are not converted"
    found = [out.get(i.name) for i in inputs]
    if not all(f and f.get("sql") for f in found):
        return "an input metric was not converted or is itself a ratio"
    if len({(f["source"], f.get("where")) for f in found if f}) != 1:
        return "inputs over different sources or filters"
    sql = params.expr or ""
    for item, definition in zip(inputs, found, strict=True):
        name = item.alias or item.name
        sql = re.sub(rf"\b{re.escape(name)}\b", f"({definition['sql']})", sql)  # type: ignore[index]
    first = found[0] or {}
    out[metric.name] = {
        "source": first["source"], "sql": sql, "format": "number",
        "names": _names(metric.name, metric.label),
        "synonyms": _synonyms(metric.name, metric.label),
        "definition": {"en": metric.description or f"{metric.label or metric.name} = "
                       f"{params.expr}"},
        **({"where": first["where"]} if first.get("where") else {}),
    }
    return None


def import_dbt(path: Path, schema: str = "public") -> Converted:
    """The Sourced semantic model of the dbt project at `path`, and what was not converted."""
    manifest = parse_manifest(path, schema)
    models = list(manifest.semantic_models)
    aliases = _aliases(models)
    skipped: list[str] = []
    sources = _sources(models, aliases, skipped)
    dimensions, columns = _dimensions(models, sources, aliases, skipped)
    metrics = _metrics(manifest, sources, columns, skipped)
    data = {
        "sources": {s.key: {
            "from": f"{s.model.node_relation.relation_name} {s.alias}",
            "joins": [j for j, _ in s.joins],
            "time": _expr(s.alias, _time_dimension(s.model)),
            "time_label": {"en": f"{english(s.key)} dated"},
        } for s in sources},
        "metrics": metrics,
        "dimensions": dimensions,
    }
    comments: dict[tuple[str, ...], list[str]] = {}
    if skipped:
        comments[("sources",)] = ["Not converted (see `sourced model import-dbt` output):",
                                  *(f"  - {s}" for s in skipped)]
    header = [f"Converted from the dbt semantic models and metrics of {path} by "
              "`sourced model import-dbt`.",
              "DECIDE: French names and synonyms (dbt has none), the currency "
              "(`currency.code`), the words users say. Then `sourced model check`."]
    return Converted(dump_model(data, comments, header), skipped)
