"""Prompt templates, versioned by file name (`sql_writer_v1.txt`, `doc_answer_v1.txt`, ...).

A file holds a system part and a user part separated by a line `=== user ===`; placeholders are
`$name` (string.Template), so braces in SQL or JSON examples need no escaping. A new prompt
version is a new file: the old one stays, and A/B variants name the version they use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from agents.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent
SEPARATOR = "=== user ==="


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with every placeholder filled; a missing value is a bug, not a blank."""
        return Template(self.system).substitute(values), Template(self.user).substitute(values)


@cache
def load_prompt(name: str) -> Prompt:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ConfigError(f"Prompt names are lowercase words and digits; got {name!r}.")
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.txt")))
        raise ConfigError(f"There is no prompt {name!r} in {PROMPTS_DIR} (known: {known}).")
    text = path.read_text(encoding="utf-8")
    if SEPARATOR not in text:
        raise ConfigError(f"{path}: the line {SEPARATOR!r} between system and user is missing.")
    system, user = text.split(SEPARATOR, 1)
    return Prompt(name=name, system=system.strip(), user=user.strip())
