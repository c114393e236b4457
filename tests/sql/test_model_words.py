"""Names for a drafted model: English from table and column names, French where the words are
known (modifiers after the head noun), nothing invented where they are not."""

from __future__ import annotations

import pytest

from agents.sql.model_words import english, french, french_plural, plural


@pytest.mark.parametrize(("name", "words", "many", "fr"), [
    ("order_items", "order item", "order items", "article de commande"),
    ("invoiceLine", "invoice line", "invoice lines", "ligne de facture"),
    ("customers", "customer", "customers", "client"),
    ("media_type", "media type", "media types", "type de média"),
    ("billing_country", "billing country", "billing countries", "pays de facturation"),
    ("statuses", "status", "statuses", "statut"),
    ("unit_price", "unit price", "unit prices", "prix unitaire"),
    ("boxes", "box", "boxes", None),
])
def test_names(name: str, words: str, many: str, fr: str | None) -> None:
    assert english(name) == words
    assert plural(words) == many
    found = french(words)
    assert (found[0] if found else None) == fr


def test_french_plurals() -> None:
    assert french_plural("ligne de facture") == "lignes de facture"
    assert french_plural("pays") == "pays"
    assert french_plural("canal") == "canaux"
    assert french_plural("prix unitaire") == "prix unitaires"
