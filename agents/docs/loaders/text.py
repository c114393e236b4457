"""Plain text: the first line is the title; numbered or capitalised short lines are headings."""

from __future__ import annotations

import re
from pathlib import Path

from agents.docs.dates import header_date
from agents.docs.loaders.document import LoadedDocument, Section, read_text, title_from_name
from agents.docs.loaders.transcript import is_transcript, transcript_sections


def load_text(path: Path) -> LoadedDocument:
    text = read_text(path)
    lines = [line for line in text.splitlines() if line.strip()]
    title = lines[0].strip()[:120] if lines else title_from_name(path)
    if is_transcript(text):
        return LoadedDocument(title_from_name(path), transcript_sections(text), header_date(text))
    # Plain text often underlines headings or writes them in capitals: keep those as sections.
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        is_rule = bool(re.fullmatch(r"[=\-]{3,}", stripped))
        is_heading = bool(
            stripped
            and len(stripped) < 80
            and (re.match(r"^\d+(\.\d+)*[.)]?\s+\S", stripped) or stripped.isupper())
        )
        if is_rule:
            continue
        if is_heading:
            if "".join(buffer).strip():
                sections.append(Section("\n".join(buffer).strip(), heading))
            buffer, heading = [], stripped
            continue
        buffer.append(line)
    if "".join(buffer).strip():
        sections.append(Section("\n".join(buffer).strip(), heading))
    return LoadedDocument(title, sections, header_date(text))
