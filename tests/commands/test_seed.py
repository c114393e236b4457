"""The demo warehouse: sizes, constraints, the story the numbers tell, idempotence."""

from __future__ import annotations

import psycopg

from agents.commands.cli import seed_warehouse

RANGES = {
    "customers": (2_700, 3_300),
    "products": (40, 56),
    "sales_reps": (35, 45),
    "orders": (110_000, 130_000),
    "order_items": (270_000, 330_000),
    "support_tickets": (36_000, 44_000),
    "employees": (360, 440),
}


def test_row_counts_are_in_range(app_conn: psycopg.Connection) -> None:
    for table, (low, high) in RANGES.items():
        count = app_conn.execute(f"SELECT count(*) FROM warehouse.{table}").fetchone()[0]
        assert low <= count <= high, (table, count)


def test_orders_follow_signup_and_story(app_conn: psycopg.Connection) -> None:
    early = app_conn.execute(
        "SELECT count(*) FROM warehouse.orders o JOIN warehouse.customers c USING (customer_id)"
        " WHERE o.order_date < c.signup_date"
    ).fetchone()[0]
    assert early == 0
    bounds = app_conn.execute("SELECT min(order_date), max(order_date) FROM warehouse.orders")
    first, last = bounds.fetchone()
    assert first.isoformat() >= "2017-01-01" and last.isoformat() <= "2025-12-31"
    shares = dict(app_conn.execute(
        "SELECT status, count(*)::float / sum(count(*)) OVER () FROM warehouse.orders GROUP BY 1"
    ).fetchall())
    assert 0.02 <= shares["cancelled"] <= 0.04
    assert 0.04 <= shares["refunded"] <= 0.07
    yearly = dict(app_conn.execute(
        "SELECT extract(year FROM order_date)::int, count(*) FROM warehouse.orders"
        " WHERE status = 'completed' GROUP BY 1"
    ).fetchall())
    assert yearly[2019] > yearly[2018] > yearly[2017]
    assert yearly[2020] < yearly[2019], "the 2020 dip"
    assert yearly[2025] > yearly[2021]
    online_with_rep = app_conn.execute(
        "SELECT count(*) FROM warehouse.orders WHERE channel = 'online' AND rep_id IS NOT NULL"
    ).fetchone()[0]
    assert online_with_rep == 0
    corr = app_conn.execute(
        "SELECT corr(quantity, discount) FROM warehouse.order_items"
    ).fetchone()[0]
    assert corr > 0.3, "larger orders get larger discounts"


def test_every_table_and_column_is_commented(app_conn: psycopg.Connection) -> None:
    missing = app_conn.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = 'warehouse'::regnamespace AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped"
        " AND col_description(c.oid, a.attnum) IS NULL"
    ).fetchall()
    assert missing == []
    tables = app_conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'warehouse'::regnamespace"
        " AND relkind = 'r' AND obj_description(oid, 'pg_class') IS NULL"
    ).fetchall()
    assert tables == []


def test_seed_is_idempotent(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        before = conn.execute("SELECT count(*), sum(order_id) FROM warehouse.orders").fetchone()
    message = seed_warehouse(seeded)
    assert "already seeded" in message
    with psycopg.connect(seeded) as conn:
        after = conn.execute("SELECT count(*), sum(order_id) FROM warehouse.orders").fetchone()
    assert before == after


def test_generation_is_deterministic() -> None:
    from seed_data.warehouse import generate

    first, second = generate(), generate()
    assert first["order_items"].equals(second["order_items"])
    assert first["customers"].equals(second["customers"])
