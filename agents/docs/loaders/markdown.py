"""Markdown: one section per `#` to `####` heading; the first level-one heading is the title.

YAML front matter is read (its `title` and date) and not indexed; template tags (`{% ... %}`,
`{{ ... }}`), container fences (`::: tip`) and HTML comments are removed: they are markup, and
a chunk of them crowded the sources.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from agents.docs.dates import header_date, metadata_date
from agents.docs.loaders.document import LoadedDocument, Section, read_text, title_from_name
from agents.docs.loaders.transcript import is_transcript, transcript_sections

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_TEMPLATE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->", re.DOTALL)
_CONTAINER = re.compile(r"^\s*:::.*$", re.MULTILINE)


def load_markdown(path: Path) -> LoadedDocument:
    meta, body = split_front_matter(read_text(path))
    body = strip_markup(body)
    day = metadata_date(meta) or header_date(body)
    front_title = meta.get("title")
    if is_transcript(body):
        return LoadedDocument(str(front_title or title_from_name(path)),
                              transcript_sections(body), day)
    title, sections = _markdown_sections(body)
    title = title or (str(front_title) if front_title else None)
    return LoadedDocument(title or title_from_name(path), sections, day)


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """The front matter's mapping (empty when there is none or it is not YAML) and the body."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return {str(k): v for k, v in meta.items()}, text[match.end():]


def strip_markup(text: str) -> str:
    """Template tags, container fences and comments out; lines left without a word dropped
    (a table's rule lines stay)."""
    cleaned = _CONTAINER.sub("", _TEMPLATE.sub("", text))
    return "\n".join(line for line in cleaned.splitlines()
                     if not line.strip() or "|" in line or re.search(r"[^\W_]", line))


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
