"""The message catalog: every message in both languages, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from agents.language import LANGUAGES
from agents.messages import catalog, say

CATALOG = catalog()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalog_is_not_empty() -> None:
    assert len(CATALOG) > 20


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_message_exists_in_both_languages(key: str) -> None:
    texts = CATALOG[key]
    for lang in LANGUAGES:
        assert texts.get(lang, "").strip(), f"{key} has no {lang} text"
    assert _fields(texts["en"]) == _fields(texts["fr"]), f"{key}: placeholders differ"


def test_say_fills_placeholders_in_the_asked_language() -> None:
    key = next(k for k, v in sorted(CATALOG.items()) if _fields(v["en"]))
    values = {name: "VALUE" for name in _fields(CATALOG[key]["en"])}
    assert "VALUE" in say(key, "fr", **values)
    assert say(key, "fr", **values) == CATALOG[key]["fr"].format(**values)
    assert say(key, "de", **values) == CATALOG[key]["en"].format(**values)
