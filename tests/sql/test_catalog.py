"""`read_catalog`: SQLAlchemy's Inspector and pg_stats, as the reader role."""

from __future__ import annotations

from agents.sql.catalog import read_catalog
from agents.store.database import READER_ROLE, with_user


def test_the_catalog_of_the_demo_warehouse(seeded: str) -> None:
    catalog = read_catalog(with_user(seeded, READER_ROLE), ("warehouse",))
    orders = catalog.table("warehouse.orders")
    assert orders is not None and orders.primary_key == ("order_id",)
    assert {(fk.columns, fk.table) for fk in orders.foreign_keys} == {
        (("customer_id",), "warehouse.customers"), (("rep_id",), "warehouse.sales_reps")}
    status = orders.column("status")
    assert status is not None and status.kind == "text"
    assert status.values == ("cancelled", "completed", "refunded")
    assert status.comment and "completed" in status.comment
    date = orders.column("order_date")
    assert date is not None and date.kind == "date" and date.date_range is not None
    assert date.date_range[0] <= date.date_range[1]
    rep = orders.column("rep_id")
    assert rep is not None and rep.nullable and rep.kind == "number"
    customers = catalog.table("warehouse.customers")
    assert customers is not None
    name = customers.column("name")
    assert name is not None and name.values == ()  # thousands of names: not a category
