"""The product's English and French text: one catalog, looked up by key.

Every sentence a user reads comes from here, so a translation is one file away and a test can
hold both languages to the same keys and the same placeholders. The catalog is kept in one YAML
file per stage (`ask.yaml`, `sql.yaml`, ...) beside this module: each key is defined once across
them, with an `en` and an `fr` text; `{name}` placeholders are filled by `say`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from agents.language import LANGUAGES, Lang

CATALOG_DIR = Path(__file__).resolve().parent
# libyaml's loader when the wheel has it (the catalog is read by every process).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalog() -> dict[str, dict[Lang, str]]:
    """Every message by key, merged from the catalog's files; a key defined twice is an error."""
    merged: dict[str, dict[Lang, str]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        entries = yaml.load(text, Loader=SAFE_LOADER) or {}
        for key, texts in entries.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice (again in {path.name})")
            merged[key] = {lang: str(texts[lang]) for lang in LANGUAGES if lang in texts}
    return merged


def say(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang` (English for any other language), placeholders filled."""
    texts = catalog()[key]
    template = texts["fr"] if lang == "fr" else texts["en"]
    return template.format(**values)
