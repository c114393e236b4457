"""Word (.docx): one section per paragraph in a Heading or Title style."""

from __future__ import annotations

from pathlib import Path

from agents.docs.dates import header_date, metadata_date
from agents.docs.loaders.document import (
    LoadedDocument,
    Section,
    UnreadableDocument,
    title_from_name,
)


def load_docx(path: Path) -> LoadedDocument:
    import docx  # python-docx, not this module: imports are absolute
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableDocument(f"the DOCX file cannot be read ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors for corrupt files
        raise UnreadableDocument(f"the DOCX file is corrupt ({type(exc).__name__})") from exc
    title = document.core_properties.title or None
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        text = paragraph.text.strip()
        if not text:
            continue
        if style.startswith("Heading") or style == "Title":
            if buffer:
                sections.append(Section("\n".join(buffer), heading))
            buffer, heading = [], text
            if title is None:
                title = text
            continue
        buffer.append(text)
    if buffer:
        sections.append(Section("\n".join(buffer), heading))
    properties = document.core_properties
    day = metadata_date({"modified": properties.modified, "created": properties.created})
    if day is None and sections:
        day = header_date(sections[0].text)
    return LoadedDocument(title or title_from_name(path), sections, day)
