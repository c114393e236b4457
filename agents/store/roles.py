"""Who may read what: the read-only login roles generated SQL runs as, one per access profile
(data scope, restricted tables), with row level security tied to `current_user`."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from agents.store.schema import SCHEMA_LOCK_KEY, migration_files
from agents.store.users import User

READER_ROLE = "sourced_reader"

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_CEILING_MS = 60_000
"""The reader roles' own statement_timeout: the executor sets a shorter one per transaction;
this bounds a session that did not go through it."""

# Per-role settings (ALTER ROLE ... SET), applied at every login of a reader role. A query
# that spills more than temp_file_limit to disk is stopped (a reader cannot raise it: only a
# superuser may set it); idle_in_transaction_session_timeout ends a session left inside a
# transaction. The values are what `sourced doctor` checks.
READER_SETTINGS: dict[str, str] = {
    "temp_file_limit": "256MB",
    "work_mem": "16MB",
    "idle_in_transaction_session_timeout": "30s",
    # One more layer under the executor's BEGIN READ ONLY: a session of this role that
    # somehow skipped it still starts every transaction read-only.
    "default_transaction_read_only": "on",
}
# pg_temp named last: a temporary table can never shadow a warehouse table.
READER_SEARCH_PATH = "warehouse, pg_temp"

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
ROLE_SETTINGS_VERSION = 4


def sync_reader_roles(
    conn: psycopg.Connection,
    profiles: Iterable[AccessProfile],
    restricted_tables: dict[str, frozenset[str]],
    *,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_CEILING_MS,
) -> list[str]:
    """Create or update one read-only login role per access profile; return the role names.

    Each role gets USAGE on `warehouse`, SELECT on its tables and nothing else: no CREATE, no
    right on `app`. A scoped role's rows are filtered by row level security policies written for
    that role name, so a statement it runs cannot widen its scope: the policy depends on
    `current_user`, which no statement of a non-superuser role can change back. No role may
    create temporary tables here (TEMP is revoked from PUBLIC on this database), and each has
    its own limits (READER_SETTINGS, `statement_timeout_ms`, a pinned search_path).
    """
    ordered = sorted(set(profiles), key=lambda p: p.role)
    signature = _signature(ordered, restricted_tables, statement_timeout_ms)
    roles = [p.role for p in ordered]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        current = conn.execute("SELECT signature FROM app.access_state").fetchone()
        if current and current[0] == signature:
            return roles
        # Fail fast rather than queue behind a long transaction holding these tables.
        conn.execute("SET LOCAL lock_timeout = '10s'")
        tables = _warehouse_tables(conn)
        _enable_row_security(conn, tables)
        _revoke_temp_from_public(conn)
        for profile in ordered:
            _reset_role(conn, profile.role)
            _apply_settings(conn, profile.role, statement_timeout_ms)
            for table in tables:
                _grant_table(conn, profile, table, restricted_tables)
        conn.execute(
            "INSERT INTO app.access_state (id, signature) VALUES (true, %s) ON CONFLICT (id)"
            " DO UPDATE SET signature = excluded.signature, updated_at = now()",
            (signature,),
        )
    return roles


def _signature(
    profiles: Sequence[AccessProfile],
    restricted_tables: dict[str, frozenset[str]],
    statement_timeout_ms: int,
) -> str:
    """Everything the roles are derived from: while it is unchanged, a resync has nothing to do."""
    return hashlib.sha256(
        repr(
            (
                [(p.role, p.region, sorted(p.extra_tables)) for p in profiles],
                sorted((k, sorted(v)) for k, v in restricted_tables.items()),
                SCOPED_TABLE_FILTERS,
                [name for _, name in migration_files()],
                ROLE_SETTINGS_VERSION,
                sorted(READER_SETTINGS.items()),
                READER_SEARCH_PATH,
                statement_timeout_ms,
            )
        ).encode()
    ).hexdigest()


def _warehouse_tables(conn: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'warehouse' ORDER BY 1"
        )
    ]


def _enable_row_security(conn: psycopg.Connection, tables: list[str]) -> None:
    for table in SCOPED_TABLE_FILTERS:
        if table in tables:
            conn.execute(
                sql.SQL("ALTER TABLE warehouse.{} ENABLE ROW LEVEL SECURITY").format(
                    sql.Identifier(table)
                )
            )


def _reset_role(conn: psycopg.Connection, name: str) -> None:
    """Create the login role if needed and strip it down to reading `warehouse`."""
    role = sql.Identifier(name)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
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
    # Explicitly too: when PUBLIC's TEMP could not be revoked, a grant to the role could be
    # (its own grant is all this removes; PUBLIC's, if any, stays and the doctor reports it).
    conn.execute(sql.SQL("REVOKE TEMP ON DATABASE {} FROM {}").format(
        sql.Identifier(conn.info.dbname), role))


def _revoke_temp_from_public(conn: psycopg.Connection) -> None:
    """No temporary tables for the roles of this database that were not given TEMP by name.

    TEMP is granted to PUBLIC by default, so revoking it from a reader alone changes nothing.
    The app's own role keeps it (the owner has it anyway). This is the app's database; on an
    external warehouse the same statements are the operator's (see README, production).
    """
    database = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("REVOKE TEMP ON DATABASE {} FROM PUBLIC").format(database))
    conn.execute(sql.SQL("GRANT TEMP ON DATABASE {} TO CURRENT_USER").format(database))


def _apply_settings(conn: psycopg.Connection, name: str, statement_timeout_ms: int) -> None:
    """The role's own limits, each in a savepoint: an owner who is not a superuser may not set
    temp_file_limit (unless granted SET ON PARAMETER); the rest still applies, with a warning,
    and `sourced doctor` names what is missing."""
    role = sql.Identifier(name)
    values = {**READER_SETTINGS, "statement_timeout": f"{int(statement_timeout_ms)}ms"}
    statements = [
        sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.Identifier(key), sql.Literal(value))
        for key, value in sorted(values.items())
    ]
    # A list of schemas, not one quoted name.
    statements.append(sql.SQL("ALTER ROLE {} SET search_path = " + READER_SEARCH_PATH
                              ).format(role))
    for statement in statements:
        try:
            with conn.transaction():
                conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege as exc:
            log.warning("could not apply %s: %s", statement.as_string(conn), exc)


def _grant_table(
    conn: psycopg.Connection,
    profile: AccessProfile,
    table: str,
    restricted_tables: dict[str, frozenset[str]],
) -> None:
    """SELECT on one warehouse table when the profile may read it, and its scope policy."""
    role = sql.Identifier(profile.role)
    qualified = f"warehouse.{table}"
    ident = sql.Identifier("warehouse", table)
    # REVOKE first: a write right granted by hand must not survive a resync.
    conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(ident, role))
    if qualified not in restricted_tables or qualified in profile.extra_tables:
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(ident, role))
    if table in SCOPED_TABLE_FILTERS:
        _write_scope_policy(conn, profile, table)


def _write_scope_policy(conn: psycopg.Connection, profile: AccessProfile, table: str) -> None:
    """The role's policy on a region-carrying table: its region's rows, or all when unscoped."""
    role = sql.Identifier(profile.role)
    ident = sql.Identifier("warehouse", table)
    policy = sql.Identifier(f"scope_{profile.role}")
    conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, ident))
    condition = (
        sql.SQL(SCOPED_TABLE_FILTERS[table]).format(region=sql.Literal(profile.region))
        if profile.region
        else sql.SQL("true")
    )
    conn.execute(
        sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
            policy, ident, role, condition
        )
    )
