"""Shared resources, built once per process and passed in: settings, users, the semantic model,
the planner's vocabulary, the embedder and the connection pools.

The app wraps `build_resources` in st.cache_resource; the CLI and the tests call it directly.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from agents.ask.router import RouteExamples, load_route_examples
from agents.config import Settings, Variant
from agents.docs.embeddings import Embedder, build_embedder
from agents.errors import ConfigError
from agents.models.providers import ChatModel, build_chat_model
from agents.sql.model_check import check_model, locator
from agents.sql.model_schema import Location
from agents.sql.planner import PlanningContext
from agents.sql.semantic_model import SemanticModel, load_with_lines
from agents.sql.writer import SchemaCatalog, build_catalog, read_tables
from agents.store import database
from agents.store.database import AccessProfile, DatabaseUrls
from agents.store.users import Directory, User, load_directory
from sql_guard import Policy, policy_for_groups

EMBEDDING_SETTINGS = ("embed_model", "embed_base_url", "embed_api_key", "llm_base_url",
                      "llm_timeout_s", "llm_max_retries")


def settings_key(settings: Settings, names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The values of the named settings (all of them by default), secrets included, as a key.

    Caches are keyed by what their entries were built from: a copy of the resources with other
    settings then reuses what still applies and builds what does not.
    """
    values = []
    for name in names or tuple(sorted(Settings.model_fields)):
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        values.append(repr(value))
    return tuple(values)


@dataclass
class ResourceCaches:
    """What is built on first use and shared by every copy of one set of resources."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    embedders: dict[tuple[str, ...], Embedder] = field(default_factory=dict)
    catalogs: dict[tuple[str, str, str], SchemaCatalog] = field(default_factory=dict)
    route_examples: dict[str, RouteExamples] = field(default_factory=dict)
    # Verified questions never change (a correction is a new row): their terms are cached.
    verified_terms: dict[tuple[int, str], frozenset[str]] = field(default_factory=dict)
    chat_models: dict[tuple[object, ...], ChatModel | None] = field(default_factory=dict)
    reader_pools: dict[tuple[str, int, str], ConnectionPool] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    settings: Settings
    urls: DatabaseUrls
    directory: Directory
    model: SemanticModel
    planning: PlanningContext
    app_pool: ConnectionPool
    # Tables of the semantic model plus the restricted ones, parsed once rather than per question.
    warehouse_tables: frozenset[str]
    caches: ResourceCaches = field(default_factory=ResourceCaches, repr=False, compare=False)

    def with_settings(self, settings: Settings | None = None, *,
                      app_pool: ConnectionPool | None = None) -> Resources:
        """The same users, semantic model and caches with other settings or another app pool.

        What the new settings change is built anew on first use (a model client with another
        timeout, reader pools of another size); what they do not change is reused (the
        embedder, slow to load). `close()` on the original closes the pools of every copy; a
        replaced `app_pool` stays its owner's to close.
        """
        return dataclasses.replace(self, settings=settings or self.settings,
                                   app_pool=app_pool or self.app_pool)

    @property
    def embedder(self) -> Embedder:
        # Built on first use: a data-only CLI call does not pay for loading the encoder.
        key = settings_key(self.settings, EMBEDDING_SETTINGS)
        with self.caches.lock:
            embedder = self.caches.embedders.get(key)
            if embedder is None:
                embedder = self.caches.embedders[key] = build_embedder(self.settings)
            return embedder

    def schema_catalog(self) -> SchemaCatalog:
        """The warehouse tables with their embeddings, read once for the LLM writer's prompts."""
        embedder = self.embedder
        key = (self.urls.warehouse, self.settings.warehouse_schema, embedder.name)
        with self.caches.lock:
            catalog = self.caches.catalogs.get(key)
        if catalog is not None:
            return catalog
        with psycopg.connect(self.urls.warehouse, autocommit=True) as conn:
            tables = read_tables(conn, self.settings.warehouse_schemas)
        catalog = build_catalog(tables, embedder)
        with self.caches.lock:
            return self.caches.catalogs.setdefault(key, catalog)

    def verified_terms(self, verified_id: int, question: str,
                       compute: Callable[[str], frozenset[str]]) -> frozenset[str]:
        """The distinguishing terms of a verified question, computed once per question."""
        key = (verified_id, question)
        with self.caches.lock:
            cached = self.caches.verified_terms.get(key)
        if cached is None:
            cached = compute(question)
            with self.caches.lock:
                self.caches.verified_terms[key] = cached
        return cached

    def route_examples(self) -> RouteExamples:
        """The router's example questions, embedded once per encoder and examples: kept for
        the process, and stored in the app database for the next processes."""
        embedder = self.embedder
        with self.caches.lock:
            examples = self.caches.route_examples.get(embedder.name)
        if examples is None:
            examples = load_route_examples(embedder, store=self.app_pool)
            with self.caches.lock:
                examples = self.caches.route_examples.setdefault(embedder.name, examples)
        return examples

    def chat_model(self, variant: Variant, temperature: float | None = None) -> ChatModel | None:
        """The chat model of a variant (None offline); clients are reused across questions."""
        key = (settings_key(self.settings), repr(variant), temperature)
        with self.caches.lock:
            if key not in self.caches.chat_models:
                self.caches.chat_models[key] = build_chat_model(self.settings, variant,
                                                                temperature=temperature)
            return self.caches.chat_models[key]

    def policy_for(self, user: User) -> Policy:
        """The guard policy of a user: the row cap and the tables their groups may read."""
        return policy_for_groups(
            user.all_groups,
            restricted_tables={k: list(v) for k, v in self.directory.restricted_tables.items()},
            all_tables=self.warehouse_tables,
            max_rows=self.settings.max_rows,
            search_path=self.settings.warehouse_schemas,
        )

    def profile_for(self, user: User) -> AccessProfile:
        return database.access_profile(user, self.directory.restricted_tables)

    def reader_pool(self, user: User) -> ConnectionPool:
        """The pool of the read-only role matching the user's access profile."""
        profile = self.profile_for(user)
        key = (self.urls.warehouse, self.settings.pool_max_size, profile.role)
        with self.caches.lock:
            pool = self.caches.reader_pools.get(key)
            if pool is None:
                pool = _pool(database.reader_url(self.urls.warehouse, profile),
                             self.settings.pool_max_size, f"reader-{profile.role}")
                self.caches.reader_pools[key] = pool
            return pool

    def close(self) -> None:
        with self.caches.lock:
            for pool in self.caches.reader_pools.values():
                pool.close()
            self.caches.reader_pools.clear()
        self.app_pool.close()


