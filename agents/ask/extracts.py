"""Document answers: the retrieved passages as numbered sources, the offline extractive answer
citing them, the passages block of a grounded prompt, and the filter that keeps a model's
citations inside the sources it was given."""

from __future__ import annotations

import re

import numpy as np

from agents.ask.answer import Source
from agents.docs.embeddings import Embedder
from agents.docs.retrieval import Passage
from agents.docs.sentences import pick_sentences
from agents.language import detect_language
from agents.messages import say


def sources_from(passages: list[Passage]) -> list[Source]:
    return [
        Source(
            number=i,
            title=p.title,
            path=p.path,
            section=p.section,
            page=p.page,
            modified=p.modified_at.date().isoformat(),
            score=p.score,
            passage=p.content,
            uploaded_by=p.uploaded_by,
        )
        for i, p in enumerate(passages, start=1)
    ]


def extractive_answer(question: str, sources: list[Source], lang: str,
                      embedder: Embedder | None = None,
                      question_vector: np.ndarray | None = None) -> str:
    """Offline document answer: the sentences that answer, best first, each cited [n].

    Candidates come from every source (agents.docs.sentences); a sentence in the other language
    than the question says so.
    """
    if not sources:
        return not_found_text(lang)
    picks = pick_sentences(question, [(s.number, s.passage, s.score) for s in sources], embedder,
                           question_vector)
    lines = [say("ask.excerpts_heading", lang)]
    for pick in picks:
        source_lang = detect_language(pick.text)
        note = "" if source_lang == lang else " " + say(
            "docs.source_language", lang, language=say(f"docs.language_{source_lang}", lang))
        lines.append(f"- {pick.text} [{pick.source}]{note}")
    return "\n".join(lines)


def not_found_text(lang: str) -> str:
    """The one answer for 'nothing found': identical whether a document is missing or restricted."""
    return say("ask.no_document", lang)


class CitationFilter:
    """Streams text while removing citations that point outside the retrieved sources.

    A model may write [7] with five passages, or cite a number it invented; that marker is
    dropped before the user sees it. Text is held back only while a bracket is open.
    """

    PATTERN = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        open_at = self._pending.rfind("[")
        if open_at != -1 and "]" not in self._pending[open_at:] and \
                len(self._pending) - open_at < 24:
            ready, self._pending = self._pending[:open_at], self._pending[open_at:]
        else:
            ready, self._pending = self._pending, ""
        return self._clean(ready)

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return self._clean(ready)

    def _clean(self, text: str) -> str:
        def keep(match: re.Match[str]) -> str:
            numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
            kept = [n for n in numbers if n in self.valid]
            return "".join(f"[{n}]" for n in kept)

        return self.PATTERN.sub(keep, text)


def filter_citations(text: str, valid: set[int]) -> str:
    citations = CitationFilter(valid)
    return citations.feed(text) + citations.flush()


def passages_block(sources: list[Source]) -> str:
    """The retrieved passages for the prompt, each numbered; a passage cannot close the block."""
    blocks = []
    for source in sources:
        where = ", ".join(x for x in (source.section, f"p. {source.page}" if source.page else None)
                          if x)
        body = re.sub(r"</?\s*passages?\s*>", "", source.passage, flags=re.IGNORECASE)
        blocks.append(f"[{source.number}] {source.title}"
                      f"{f' — {where}' if where else ''} ({source.modified})\n{body}")
    return "\n\n".join(blocks)
