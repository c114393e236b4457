"""`import_dbt` on a small dbt project written for the test (tests/sql/dbt_project): entities
become joins, measures and simple metrics metrics (filters as `where`), ratio metrics ratios,
derived ones expressions; what cannot be converted is listed; the result passes `check` on the
project's tables and the offline planner answers from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml

from agents.errors import ConfigError
from agents.sql.dbt_import import import_dbt
from agents.sql.model_check import check_model, locator
from agents.sql.planner import PlanningContext, plan_question
from agents.sql.semantic_model import load_with_lines

PROJECT = Path(__file__).resolve().parent / "dbt_project"


@pytest.fixture(scope="module")
def shop(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS dbt_shop CASCADE")
        conn.execute((PROJECT / "schema.sql").read_text(encoding="utf-8"))  # trusted fixture
        try:
            yield conn
        finally:
            conn.execute("DROP SCHEMA IF EXISTS dbt_shop CASCADE")


def test_a_dbt_project_converts_and_passes_check(shop: psycopg.Connection,
                                                 tmp_path: Path) -> None:
    converted = import_dbt(PROJECT, "dbt_shop")
    data = yaml.safe_load(converted.text)
    assert data["sources"]["orders"]["joins"] == [
        "LEFT JOIN dbt_shop.customers c ON c.customer_id = o.customer_id"]
    assert data["sources"]["orders"]["time"] == "o.ordered_at"
    metrics = data["metrics"]
    assert metrics["revenue"]["sql"] == "SUM(o.amount)"
    assert metrics["revenue"]["where"] == "(o.status = 'completed')"
    assert metrics["orders"]["sql"] == "COUNT(o.order_id)"
    assert metrics["aov"]["ratio"] == ["revenue", "orders"]
    assert metrics["revenue_thousands"]["sql"] == "(SUM(o.amount)) / 1000"
    assert data["dimensions"]["country"]["column"] == {"orders": "c.country"}
    assert {"year", "quarter", "month"} <= set(data["dimensions"])  # day granularity
    skipped = "\n".join(converted.skipped)
    for name in ("revenue_growth", "cumulative_revenue", "median_total", "net_amount",
                 "big_orders"):
        assert name in skipped, name
    path = tmp_path / "model.yaml"
    path.write_text(converted.text, encoding="utf-8")
    model, lines = load_with_lines(path)
    assert check_model(model, shop, locator(path, lines)) == []
    plan = plan_question("revenue by country in 2024",
                         PlanningContext(model, date(2025, 3, 1), date(2024, 1, 5)))
    assert plan.confident and plan.sql
    rows = dict(shop.execute(plan.sql).fetchall())
    assert rows == {"France": Decimal("100.00"), "Japan": Decimal("30.00")}


def test_a_folder_without_semantic_models_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "models.yml").write_text("models: [{name: x}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no `semantic_models:`"):
        import_dbt(tmp_path)
