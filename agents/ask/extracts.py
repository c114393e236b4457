"""Document answers: the retrieved passages as numbered sources, the offline extractive answer
citing them, the passages block of a grounded prompt, and the filter that keeps a model's
citations inside the sources it was given."""

from __future__ import annotations

import re

from agents.ask.answer import Source
from agents.docs.retrieval import Passage
from agents.language import normalize
from agents.messages import say


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+(?=[A-ZÉÀ0-9«\"(-])", flat) if s.strip()]


STOPWORDS = frozenset([
    "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were",
    "what", "which", "how", "do", "does", "did", "our", "we", "you", "about", "with", "by",
    "from", "at", "as", "it", "this", "that", "be", "le", "la", "les", "un", "une", "des", "du",
    "de", "d", "l", "et", "ou", "est", "sont", "quel", "quelle", "quels", "quelles", "comment",
    "pour", "par", "sur", "dans", "au", "aux", "ce", "cette", "qui", "que", "quoi", "nos",
    "notre", "il", "elle", "on", "y", "en", "a",
])


def best_sentences(passage: str, question: str, limit: int = 2) -> list[str]:
    """The sentences of a passage sharing the most words with the question (extractive)."""
    wanted = {w for w in normalize(question).split() if w not in STOPWORDS and len(w) > 2}
    scored = []
    for index, sentence in enumerate(_sentences(passage)):
        words = set(normalize(sentence).split())
        overlap = len(wanted & words) + 0.5 * sum(
            1 for w in wanted for x in words if len(w) > 4 and x.startswith(w[:5])
        )
        scored.append((overlap, -index, sentence))
    scored.sort(reverse=True)
    picked = [s for score, _, s in scored[:limit] if score > 0] or [
        s for _, _, s in sorted(scored, key=lambda t: -t[1])[:1]
    ]
    order = {s: i for i, s in enumerate(_sentences(passage))}
    return sorted(picked, key=lambda s: order.get(s, 0))


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


def extractive_answer(question: str, sources: list[Source], lang: str) -> str:
    """Offline document answer: the best sentences of the top passages, each cited [n]."""
    if not sources:
        return not_found_text(lang)
    lines = [say("ask.excerpts_heading", lang)]
    for source in sources[:3]:
        picked = best_sentences(source.passage, question)
        excerpt = " … ".join(picked)
        lines.append(f"- {excerpt} [{source.number}]")
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
