"""Document answers: the passages this user may read, answered from extracts offline or by the
model grounded in them (its citations kept inside the retrieved sources)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from agents.ask.answer import Source
from agents.ask.extracts import (
    CitationFilter,
    extractive_answer,
    filter_citations,
    not_found_text,
    passages_block,
    sources_from,
)
from agents.ask.parts import MODEL_DOWN, DocsPart, keeping
from agents.ask.turn import Turn
from agents.ask.understood import quoted, unplaced
from agents.docs.access import reading_groups
from agents.docs.retrieval import MIN_SIMILARITY
from agents.docs.sentences import content_words
from agents.errors import ProviderError
from agents.messages import say
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, stream

log = logging.getLogger("sourced.ask")


# A question shaped like a data question but naming no metric reads the documents first
# (`strict`): only a passage close in meaning answers it (MIN_SIMILARITY), not one that merely
# holds its words, else the data branch's honest answer. With the coverage rule, 'What were
# gross sales before discounts in 2023?' (cosine 0.38, coverage 0.80) got pricing excerpts.


def documents_answer(turn: Turn, *, strict: bool = False,
                     holding: tuple[str, ...] = ()) -> DocsPart:
    """The retrieved sources and an answer citing them, or the one "nothing found" sentence."""
    resources = turn.resources
    embedder = resources.embedder
    vector = turn.search_vector
    with resources.app_pool.connection() as conn:
        passages = turn.timed("retrieve", lambda: turn.retrieve_chunks(
            conn, embedder, turn.search_text or turn.question, reading_groups(turn.user),
            k=resources.settings.retrieval_k, lang=turn.lang, query_vector=vector,
        ))
    if strict and max(((p.similarity or 0) for p in passages), default=0) < MIN_SIMILARITY:
        passages = []
    if holding:
        wanted = set().union(*(content_words(words) for words in holding))
        passages = [p for p in passages
                    if wanted <= content_words(f"{p.title} {p.section or ''} {p.content}")]
    sources = sources_from(passages)
    if not sources:
        # The same sentence whether nothing matches or only what this user may not read,
        # and no model call either way (its latency would tell the difference).
        return DocsPart(not_found_text(turn.lang))
    if turn.model is None:
        return DocsPart(turn.timed("compose", lambda: extractive_answer(
            turn.question, sources, turn.lang, embedder, _vector_of(turn))), tuple(sources))
    with keeping(DocsPart("", tuple(sources))):
        return _grounded(turn, turn.model, sources)


def documents_for_unknown_words(turn: Turn, words: tuple[str, ...]) -> DocsPart | None:
    """The documents' answer to a data question whose words the planner does not all know, when
    a passage close in meaning holds every one of them: a document topic with a metric word in
    it ('the partner margin for Platinum partners', 'commission on hardware revenue') is the
    documents' to answer, rather than the planner's "I don't know what Platinum means". None
    when no passage does: the planner's honest answer stands."""
    docs = documents_answer(turn, strict=True, holding=words)
    if not docs.sources:
        return None
    named = ", ".join(quoted(w, turn.lang) for w in unplaced(words))
    note = say("ask.documents_for_unknown", turn.lang, words=named)
    return replace(docs, text=f"_{note}_\n\n{docs.text}")


def _vector_of(turn: Turn) -> np.ndarray | None:
    """The question's own vector, when the search used it (a follow-up searches with more)."""
    if turn.search_text and turn.search_text != turn.question:
        return None
    return turn.search_vector


def _grounded(turn: Turn, model: ChatModel, sources: list[Source]) -> DocsPart:
    system, user = load_prompt(model.variant.answer_prompt).render(
        language=turn.language_name,
        passages=passages_block(sources),
        question=turn.question,
    )
    numbers = {s.number for s in sources}
    citations = CitationFilter(numbers)
    sink = turn.on_token

    def filtered(piece: str) -> None:
        clean = citations.feed(piece)
        if clean and sink is not None:
            sink(clean)

    try:
        reply = turn.timed("llm_answer", lambda: stream(model, system, user, filtered))
    except ProviderError as exc:
        log.warning("grounded answer unavailable: %s", exc.detail)
        excerpts = extractive_answer(turn.question, sources, turn.lang,
                                     turn.resources.embedder, _vector_of(turn))
        note = say("ask.excerpts_instead", turn.lang)
        return DocsPart(f"{note}\n\n{excerpts}", tuple(sources), MODEL_DOWN)
    tail = citations.flush()
    if tail and sink is not None:
        sink(tail)
    turn.timings.count(reply.tokens)
    return DocsPart(filter_citations(reply.text, numbers).strip(), tuple(sources))
