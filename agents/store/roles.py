"""Who may read what: the read-only login roles generated SQL runs as, one per access profile
(data scope, restricted tables), with row level security tied to `current_user`, on whatever
warehouse schemas are configured (`SOURCED_WAREHOUSE_SCHEMA`)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from agents.store.schema import SCHEMA_LOCK_KEY, migration_files
from agents.store.users import ScopeRule, User

READER_ROLE = "sourced_reader"
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")

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


@dataclass(frozen=True)
class AccessProfile:
    """What a reader role may see: its data scope ((key, value) pairs; none: every row) and the
    restricted tables it reads."""

    scope: tuple[tuple[str, str], ...] = ()
    extra_tables: frozenset[str] = frozenset()

    @property
    def role(self) -> str:
        name = READER_ROLE
        for table in sorted(self.extra_tables):
            name += "_" + table.split(".")[-1]
        for _, value in self.scope:
            name += "_" + re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
        return name

    def value(self, key: str) -> str | None:
        return dict(self.scope).get(key)


def access_profile(user: User, restricted_tables: dict[str, frozenset[str]]) -> AccessProfile:
    """The profile of a user: their data scope, plus restricted tables one of their groups opens."""
    extra = frozenset(
        table for table, groups in restricted_tables.items() if groups & user.all_groups
    )
    return AccessProfile(scope=user.scope, extra_tables=extra)


# Bumped when the per-role settings below change, so existing databases get them re-applied.
ROLE_SETTINGS_VERSION = 4


def sync_reader_roles(
    conn: psycopg.Connection,
    profiles: Iterable[AccessProfile],
    restricted_tables: dict[str, frozenset[str]],
    *,
    schemas: Sequence[str],
    scopes: Mapping[str, Sequence[ScopeRule]] | None = None,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_CEILING_MS,
) -> list[str]:
    """Create or update one read-only login role per access profile; return the role names.

    Each role gets USAGE on the warehouse `schemas`, SELECT on their tables and nothing else: no
    CREATE, no right on `app`. A scoped role's rows are filtered by row level security policies
    written for that role name from the users file's `scopes` (table, column, the user's value),
    so a statement it runs cannot widen its scope: the policy depends on
    `current_user`, which no statement of a non-superuser role can change back. No role may
    create temporary tables here (TEMP is revoked from PUBLIC on this database), and each has
    its own limits (READER_SETTINGS, `statement_timeout_ms`, a pinned search_path).
    """
    ordered = sorted(set(profiles), key=lambda p: p.role)
    rules = {key: tuple(value) for key, value in (scopes or {}).items()}
    signature = _signature(ordered, restricted_tables, statement_timeout_ms, tuple(schemas), rules)
    roles = [p.role for p in ordered]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        # The app's own database records what was applied; a warehouse of its own does not.
        state = conn.execute("SELECT to_regclass('app.access_state')").fetchone()
        recorded = bool(state and state[0])
        current = (conn.execute("SELECT signature FROM app.access_state").fetchone()
                   if recorded else None)
        if current and current[0] == signature:
            return roles
        # Fail fast rather than queue behind a long transaction holding these tables.
        conn.execute("SET LOCAL lock_timeout = '10s'")
        tables = _warehouse_tables(conn, schemas)
        policies = scope_policies(rules, tables)
        _enable_row_security(conn, policies)
        _revoke_temp_from_public(conn)
        for profile in ordered:
            _reset_role(conn, profile.role, schemas, app_schema=recorded)
            _apply_settings(conn, profile.role, statement_timeout_ms, schemas)
            for table in tables:
                _grant_table(conn, profile, table, restricted_tables, policies.get(table, ()))
        if recorded:
            conn.execute(
                "INSERT INTO app.access_state (id, signature) VALUES (true, %s) ON CONFLICT (id)"
                " DO UPDATE SET signature = excluded.signature, updated_at = now()",
                (signature,),
            )
    return roles


def reader_search_path(schemas: Sequence[str]) -> str:
    """The readers' pinned search_path: the warehouse schemas, pg_temp named last (a temporary
    table can never shadow a warehouse table)."""
    return ", ".join([*(s if _PLAIN_NAME.fullmatch(s) else '"' + s.replace('"', '""') + '"'
                        for s in schemas), "pg_temp"])


def scope_policies(scopes: Mapping[str, Sequence[ScopeRule]],
                   tables: Sequence[str]) -> dict[str, tuple[tuple[str, ScopeRule], ...]]:
    """Qualified table -> the (scope key, rule) pairs filtering it, for the tables that exist.

    A rule naming a missing table is skipped with a warning (`sourced doctor` lists it)."""
    found: dict[str, list[tuple[str, ScopeRule]]] = {}
    for key, rules in sorted(scopes.items()):
        for rule in rules:
            if rule.table in tables:
                found.setdefault(rule.table, []).append((key, rule))
            else:
                log.info("scope %s names %s, which is not a warehouse table", key, rule.table)
    return {table: tuple(pairs) for table, pairs in found.items()}


def scope_condition(profile: AccessProfile,
                    pairs: Sequence[tuple[str, ScopeRule]]) -> sql.Composable:
    """The USING clause of a profile's policy on one table: its scope values' rows, or all.

    A `references` rule reads its parent table, whose own policy holds for the same role: the
    rows of a child table follow the visible rows of their parent."""
    parts: list[sql.Composable] = []
    for key, rule in pairs:
        value = profile.value(key)
        if value is None:
            continue
        column = sql.Identifier(rule.column)
        if rule.references is None:
            parts.append(sql.SQL("{} = {}").format(column, sql.Literal(value)))
            continue
        schema, parent, parent_column = rule.references.split(".")
        child = sql.Identifier(*rule.table.split("."))
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM {} p WHERE p.{} = {}.{})").format(
            sql.Identifier(schema, parent), sql.Identifier(parent_column), child, column))
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


def _signature(
    profiles: Sequence[AccessProfile],
    restricted_tables: dict[str, frozenset[str]],
    statement_timeout_ms: int,
    schemas: tuple[str, ...],
    scopes: dict[str, tuple[ScopeRule, ...]],
) -> str:
    """Everything the roles are derived from: while it is unchanged, a resync has nothing to do."""
    return hashlib.sha256(
        repr(
            (
                [(p.role, p.scope, sorted(p.extra_tables)) for p in profiles],
                sorted((k, sorted(v)) for k, v in restricted_tables.items()),
                sorted(scopes.items()),
                schemas,
                [name for _, name in migration_files()],
                ROLE_SETTINGS_VERSION,
                sorted(READER_SETTINGS.items()),
                statement_timeout_ms,
            )
        ).encode()
    ).hexdigest()


def _warehouse_tables(conn: psycopg.Connection, schemas: Sequence[str]) -> list[str]:
    """Qualified names of the tables of the warehouse schemas."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname = ANY(%s)"
            " ORDER BY 1", (list(schemas),)
        )
    ]


