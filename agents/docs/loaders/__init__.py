"""The document loaders, one module per format, behind one registry.

`LOADERS` maps a file suffix to the function that reads that format into titled sections;
`SUPPORTED`, the suffixes ingestion and the upload page accept, is derived from it, so a new
format is one module and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from agents.docs.loaders.document import LoadedDocument, Section, UnreadableDocument
from agents.docs.loaders.docx import load_docx
from agents.docs.loaders.html import load_html
from agents.docs.loaders.markdown import load_markdown
from agents.docs.loaders.pdf import load_pdf
from agents.docs.loaders.text import load_text
from agents.docs.loaders.transcript import load_transcript

__all__ = [
    "LOADERS",
    "MAX_FILE_BYTES",
    "SUPPORTED",
    "LoadedDocument",
    "Loader",
    "Section",
    "UnreadableDocument",
    "load_document",
    "too_large",
]

Loader = Callable[[Path], LoadedDocument]

LOADERS: Mapping[str, Loader] = MappingProxyType({
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
    ".srt": load_transcript,
    ".vtt": load_transcript,
})
SUPPORTED: frozenset[str] = frozenset(LOADERS)

# Larger files are skipped with a reason, before their bytes are read: a policy or a contract
# is far smaller, and a multi-gigabyte export dropped in the folder must not exhaust memory.
MAX_FILE_BYTES = 50 * 1024 * 1024


def too_large() -> str:
    """The reason a file over MAX_FILE_BYTES is skipped."""
    return f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"


def load_document(path: Path) -> LoadedDocument:
    """Load one file, or raise UnreadableDocument with the reason it was skipped."""
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise UnreadableDocument(f"unsupported file type {suffix or '(none)'}")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableDocument("the file is empty")
    if size > MAX_FILE_BYTES:
        raise UnreadableDocument(too_large())
    document = loader(path)
    if not any(s.text.strip() for s in document.sections):
        raise UnreadableDocument("no text could be extracted")
    return document
