"""The doctor's checks of the database server: reachable, recent enough, with pgvector, and
migrated by this version of Sourced."""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from agents.commands.doctor.context import (
    DATABASE,
    MIGRATIONS,
    PGVECTOR,
    SERVER_VERSION,
    SETUP_FIX,
    Check,
    Context,
    first_line,
)
from agents.store import database, schema

MIN_SERVER_VERSION = 130000  # pgvector 0.8 supports PostgreSQL 13 and later
MIN_PGVECTOR = (0, 5, 0)  # HNSW indexes (migration 0002) arrived in pgvector 0.5.0


def check_database(ctx: Context) -> Check:
    settings = ctx.settings
    try:
        urls = ctx.urls()
    except database.EmbeddedDatabaseError as exc:
        return Check(DATABASE, False, exc.user_message,
                     f"Read {Path(settings.data_dir) / 'pgdata' / 'log'}, or set "
                     "SOURCED_DATABASE_URL to a PostgreSQL with pgvector.")
    except Exception as exc:
        return Check(DATABASE, False, f"cannot find the database: {first_line(exc)}",
                     "Check SOURCED_DATABASE_URL (postgresql://user:password@host:port/db).")
    params = conninfo_to_dict(urls.app)
    host = str(params.get("host") or "localhost")
    where = (f"embedded PostgreSQL in {Path(settings.data_dir) / 'pgdata'}" if urls.embedded
             else f"socket {host}" if host.startswith("/")
             else f"{host}:{params.get('port') or 5432}")
    where += f", database {params.get('dbname', '?')}, user {params.get('user', '?')}"
    try:
        ctx.conn()
    except Exception as exc:
        fix = ("Start it again with `sourced setup`, or remove a stale postmaster.pid only if "
               "no PostgreSQL runs there." if urls.embedded else
               "Check that the server runs and accepts connections from this host, and the "
               "host, port, database, user and password in SOURCED_DATABASE_URL.")
        return Check(DATABASE, False, f"{where}: {first_line(exc)}", fix)
    return Check(DATABASE, True, f"{where}: reachable")


def check_server_version(ctx: Context) -> Check:
    conn = ctx.db()
    version = conn.info.server_version
    shown = conn.execute("SHOW server_version").fetchone()
    text = f"PostgreSQL {shown[0] if shown else version}"
    if version < MIN_SERVER_VERSION:
        return Check(SERVER_VERSION, False, f"{text} is older than {MIN_SERVER_VERSION // 10000}",
                     f"Upgrade to PostgreSQL {MIN_SERVER_VERSION // 10000} or later, or unset "
                     "SOURCED_DATABASE_URL to use the embedded PostgreSQL 18.")
    return Check(SERVER_VERSION, True, text)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_pgvector(ctx: Context) -> Check:
    conn = ctx.db()
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if row is None:
        available = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
        if available is None:
            return Check(PGVECTOR, False, "the pgvector extension is not available on the server",
                         "Install pgvector on the PostgreSQL server (package postgresql-NN-"
                         "pgvector), or unset SOURCED_DATABASE_URL to use the embedded one.")
        # Migration 0002 creates it, but only once: on a migrated database `sourced setup`
        # would not run it again, so the fix is the statement itself.
        return Check(PGVECTOR, False,
                     f"pgvector {available[0]} is available but not installed in this database",
                     "As the database owner or a superuser: CREATE EXTENSION IF NOT EXISTS "
                     "vector; then re-ingest the documents.")
    version = str(row[0])
    if _version_tuple(version) < MIN_PGVECTOR:
        wanted = ".".join(map(str, MIN_PGVECTOR))
        return Check(PGVECTOR, False, f"pgvector {version} is older than {wanted} (HNSW indexes)",
                     "Upgrade pgvector on the server, then run ALTER EXTENSION vector UPDATE.")
    return Check(PGVECTOR, True, f"pgvector {version}")


def check_migrations(ctx: Context) -> Check:
    conn = ctx.db()
    files = dict(schema.migration_files())
    exists = conn.execute("SELECT to_regclass('app.schema_migrations')").fetchone()
    applied: dict[int, str] = {}
    if exists and exists[0] is not None:
        applied = {int(v): str(n) for v, n in
                   conn.execute("SELECT version, name FROM app.schema_migrations")}
    missing = [name for version, name in sorted(files.items()) if version not in applied]
    unknown = [name for version, name in sorted(applied.items()) if version not in files]
    detail = f"{len(set(applied) & set(files))} of {len(files)} applied"
    if missing:
        return Check(MIGRATIONS, False, f"{detail}; missing: {', '.join(missing)}", SETUP_FIX)
    if unknown:
        return Check(MIGRATIONS, False,
                     f"{detail}, and {', '.join(unknown)} which this version of Sourced does not "
                     "know: a newer Sourced migrated this database",
                     "Upgrade Sourced here to the version that migrated the database.")
    return Check(MIGRATIONS, True, detail)