def _enable_row_security(conn: psycopg.Connection, policies: Mapping[str, object]) -> None:
    for table in sorted(policies):
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(
                sql.Identifier(*table.split("."))
            )
        )


def _reset_role(conn: psycopg.Connection, name: str, schemas: Sequence[str], *,
                app_schema: bool) -> None:
    """Create the login role if needed and strip it down to reading the warehouse schemas."""
    role = sql.Identifier(name)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(role))
    conn.execute(
        sql.SQL(
            "ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        ).format(role)
    )
    if app_schema:
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA app FROM {}").format(role))
    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(role))
    for schema in schemas:
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(
            sql.Identifier(schema), role))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(schema), role))
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


def _apply_settings(conn: psycopg.Connection, name: str, statement_timeout_ms: int,
                    schemas: Sequence[str]) -> None:
    """The role's own limits, each in a savepoint: an owner who is not a superuser may not set
    temp_file_limit (unless granted SET ON PARAMETER); the rest still applies, with a warning,
    and `sourced doctor` names what is missing."""
    role = sql.Identifier(name)
    values = {**READER_SETTINGS, "statement_timeout": f"{int(statement_timeout_ms)}ms"}
    statements = [
        sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.Identifier(key), sql.Literal(value))
        for key, value in sorted(values.items())
    ]
    # A list of schemas, not one quoted name; for this database only, as schemas are a
    # database's own (one server may hold the demo and another warehouse).
    statements.append(sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = "
                              + reader_search_path(schemas)).format(
        role, sql.Identifier(conn.info.dbname)))
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
    policies: Sequence[tuple[str, ScopeRule]],
) -> None:
    """SELECT on one warehouse table when the profile may read it, and its scope policy."""
    role = sql.Identifier(profile.role)
    ident = sql.Identifier(*table.split("."))
    # REVOKE first: a write right granted by hand must not survive a resync.
    conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(ident, role))
    if table not in restricted_tables or table in profile.extra_tables:
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(ident, role))
    if policies:
        policy = sql.Identifier(f"scope_{profile.role}")
        conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, ident))
        conn.execute(
            sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                policy, ident, role, scope_condition(profile, policies)
            )
        )
