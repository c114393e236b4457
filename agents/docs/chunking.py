"""Chunking: a loaded document's sections cut into overlapping, citable pieces.

Sections follow the headings (Markdown #, HTML h1-h4, DOCX Heading styles; PDF keeps page
numbers), then each section is cut into ~1,200-character pieces with 150 characters of overlap:
small enough for a precise citation, large enough to hold a policy rule with its context; the
overlap keeps a sentence cut at a boundary readable in both pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from agents.docs.loaders import LoadedDocument

CHUNK_SIZE = 1200
CHUNK_OVERLAP = 150


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    content: str
    section: str | None
    page: int | None


def split_document(document: LoadedDocument) -> list[Chunk]:
    """Cut each section into overlapping pieces; every piece keeps its section and page."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )
    chunks: list[Chunk] = []
    for section in document.sections:
        for piece in splitter.split_text(section.text):
            if piece.strip():
                chunks.append(Chunk(len(chunks), piece.strip(), section.heading, section.page))
    return chunks
