"""Data answers at the edge of a user's scope: an aggregate over no rows is no figure, and a
scoped user is told the rows outside their part of the data are not counted."""

from __future__ import annotations

from typing import Any

from agents.ask.pipeline import ask


def test_an_average_over_no_rows_is_no_figure(resources: Any) -> None:
    """bruno sees EMEA only: France is another region, so the average has no rows to use."""
    scoped = ask("Quel est le panier moyen en France en 2023 ?", "bruno", resources)
    assert scoped.error is None and scoped.sql
    assert scoped.rows == []
    assert "None" not in scoped.text
    assert scoped.text.startswith("Aucune ligne ne correspond à cette question.")
    assert "limitées à EMEA" in scoped.text

    whole = ask("Quel est le panier moyen en France en 2023 ?", "alice", resources)
    assert whole.rows and whole.rows[0][0] is not None
    assert "limitées" not in whole.text


def test_a_zero_count_names_the_scope(resources: Any) -> None:
    outside = ask("How many orders in France in 2023?", "bruno", resources)
    assert outside.rows == [(0,)]
    assert "Your data is limited to EMEA" in outside.text
    inside = ask("How many orders in 2023?", "bruno", resources)
    assert inside.rows[0][0] > 0
    assert "limited to" not in inside.text
