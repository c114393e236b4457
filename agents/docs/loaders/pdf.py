"""PDF: one section per page, so a citation keeps its page; headings are guessed from the text."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from agents.docs.dates import header_date
from agents.docs.loaders.document import (
    LoadedDocument,
    Section,
    UnreadableDocument,
    title_from_name,
)


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(str(path))
        # A PDF restricted by an owner password only (no copying, no printing) opens in every
        # viewer with the empty user password: read it like any other. One that needs a password
        # to open (or a cipher this install cannot decode) is skipped with the reason.
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except (DependencyError, NotImplementedError, PdfReadError):
                opened = False
            if not opened:
                raise UnreadableDocument("the PDF is encrypted (it needs a password to open)")
        title = (reader.metadata.title if reader.metadata else None) or title_from_name(path)
        sections = []
        heading: str | None = None
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for line in text.splitlines():
                stripped = line.strip()
                if re.match(
                    r"^(Article|ARTICLE|Section|Annex|Annexe|Schedule)\s+\S+", stripped
                ) or re.match(r"^\d+(\.\d+)?\.?\s+[A-ZÉ][^.]{2,70}$", stripped):
                    heading = stripped[:120]
                    break
            if text.strip():
                sections.append(Section(text.strip(), heading, number))
    except UnreadableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"the PDF cannot be read ({exc})") from exc
    return LoadedDocument(str(title), sections, _pdf_date(reader, sections))


def _pdf_date(reader: object, sections: list[Section]) -> date | None:
    """The PDF's modification (else creation) date, else a date on its first page."""
    meta = getattr(reader, "metadata", None)
    for name in ("modification_date", "creation_date"):
        try:
            value = getattr(meta, name, None) if meta is not None else None
        except (ValueError, TypeError):  # a malformed date string in the metadata
            value = None
        if isinstance(value, datetime):
            return value.date()
    return header_date(sections[0].text) if sections else None
