"""Who may read what: the read-only login roles generated SQL runs as, one per access profile
(data scope, restricted tables), with row level security tied to `current_user`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from agents.store.schema import SCHEMA_LOCK_KEY, migration_files
from agents.store.users import User

READER_ROLE = "sourced_reader"

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
    ordered = sorted(set(profiles), key=lambda p: p.role)
    signature = _signature(ordered, restricted_tables)
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
        for profile in ordered:
            _reset_role(conn, profile.role)
            for table in tables:
                _grant_table(conn, profile, table, restricted_tables)
        conn.execute(
            "INSERT INTO app.access_state (id, signature) VALUES (true, %s) ON CONFLICT (id)"
            " DO UPDATE SET signature = excluded.signature, updated_at = now()",
            (signature,),
        )
    return roles


def _signature(
    profiles: Sequence[AccessProfile], restricted_tables: dict[str, frozenset[str]]
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
    conn.execute(sql.SQL("ALTER ROLE {} SET search_path = warehouse").format(role))
    # One more layer under the executor's BEGIN READ ONLY: a session of this role that
    # somehow skipped it still starts every transaction read-only.
    conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))


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
