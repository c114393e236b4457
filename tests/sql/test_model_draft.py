"""`draft_model` on the demo warehouse it was not written for: the draft passes `check` as the
reader, joins along the foreign keys, counts, sums, dimensions and DECIDE comments."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml

from agents.sql.catalog import read_catalog
from agents.sql.model_check import check_model, locator
from agents.sql.model_draft import draft_model
from agents.sql.semantic_model import load_with_lines
from agents.store.database import READER_ROLE, with_user


def test_a_draft_of_the_demo_schema_passes_check(seeded: str, tmp_path: Path) -> None:
    reader = with_user(seeded, READER_ROLE)
    seen: list[tuple[int, int, str]] = []
    catalog = read_catalog(reader, ("warehouse",),
                           progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen[-1][0] == seen[-1][1] == len(catalog.tables)
    text = draft_model(catalog)
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    model, lines = load_with_lines(path)
    with psycopg.connect(reader, autocommit=True) as conn:
        assert check_model(model, conn, locator(path, lines)) == []
    data = yaml.safe_load(text)
    lines_source = data["sources"]["order_items"]
    assert "JOIN warehouse.orders o ON o.order_id = oi.order_id" in lines_source["joins"]
    assert lines_source["time"] == "o.order_date"  # a line table is dated by its parent
    assert "LEFT JOIN warehouse.sales_reps sr ON sr.rep_id = o.rep_id" in \
        data["sources"]["orders"]["joins"]  # a nullable key
    assert data["metrics"]["orders"]["sql"] == "COUNT(DISTINCT o.order_id)"
    assert data["metrics"]["orders"]["names"] == {"en": "Orders", "fr": "Commandes"}
    assert data["metrics"]["order_items_amount"]["sql"] == "SUM(oi.quantity * oi.unit_price)"
    assert "order_items_unit_price" not in data["metrics"]  # a price is averaged, not summed
    assert data["dimensions"]["status"]["values"] == ["cancelled", "completed", "refunded"]
    assert data["dimensions"]["product"]["entity"] is True
    assert data["dimensions"]["year"]["grain"] == "year"
    # The restricted table is not readable by the reader: nothing of it is drafted.
    assert "employees" not in data["sources"]
    assert "# DECIDE: which orders count?" in text
    assert "# DECIDE: the currency of the amounts" in text
