"""The semantic model's format: pydantic models that refuse unknown keys and say on which line a
problem is, and the README's reference that names every key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from agents.errors import ConfigError
from agents.sql import model_schema
from agents.sql.model_schema import ModelSpec, validate_model_text

ROOT = Path(__file__).resolve().parents[2]
MODELS = [ROOT / "seed_data" / "semantic_model.yaml",
          ROOT / "tests" / "sql" / "second_model" / "semantic_model.yaml"]


def _keys(spec: type[BaseModel], prefix: str) -> list[str]:
    found = []
    for name, field in spec.model_fields.items():
        key = field.alias or name
        found.append(prefix + key)
        nested = {"sources": model_schema.SourceSpec, "metrics": model_schema.MetricSpec,
                  "dimensions": model_schema.DimensionSpec}.get(key) if not prefix else None
        if nested is not None:
            found += _keys(nested, f"{key}.*.")
    return found


def test_the_readme_reference_names_every_key() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("### The semantic model format"):]
    missing = [key for key in _keys(ModelSpec, "") if f"| `{key}` |" not in reference]
    assert not missing, missing


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.parent.name)
def test_the_models_in_the_repository_are_valid(path: Path) -> None:
    spec, _, _ = validate_model_text(path.read_text(encoding="utf-8"), path)
    assert spec.metrics and spec.dimensions


BASE = """\
sources:
  sales:
    from: shop.sales s
    time: s.sold_on
metrics:
  amount:
    source: sales
    sql: SUM(s.amount)
    names: {en: Amount}
    definition: {en: Sum of amounts}
dimensions:
  country:
    names: {en: Country}
    column: {sales: s.country}
"""


@pytest.mark.parametrize(("edit", "line", "words"), [
    (("    column: {sales: s.country}", "    colum: {sales: s.country}"), 14,
     "dimensions.country.colum: unknown key"),
    (("    column: {sales: s.country}", "    column: {sale: s.country}"), 14,
     "dimensions.country.column.sale: 'sale' is not a source"),
    (("    names: {en: Amount}", "    names: {fr: Montant}"), 9,
     "metrics.amount.names: needs an `en` entry"),
    (("    sql: SUM(s.amount)\n", ""), 6,
     "metrics.amount: needs `sql` and a `source`"),
    (("    time: s.sold_on\n", "    time: s.sold_on\n    joins: JOIN x\n"), 5,
     "sources.sales.joins: Input should be a valid list"),
])
def test_a_problem_is_named_with_its_line(edit: tuple[str, str], line: int, words: str) -> None:
    assert validate_model_text(BASE, Path("m.yaml"))[0].metrics
    text = BASE.replace(*edit)
    with pytest.raises(ConfigError) as info:
        validate_model_text(text, Path("m.yaml"))
    assert f"m.yaml, line {line}: {words}" in info.value.user_message


def test_every_problem_gets_its_own_line() -> None:
    text = BASE.replace("colum", "colum").replace("    column:", "    colum:").replace(
        "names: {en: Amount}", "names: {fr: Montant}")
    with pytest.raises(ConfigError) as info:
        validate_model_text(text, Path("m.yaml"))
    assert len(info.value.user_message.splitlines()) == 2
