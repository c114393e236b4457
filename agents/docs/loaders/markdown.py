"""Markdown: one section per `#` to `####` heading; the first level-one heading is the title."""

from __future__ import annotations

import re
from pathlib import Path

from agents.docs.loaders.document import LoadedDocument, Section, read_text, title_from_name


def load_markdown(path: Path) -> LoadedDocument:
    text = read_text(path)
    title, sections = _markdown_sections(text)
    return LoadedDocument(title or title_from_name(path), sections)


def _markdown_sections(text: str) -> tuple[str | None, list[Section]]:
    sections: list[Section] = []
    title = None
    heading: str | None = None
    buffer: list[str] = []
    for line in text.splitlines():
        match = re.match(r"^(#{1,4})\s+(.*\S)\s*$", line)
        if match:
            if "".join(buffer).strip():
                sections.append(Section("\n".join(buffer).strip(), heading))
            buffer = []
            heading = match.group(2).strip()
            if title is None and len(match.group(1)) == 1:
                title = heading
            continue
        buffer.append(line)
    if "".join(buffer).strip():
        sections.append(Section("\n".join(buffer).strip(), heading))
    return title, sections
