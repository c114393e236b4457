"""The Postgres text search configuration of a language.

One definition for both sides: ingestion builds each chunk's tsvector with it and retrieval
parses the question with it, and the two must stem the same words alike to match.
"""

from __future__ import annotations

TS_CONFIG: dict[str, str] = {"fr": "french", "en": "english"}


def ts_config(lang: str) -> str:
    """The configuration for `lang`; "simple" (no stemming) for a language without one."""
    return TS_CONFIG.get(lang, "simple")
