"""What every check of the doctor shares: its result, the names of the report, and a context
that builds the connection, the configuration and the embedder once for all of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import psycopg

from agents.config import PROJECT_ROOT, Settings
from agents.errors import AssistantError
from agents.store import database

if TYPE_CHECKING:
    from agents.docs.embeddings import Embedder
    from agents.sql.semantic_model import SemanticModel
    from agents.store.users import Directory

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
# A check must not hang on a blackholed endpoint: one try, a short timeout.
PROVIDER_TIMEOUT_S = 15.0
PROBE_SENTENCE = "How many customers signed up last year?"

# The names of the checks, in the order of the report (`CHECKS` in report.py).
CONFIGURATION = "configuration"
SIGN_IN = "sign-in"
DATABASE = "database"
SERVER_VERSION = "server version"
PGVECTOR = "pgvector"
MIGRATIONS = "migrations"
READER_ROLES = "reader roles"
READER_READ_ONLY = "readers read-only"
DOCS_READER = "docs reader"
WAREHOUSE_DATA = "warehouse data"
SEMANTIC_MODEL = "semantic model"
DATA_SCOPES = "data scopes"
DOCUMENTS = "documents"
EMBEDDER = "embedder"
INDEX_MODEL = "index model"
MODEL_ENDPOINT = "model endpoint"

SETUP_FIX = "Run `sourced setup` (the app does the same at start)."


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # Not run because a check it depends on failed (that one carries the fix).
    skipped: bool = False


class Blocked(Exception):
    """The check needs something another check reports as broken."""


class Context:
    """What the checks share, built on first use and remembered (value or failure)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._memo: dict[str, tuple[bool, Any]] = {}

    def memo(self, key: str, build: Callable[[], T]) -> T:
        if key not in self._memo:
            try:
                self._memo[key] = (True, build())
            except Exception as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if ok:
            return value
        raise value

    @staticmethod
    def need(get: Callable[[], T], what: str) -> T:
        """A dependency of a check: its failure is reported by its own check, not again here."""
        try:
            return get()
        except Exception as exc:
            raise Blocked(what) from exc

    # ------------------------------------------------------------ shared resources

    def urls(self) -> database.DatabaseUrls:
        return self.memo("urls", lambda: database.resolve_urls(self.settings))

    def conn(self) -> psycopg.Connection:
        def connect() -> psycopg.Connection:
            return psycopg.connect(self.urls().app, autocommit=True,
                                   connect_timeout=CONNECT_TIMEOUT_S)

        return self.memo("conn", connect)

    def db(self) -> psycopg.Connection:
        return self.need(self.conn, "the database cannot be reached (see `database`)")

    def directory(self) -> Directory:
        from agents.store.users import load_directory

        return self.memo("directory", lambda: load_directory(Path(self.settings.users_file)))

    def semantic_model(self) -> SemanticModel:
        from agents.sql.semantic_model import load_semantic_model

        return self.memo("model",
                         lambda: load_semantic_model(Path(self.settings.semantic_model_file)))

    def embedder(self) -> tuple[Embedder, float]:
        return self.memo("embedder", lambda: _load_embedder(self.settings))

    def close(self) -> None:
        ok, conn = self._memo.get("conn", (False, None))
        if ok:
            conn.close()


def quick_settings(settings: Settings) -> Settings:
    """The settings with one short try per provider call: a doctor answers within seconds."""
    return settings.model_copy(update={
        "llm_max_retries": 0, "llm_timeout_s": min(settings.llm_timeout_s, PROVIDER_TIMEOUT_S),
    })


def _load_embedder(settings: Settings) -> tuple[Embedder, float]:
    from agents.docs.embeddings import build_embedder

    started = time.perf_counter()
    embedder = build_embedder(quick_settings(settings))
    vectors = embedder.embed([PROBE_SENTENCE])
    if vectors.shape != (1, embedder.dimension):
        raise ValueError(f"one sentence gave vectors of shape {vectors.shape}, "
                         f"expected (1, {embedder.dimension})")
    if not np.all(np.isfinite(vectors)) or float(np.linalg.norm(vectors)) == 0.0:
        raise ValueError("the sentence's vector is zero or not finite")
    return embedder, time.perf_counter() - started


def first_line(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return exc.user_message
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)


def project_relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        try:
            return str(Path(path).resolve().relative_to(PROJECT_ROOT))
        except ValueError:
            return str(path)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
