"""Shared resources, built once per process and passed in: settings, users, the semantic model,
the planner's vocabulary, the embedder and the connection pools.

The app wraps `build_resources` in st.cache_resource; the CLI and the tests call it directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

from agents.ask.router import RouteExamples, load_route_examples
from agents.config import Settings, Variant
from agents.docs.embeddings import Embedder, build_embedder
from agents.models.providers import ChatModel, build_chat_model
from agents.sql.planner import PlanningContext
from agents.sql.semantic_model import SemanticModel, load_semantic_model
from agents.sql.writer import SchemaCatalog, build_catalog, read_tables
from agents.store import database
from agents.store.database import AccessProfile, DatabaseUrls
from agents.store.users import Directory, User, load_directory
from sql_guard import Policy, policy_for_groups


@dataclass
class Resources:
    settings: Settings
    urls: DatabaseUrls
    directory: Directory
    model: SemanticModel
    planning: PlanningContext
    app_pool: ConnectionPool
    # Tables of the semantic model plus the restricted ones, parsed once rather than per question.
    warehouse_tables: frozenset[str]
    _embedder: Embedder | None = None
    _catalog: SchemaCatalog | None = None
    _route_examples: RouteExamples | None = None
    # Verified questions never change (a correction is a new row): their terms are cached.
    _verified_terms: dict[int, frozenset[str]] = field(default_factory=dict)
    _chat_models: dict[tuple[str, float | None], ChatModel | None] = field(default_factory=dict)
    _reader_pools: dict[str, ConnectionPool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def embedder(self) -> Embedder:
        # Built on first use: a data-only CLI call does not pay for loading the encoder.
        with self._lock:
            if self._embedder is None:
                self._embedder = build_embedder(self.settings)
            return self._embedder

    def schema_catalog(self) -> SchemaCatalog:
        """The warehouse tables with their embeddings, read once for the LLM writer's prompts."""
        with self._lock:
            catalog = self._catalog
        if catalog is not None:
            return catalog
        with psycopg.connect(self.urls.warehouse, autocommit=True) as conn:
            tables = read_tables(conn)
        catalog = build_catalog(tables, self.embedder)
        with self._lock:
            self._catalog = self._catalog or catalog
            return self._catalog

    def verified_terms(self, verified_id: int, question: str,
                       compute: Callable[[str], frozenset[str]]) -> frozenset[str]:
        with self._lock:
            cached = self._verified_terms.get(verified_id)
        if cached is None:
            cached = compute(question)
            with self._lock:
                self._verified_terms[verified_id] = cached
        return cached

    def route_examples(self) -> RouteExamples:
        """The router's example questions, embedded once."""
        with self._lock:
            examples = self._route_examples
        if examples is None:
            examples = load_route_examples(self.embedder)
            with self._lock:
                self._route_examples = self._route_examples or examples
        return self._route_examples or examples

    def chat_model(self, variant: Variant, temperature: float | None = None) -> ChatModel | None:
        """The chat model of a variant (None offline); clients are reused across questions."""
        key = (variant.name, temperature)
        with self._lock:
            if key not in self._chat_models:
                self._chat_models[key] = build_chat_model(self.settings, variant,
                                                          temperature=temperature)
            return self._chat_models[key]

    def policy_for(self, user: User) -> Policy:
        """The guard policy of a user: the row cap and the tables their groups may read."""
        return policy_for_groups(
            user.all_groups,
            restricted_tables={k: list(v) for k, v in self.directory.restricted_tables.items()},
            all_tables=self.warehouse_tables,
            max_rows=self.settings.max_rows,
        )

    def profile_for(self, user: User) -> AccessProfile:
        return database.access_profile(user, self.directory.restricted_tables)

    def reader_pool(self, user: User) -> ConnectionPool:
        """The pool of the read-only role matching the user's access profile."""
        profile = self.profile_for(user)
        with self._lock:
            pool = self._reader_pools.get(profile.role)
            if pool is None:
                pool = _pool(database.reader_url(self.urls.warehouse, profile),
                             self.settings.pool_max_size, f"reader-{profile.role}")
                self._reader_pools[profile.role] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            for pool in self._reader_pools.values():
                pool.close()
            self._reader_pools.clear()
        self.app_pool.close()


def _pool(url: str, max_size: int, name: str) -> ConnectionPool:
    # check= pings a connection before handing it out, so a restarted Postgres costs one retry
    # instead of an error shown to a user.
    return ConnectionPool(
        url, min_size=1, max_size=max_size, name=name, open=True, timeout=30,
        check=ConnectionPool.check_connection, kwargs={"autocommit": True},
    )


def anchor_date(conn: psycopg.Connection) -> date:
    """The last date in the data: relative periods ("last year") are anchored on it."""
    try:
        row = conn.execute("SELECT max(order_date) FROM warehouse.orders").fetchone()
    except psycopg.Error:
        return date.today()
    return row[0] if row and row[0] else date.today()


def prepare_database(settings: Settings, urls: DatabaseUrls, directory: Directory) -> None:
    """Migrations and reader roles: idempotent, safe to run at every start."""
    with psycopg.connect(urls.app, autocommit=True) as conn:
        database.migrate(conn)
        profiles = {database.access_profile(u, directory.restricted_tables)
                    for u in directory.users.values()}
        profiles.add(AccessProfile(region=None, extra_tables=frozenset()))
        database.sync_reader_roles(conn, profiles, directory.restricted_tables)


def build_resources(settings: Settings, *, prepare: bool = True) -> Resources:
    """Read the configuration files, reach (or start) the database, open the pools."""
    directory = load_directory(Path(settings.users_file))
    model = load_semantic_model(Path(settings.semantic_model_file))
    urls = database.resolve_urls(settings)
    if prepare:
        prepare_database(settings, urls, directory)
    with psycopg.connect(urls.app, autocommit=True) as conn:
        anchor = anchor_date(conn)

        def fetch(query: str) -> list[str]:
            try:
                return [row[0] for row in conn.execute(query)]  # type: ignore[arg-type]
            except psycopg.Error:
                return []

        model = model.with_values(fetch)
    app_pool = _pool(urls.app, settings.pool_max_size, "app")
    return Resources(
        settings=settings,
        urls=urls,
        directory=directory,
        model=model,
        planning=PlanningContext(model, anchor),
        app_pool=app_pool,
        warehouse_tables=model.tables() | frozenset(directory.restricted_tables),
    )
