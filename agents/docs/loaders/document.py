"""What every loader returns: a document's title and its sections, or why it cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Section:
    text: str
    heading: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class LoadedDocument:
    title: str
    sections: list[Section]
    # The document's own date (front matter, file properties, a date in its first lines);
    # None when it has none and the file's modification time stands in.
    date: date | None = None


class UnreadableDocument(Exception):
    """A file that cannot be turned into text; the message is the reason shown in the report."""


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
