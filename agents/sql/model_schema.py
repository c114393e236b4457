"""The shape of `semantic_model.yaml` as pydantic models, and its validation with line numbers.

`validate_model_text` parses the YAML once into nodes (which know their line), validates the
data against `ModelSpec` (unknown keys are refused, so a typo is named rather than ignored), and
turns every pydantic error into one line `file, line N: where: problem`. The README's reference
of the format lists the same keys; a test holds the two together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.errors import ConfigError
from agents.store.users import SAFE_LOADER, yaml_error_location

Words = list[str] | dict[str, list[str]]
"""A list of phrases, or {lang: [phrases]}."""

GRAINS = ("year", "quarter", "month")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True,
                              populate_by_name=True)


def _needs_en(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is not None and "en" not in value:
        raise ValueError("needs an `en` entry (and ideally `fr`)")
    return value


class CurrencySpec(_Spec):
    code: str = "EUR"
    names: Words = Field(default_factory=list)


class SourceSpec(_Spec):
    from_: str = Field(alias="from")
    joins: list[str] = Field(default_factory=list)
    time: str
    time_label: dict[str, str] = Field(default_factory=lambda: {"en": "dated"})
    time_words: Words = Field(default_factory=list)

    _en = field_validator("time_label")(_needs_en)


class ImpliedSpec(_Spec):
    verbs: Words
    leads: Words = Field(default_factory=list)


class InsteadOfSpec(_Spec):
    metric: str
    cues: Words = Field(default_factory=list)


class MetricSpec(_Spec):
    names: dict[str, str]
    definition: dict[str, str]
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    format: str = "number"
    source: str | None = None
    sql: str | None = None
    where: str | None = None
    ratio: tuple[str, str] | None = None
    counts: Words = Field(default_factory=list)
    implied_by: list[ImpliedSpec] = Field(default_factory=list)
    notes: dict[str, dict[str, str]] = Field(default_factory=dict)
    instead_of: InsteadOfSpec | None = None
    per: tuple[str, str] | None = None
    default_filters: dict[str, Words] = Field(default_factory=dict)

    _en = field_validator("names", "definition")(_needs_en)

    @model_validator(mode="after")
    def _sql_or_ratio(self) -> MetricSpec:
        if self.ratio is None and not (self.sql and self.source):
            raise ValueError("needs `sql` and a `source` (or a `ratio` of two metrics)")
        return self


class DimensionSpec(_Spec):
    names: dict[str, str]
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    kind: Literal["time"] | None = None
    grain: Literal["year", "quarter", "month"] | None = None
    column: dict[str, str] = Field(default_factory=dict)
    values: list[str] = Field(default_factory=list)
    value_synonyms: dict[str, list[str]] = Field(default_factory=dict)
    values_from: str | None = None
    entity: bool = False
    who: bool = False
    strip_prefix: str | None = None
    value_rates: dict[str, str] = Field(default_factory=dict)

    _en = field_validator("names")(_needs_en)

    @model_validator(mode="after")
    def _columns_or_time(self) -> DimensionSpec:
        if self.kind == "time" and self.grain is None:
            raise ValueError("a `kind: time` dimension needs a `grain` (year, quarter or month)")
        if self.kind != "time" and not self.column:
            raise ValueError("needs `column` per source (or `kind: time` with a `grain`)")
        return self


class ModelSpec(_Spec):
    currency: CurrencySpec | None = None
    written_as: Words = Field(default_factory=list)
    default_metric: str | None = None
    suggestions: dict[str, list[str]] = Field(default_factory=dict)
    sources: dict[str, SourceSpec]
    metrics: dict[str, MetricSpec]
    dimensions: dict[str, DimensionSpec]



Location = tuple[str | int, ...]


def reference_problems(spec: ModelSpec) -> list[tuple[Location, str]]:
    """Names that point nowhere: a metric's source, a dimension's sources, metric keys."""
    found: list[tuple[Location, str]] = []
    for key, metric in spec.metrics.items():
        if metric.source is not None and metric.source not in spec.sources:
            found.append((("metrics", key, "source"),
                          f"{metric.source!r} is not a source (sources: {sorted(spec.sources)})"))
        for field in ("ratio", "per"):
            named = getattr(metric, field) or ()
            for name in named:
                if name not in spec.metrics:
                    found.append((("metrics", key, field), f"{name!r} is not a metric"))
    for key, dim in spec.dimensions.items():
        for source in sorted(set(dim.column) - set(spec.sources)):
            found.append((("dimensions", key, "column", source),
                          f"{source!r} is not a source (sources: {sorted(spec.sources)})"))
    if spec.default_metric is not None and spec.default_metric not in spec.metrics:
        found.append((("default_metric",), f"{spec.default_metric!r} is not a metric"))
    return found


def _lines(node: yaml.Node, path: Location, found: dict[Location, int]) -> None:
    """Every path of the document -> its line (1-based): a key's line for a mapping entry."""
    found.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            found[child] = key.start_mark.line + 1
            _lines(value, child, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)


def line_of(lines: dict[Location, int], loc: Location) -> int | None:
    """The line of the longest prefix of `loc` found in the document."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _where(loc: Location) -> str:
    # pydantic adds the validator's tag to a union member's location; keep the document's path.
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith(("list[", "dict[")))]
    return ".".join(parts) or "(top level)"


def problems_of(error: ValidationError, lines: dict[Location, int], path: Path) -> list[str]:
    """One `file, line N: where: problem` per pydantic error (one per place, first kept)."""
    out: dict[str, str] = {}
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith(
            ("list[", "dict["))))
        line = line_of(lines, loc)
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (see the README's semantic model reference)"
        elif item["type"] == "missing":
            message = "missing (this key is required)"
        where = _where(loc)
        prefix = f"{path}, line {line}" if line else f"{path}"
        out.setdefault(where, f"{prefix}: {where}: {message}")
    return list(out.values())


def validate_model_text(text: str, path: Path) -> tuple[ModelSpec, dict[Location, int], Any]:
    """Parse and validate the YAML text of a semantic model.

    Out: the validated spec, the line of every path, and the raw data. ConfigError names the
    file, line and problem (all problems, one per line)."""
    # libyaml's loader, and one parse for both the nodes (their lines) and the data: the
    # pure-Python loader, parsing twice, took a quarter of a second on the demo model at every
    # command-line question.
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_location(path, exc)) from exc
    finally:
        loader.dispose()
    lines: dict[Location, int] = {}
    if node is not None:
        _lines(node, (), lines)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with sources, metrics and dimensions.")
    for section in ("sources", "metrics", "dimensions"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"{path}: missing or malformed `{section}:` section.")
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(problems_of(exc, lines, path))) from exc
    broken = reference_problems(spec)
    if broken:
        raise ConfigError("\n".join(
            f"{path}, line {line_of(lines, loc)}: {_where(loc)}: {message}"
            for loc, message in broken))
    return spec, lines, data
