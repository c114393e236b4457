"""One question being answered: what every stage reads, and what they add up as they go."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from agents.docs.embeddings import Embedder
from agents.docs.retrieval import Passage
from agents.language import Lang
from agents.models.providers import ChatModel, TokenSink
from agents.resources import Resources
from agents.sql.executor import QueryResult
from agents.store.users import User
from sql_guard import GuardResult

T = TypeVar("T")
LANGUAGE_NAMES = {"fr": "French", "en": "English"}


class Timings:
    """Milliseconds per stage and the model's tokens, for one question.

    The stage names ("plan", "route", "embed", "execute", ...) are what the monitoring page
    charts; a stage run twice (two model calls) adds up.
    """

    __slots__ = ("_started", "stages", "tokens")

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self.stages: dict[str, float] = {}
        self.tokens = 0

    def timed(self, stage: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + (time.perf_counter() - t0) * 1000

    def count(self, tokens: int | None) -> None:
        self.tokens += tokens or 0

    def with_total(self) -> dict[str, float]:
        """Every stage, and the time since the question arrived as "total"."""
        return {**self.stages, "total": (time.perf_counter() - self._started) * 1000}


class RunQuery(Protocol):
    def __call__(self, checked: GuardResult, pool: ConnectionPool, *,
                 statement_timeout_ms: int, max_rows: int) -> QueryResult: ...


class RetrieveChunks(Protocol):
    def __call__(self, conn: psycopg.Connection, embedder: Embedder, question: str,
                 groups: frozenset[str], *, k: int = ..., lang: str = ...,
                 query_vector: np.ndarray | None = ...) -> list[Passage]: ...


@dataclass(frozen=True)
class Turn:
    """The question, its asker and the means to answer it, shared by every stage.

    `run_query` and `retrieve_chunks` are handed in by `ask`, which reads them from its own
    module at each question: the tests replace them there to prove that nothing ran.
    """

    question: str
    lang: Lang
    user: User
    resources: Resources
    model: ChatModel | None
    on_token: TokenSink | None
    run_query: RunQuery
    retrieve_chunks: RetrieveChunks
    timings: Timings  # started when the question arrived
    # A follow-up of a documents answer: what to retrieve (the earlier question's words too).
    search_text: str | None = None

    @property
    def language_name(self) -> str:
        """The answer's language as a prompt names it."""
        return LANGUAGE_NAMES.get(self.lang, "English")

    @cached_property
    def vector(self) -> np.ndarray:
        """The question's embedding: computed once, and only if a stage needs it."""
        embedder = self.resources.embedder
        return self.timings.timed("embed", lambda: embedder.embed([self.question])[0])

    @cached_property
    def search_vector(self) -> np.ndarray:
        """The embedding of what documents are retrieved with (the question's own, usually)."""
        if not self.search_text:
            return self.vector
        embedder, text = self.resources.embedder, self.search_text
        return self.timings.timed("embed", lambda: embedder.embed([text])[0])

    def timed(self, stage: str, fn: Callable[[], T]) -> T:
        return self.timings.timed(stage, fn)

    def execute(self, verdict: GuardResult) -> QueryResult:
        """Run checked SQL with the reader role of the user's access profile."""
        settings = self.resources.settings
        return self.timed("execute", lambda: self.run_query(
            verdict, self.resources.reader_pool(self.user),
            statement_timeout_ms=settings.statement_timeout_ms,
            max_rows=settings.max_rows,
        ))
