"""Chunking: a loaded document's sections cut into overlapping, citable pieces.

Sections follow the headings (Markdown #, HTML h1-h4, DOCX Heading styles; PDF keeps page
numbers), then each section is cut into ~1,200-character pieces with 150 characters of overlap:
small enough for a precise citation, large enough to hold a policy rule with its context; the
overlap keeps a sentence cut at a boundary readable in both pieces.

A section under MIN_SECTION_CHARS (a one-line FAQ answer, a heading over a short list) is
merged into the next one of its page, its heading kept as a line: alone, such a chunk matched
many questions a little (a 136-character FAQ line was among the sources of 11 of 48 answers)
and answered none.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from agents.docs.loaders import LoadedDocument, Section

CHUNK_SIZE = 1200
CHUNK_OVERLAP = 150
MIN_SECTION_CHARS = 200


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
    for section in merge_small_sections(document.sections):
        for piece in splitter.split_text(section.text):
            if piece.strip():
                chunks.append(Chunk(len(chunks), piece.strip(), section.heading, section.page))
    return chunks


def merge_small_sections(sections: list[Section]) -> list[Section]:
    """Sections under MIN_SECTION_CHARS carried into the next of the same page (the last into
    the one before), each keeping its heading as a line of the text."""
    merged: list[Section] = []
    carried: list[Section] = []

    def text_of(section: Section) -> str:
        return f"{section.heading}\n{section.text}" if section.heading else section.text

    def alone(group: list[Section]) -> Section:
        if len(group) == 1:
            return group[0]
        return Section("\n\n".join(text_of(g) for g in group), group[0].heading, group[0].page)

    for section in sections:
        if carried and section.page != carried[0].page:
            merged.append(alone(carried))
            carried = []
        if len(section.text) < MIN_SECTION_CHARS:
            carried.append(section)
            continue
        if carried:
            section = Section("\n\n".join([*map(text_of, carried), text_of(section)]),
                              section.heading, section.page)
            carried = []
        merged.append(section)
    if carried:
        last = merged[-1] if merged else None
        if last is not None and last.page == carried[0].page:
            merged[-1] = Section("\n\n".join([last.text, *map(text_of, carried)]),
                                 last.heading, last.page)
        else:
            merged.append(alone(carried))
    return merged
