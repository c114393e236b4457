"""`check_model`: a semantic model run against the warehouse as the reader role; each problem on
one line with the line of the key in the file."""

from __future__ import annotations

from pathlib import Path

import psycopg

from agents.sql.model_check import check_model, locator
from agents.sql.semantic_model import load_with_lines
from agents.store.database import READER_ROLE, with_user

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "seed_data" / "semantic_model.yaml"


def _check(path: Path, url: str) -> list[str]:
    model, lines = load_with_lines(path)
    with psycopg.connect(with_user(url, READER_ROLE), autocommit=True) as conn:
        return check_model(model, conn, locator(path, lines))


def test_the_demo_model_is_valid_on_the_demo_warehouse(seeded: str) -> None:
    assert _check(DEMO, seeded) == []


def test_a_broken_model_gets_one_line_per_problem(seeded: str, tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8")
    edits = [("sql: SUM(oi.quantity)\n", "sql: SUM(oi.qty)\n"),
             ("values: [completed, cancelled, refunded]", "values: [completed, lost]"),
             ("JOIN warehouse.customers c ON c.customer_id = t.customer_id",
              "JOIN warehouse.customers c ON c.customer_id = t.nothing")]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    broken = tmp_path / "model.yaml"
    broken.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    problems = _check(broken, seeded)
    qty = next(n for n, x in enumerate(lines, 1) if "SUM(oi.qty)" in x)
    assert f"{broken}, line {qty}: metrics.units_sold.sql: column oi.qty does not exist" \
        in problems
    assert any("dimensions.status.values: listed values not found in the warehouse: lost" in p
               for p in problems)
    # A join that does not resolve is said once, not again for every metric of its source.
    assert sum("t.nothing" in p for p in problems) == 1
    assert any("sources.tickets.joins: column t.nothing does not exist" in p for p in problems)
    assert all(p.startswith(f"{broken}, line ") for p in problems)