def _pool(url: str, max_size: int, name: str) -> ConnectionPool:
    # check= pings a connection before handing it out, so a restarted Postgres costs one retry
    # instead of an error shown to a user.
    return ConnectionPool(
        url, min_size=1, max_size=max_size, name=name, open=True, timeout=30,
        check=ConnectionPool.check_connection, kwargs={"autocommit": True},
    )


def anchor_date(conn: psycopg.Connection, model: SemanticModel) -> date:
    """The last date in the data: relative periods ("last year") are anchored on it."""
    return data_dates(conn, model)[1]


def data_dates(conn: psycopg.Connection, model: SemanticModel) -> tuple[date | None, date]:
    """The first and last dates in the data: relative periods ("last year") are anchored on the
    last; a question about a period before the first is refused. They are read from the time
    column of the default metric's source (else the first source) of the semantic model."""
    query = model.date_range_sql()
    if query is None:
        return None, date.today()
    try:
        row = conn.execute(query).fetchone()
    except psycopg.Error:
        return None, date.today()
    if not row or not row[1]:
        return None, date.today()
    return _as_date(row[0]), _as_date(row[1]) or date.today()


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def prepare_database(settings: Settings, urls: DatabaseUrls, directory: Directory) -> None:
    """Migrations and reader roles: idempotent, safe to run at every start."""
    with psycopg.connect(urls.app, autocommit=True) as conn:
        database.migrate(conn)
        if settings.warehouse_url is not None:
            # A warehouse of its own: its reader roles are its operator's (README, Connect
            # your warehouse); `sourced doctor` checks them. The app database holds no data.
            return
        profiles = {database.access_profile(u, directory.restricted_tables)
                    for u in directory.users.values()}
        profiles.add(AccessProfile())
        database.sync_reader_roles(conn, profiles, directory.restricted_tables,
                                   schemas=settings.warehouse_schemas, scopes=directory.scopes)


def refuse_invalid_model(model: SemanticModel, warehouse_url: str,
                         locate: Callable[[Location], str]) -> None:
    """ConfigError (one line per problem, as `sourced model check` prints them) when the model
    does not run on the warehouse as the reader role."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        problems = check_model(model, conn, locate)
    if problems:
        raise ConfigError("the semantic model does not match the warehouse "
                          "(see `sourced model check`):\n" + "\n".join(problems))


def build_resources(settings: Settings, *, prepare: bool = True) -> Resources:
    """Read the configuration files, reach (or start) the database, open the pools."""
    directory = load_directory(Path(settings.users_file))
    model_file = Path(settings.semantic_model_file)
    model, lines = load_with_lines(model_file)
    urls = database.resolve_urls(settings)
    if prepare:
        prepare_database(settings, urls, directory)
    if prepare or settings.warehouse_url is not None:
        # Once the reader roles exist (prepared here, or a warehouse of its own): a model that
        # does not run there stops the start, with the lines of `sourced model check`.
        refuse_invalid_model(model, urls.warehouse, locator(model_file, lines))
    # The demo's warehouse lives in the app database; a connected one is read as its reader.
    data_url = urls.app if settings.warehouse_url is None else urls.warehouse
    with psycopg.connect(data_url, autocommit=True) as conn:
        start, anchor = data_dates(conn, model)

        def fetch(query: str) -> list[str]:
            try:
                return [row[0] for row in conn.execute(query)]
            except psycopg.Error:
                return []

        model = model.with_values(fetch)
    app_pool = _pool(urls.app, settings.pool_max_size, "app")
    return Resources(
        settings=settings,
        urls=urls,
        directory=directory,
        model=model,
        planning=PlanningContext(model, anchor, start),
        app_pool=app_pool,
        warehouse_tables=model.tables() | frozenset(directory.restricted_tables),
    )
