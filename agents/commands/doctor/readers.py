"""The doctor's checks of the reader roles: they exist without powers, they can read the
warehouse and write nothing (tried, inside a transaction rolled back), and the documents' reader
is held by row level security."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from agents.commands.doctor.context import (
    CONNECT_TIMEOUT_S,
    DOCS_READER,
    READER_READ_ONLY,
    READER_ROLES,
    SETUP_FIX,
    Check,
    Context,
    first_line,
    plural,
)
from agents.store import roles
from agents.store.database import reader_url

PROBE_TABLE = "sourced_doctor_probe"
# A problem a check found, and the statement or step that fixes it.
Finding = tuple[str, str]


def _profiles(ctx: Context) -> list[roles.AccessProfile]:
    directory = ctx.need(ctx.directory, "users.yaml cannot be read (see `configuration`)")
    profiles = {roles.access_profile(u, directory.restricted_tables)
                for u in directory.users.values()}
    profiles.add(roles.AccessProfile())
    return sorted(profiles, key=lambda p: p.role)


def _reader_urls(ctx: Context) -> dict[str, str]:
    """The login URL of every reader role the users of users.yaml need, by profile role."""
    urls = ctx.need(ctx.urls, "the database cannot be found (see `database`)")
    return {p.role: reader_url(urls.warehouse, p) for p in _profiles(ctx)}


def check_reader_roles(ctx: Context) -> Check:
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


def probe_reader(url: str, schemas: tuple[str, ...]) -> _ReaderReport:
    """Log in as a reader: read one warehouse table, then try to write and expect refusals.

    The writes run inside one transaction that is always rolled back, each in a savepoint so
    one refusal does not end the others. An INSERT of DEFAULT VALUES is refused before any
    constraint is checked when the role lacks the privilege; success or a constraint violation
    means PostgreSQL let it write. UPDATE, DELETE and TRUNCATE are read from the catalog rather
    than tried (a TRUNCATE would lock out every reader while it waits), and so is every probe
    the server could not settle (a busy table, a read-only standby).
    """
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        role = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
        dbname = conn.info.dbname
        report = _ReaderReport(role=role)
        # Read before the probe session sets its own statement_timeout.
        findings = _limit_findings(conn, role, dbname)
        _open_probe_session(conn)
        tables, readable = _warehouse_tables(conn, schemas)
        report.tables, report.readable = len(tables), len(readable)
        if readable:
            schema, table = readable[0]
            conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, table)))
        findings += _attribute_findings(conn, role)
        with conn.transaction(force_rollback=True):
            written = _writes_granted(conn, tables, dbname, schemas)
            app = conn.execute("SELECT to_regnamespace('app') IS NOT NULL "
                               "AND has_schema_privilege('app', 'USAGE')").fetchone()
        findings += _write_findings(role, written)
        if app and app[0]:
            findings.append((f"{role} can reach the app schema (every user's questions)",
                             f"REVOKE ALL ON SCHEMA app FROM {role};"))
    report.problems = [problem for problem, _ in findings]
    report.fixes = [fix for _, fix in findings]
    return report


_UNITS = {"kB": 1, "MB": 1024, "GB": 1024 * 1024, "ms": 1, "s": 1000, "min": 60_000}


def _base_units(value: str) -> int:
    """'256MB' -> 262144 (kB), '30s' -> 30000 (ms): the units pg_settings reports."""
    match = re.fullmatch(r"(\d+)\s*(kB|MB|GB|ms|s|min)", value)
    if match is None:
        raise ValueError(f"not a size or duration: {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _limit_findings(conn: psycopg.Connection, role: str, dbname: str) -> list[Finding]:
    """The role's own limits (as its sessions start) and its lack of TEMP on this database.

    A limit that is off (0, or -1 for temp_file_limit) or above the one `sourced setup` sets
    is a finding; so is statement_timeout off. The fix is the ALTER ROLE setup would run.
    """
    wanted = {**roles.READER_SETTINGS,
              "statement_timeout": f"{roles.STATEMENT_TIMEOUT_CEILING_MS}ms"}
    wanted.pop("default_transaction_read_only", None)
    rows = conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                        (sorted(wanted),)).fetchall()
    current = {str(name): int(setting) for name, setting in rows}
    findings: list[Finding] = []
    for name, value in sorted(wanted.items()):
        have = current.get(name, 0)
        # statement_timeout: the executor sets a shorter one; any ceiling will do here.
        too_high = name != "statement_timeout" and have > _base_units(value)
        if have <= 0 or too_high:
            shown = "off" if have <= 0 else f"{have:,} {'ms' if 'timeout' in name else 'kB'}"
            findings.append((f"{role} has {name} {shown} (setup sets {value})",
                             f"ALTER ROLE {role} SET {name} = '{value}';"))
    temp = conn.execute("SELECT has_database_privilege(current_database(), 'TEMP')").fetchone()
    if temp and temp[0]:
        findings.append((f"{role} can create temporary tables in database {dbname}",
                         f"REVOKE TEMP ON DATABASE {dbname} FROM PUBLIC; "
                         f"REVOKE TEMP ON DATABASE {dbname} FROM {role};"))
    return findings


def _open_probe_session(conn: psycopg.Connection) -> None:
    # A probe must never queue behind (or in front of) a long lock: give up fast.
    conn.execute("SET statement_timeout = '5s'")
    conn.execute("SET lock_timeout = '1s'")
    # The reader roles default to read-only transactions, but any session may switch that
    # off (SET is not a privilege): what must stop a write is the lack of a right.
    conn.execute("SET default_transaction_read_only = off")


def _warehouse_tables(
    conn: psycopg.Connection, schemas: tuple[str, ...],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The warehouse's tables as (schema, name), and those of them the role may SELECT."""
    # By oid: a table name would need USAGE on its schema just to be looked up.
    listed = conn.execute(
        "SELECT n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT') "
        "AND has_schema_privilege(n.oid, 'USAGE') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') ORDER BY 1, 2",
        (list(schemas),)).fetchall()
    tables = [(str(s), str(t)) for s, t, _ in listed]
    readable = [(str(s), str(t)) for s, t, can in listed if can]
    return tables, readable


def _attribute_findings(conn: psycopg.Connection, role: str) -> list[Finding]:
    attrs = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles "
                         "WHERE rolname = current_user").fetchone()
    if attrs and attrs[0]:
        return [(f"{role} is a superuser", f"ALTER ROLE {role} NOSUPERUSER;")]
    if attrs and attrs[1]:
        return [(f"{role} bypasses row level security", f"ALTER ROLE {role} NOBYPASSRLS;")]
    return []


def _write_probes(tables: list[tuple[str, str]], dbname: str,
                  schemas: tuple[str, ...]) -> list[tuple[str, sql.Composed, str]]:
    """(target, statement, privilege) of every write tried: a row per table, a table per
    schema, a schema in the database."""
    probes: list[tuple[str, sql.Composed, str]] = [
        (f"{s}.{t}", sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(s, t)),
         "INSERT") for s, t in tables
    ]
    for schema in dict.fromkeys((*schemas, "public")):
        probes.append((f"schema {schema}", sql.SQL("CREATE TABLE {} (x int)").format(
            sql.Identifier(schema, PROBE_TABLE)), "CREATE"))
    probes.append((f"database {dbname}", sql.SQL("CREATE SCHEMA {}").format(
        sql.Identifier(PROBE_TABLE)), "CREATE"))
    return probes


def _writes_granted(conn: psycopg.Connection, tables: list[tuple[str, str]],
                    dbname: str, schemas: tuple[str, ...]) -> dict[str, set[str]]:
    """The privileges the role could write with, by target: tried, then read from the catalog.

    Runs in the caller's transaction, which must be rolled back.
    """
    written: dict[str, set[str]] = {}
    for target, statement, privilege in _write_probes(tables, dbname, schemas):
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
    return written


def _write_findings(role: str, written: dict[str, set[str]]) -> list[Finding]:
    findings: list[Finding] = []
    for target, privileges in sorted(written.items()):
        names = ", ".join(sorted(privileges))
        problem = f"{role} can {names} {'in' if ' ' in target else 'on'} {target}"
        if target.startswith(("schema ", "database ")):
            kind, name = target.split(" ", 1)
            findings.append((problem, f"REVOKE CREATE ON {kind.upper()} {name} FROM {role};"))
        else:
            findings.append((problem, f"REVOKE {names} ON {target} FROM {role};"))
    return findings


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


def check_readers_read_only(ctx: Context) -> Check:
    ctx.db()  # when the owner cannot connect, a reader's failure would only repeat it
    reader_urls = _reader_urls(ctx)
    problems: list[str] = []
    fixes: list[str] = []
    reports = []
    for profile_role, url in sorted(reader_urls.items()):
        try:
            report = probe_reader(url, ctx.settings.warehouse_schemas)
        except psycopg.OperationalError as exc:
            problems.append(f"{profile_role} cannot log in: {first_line(exc)}")
            fixes.append(f"Let {profile_role} log in from this host (pg_hba.conf, a password "
                         "in SOURCED_WAREHOUSE_URL), or run `sourced setup`.")
            continue
        reports.append(report)
        if report.readable == 0:
            problems.append(f"{report.role} can SELECT none of the {report.tables} warehouse "
                            "tables")
            schemas = ", ".join(ctx.settings.warehouse_schemas)
            fixes.append(SETUP_FIX if ctx.settings.warehouse_url is None else
                         f"On the warehouse: GRANT USAGE ON SCHEMA {schemas} and GRANT SELECT ON "
                         f"ALL TABLES IN SCHEMA {schemas} TO {report.role} (README, Connect "
                         "your warehouse).")
        problems.extend(report.problems or [])
        fixes.extend(report.fixes or [])
    if problems:
        # A role resynchronised from users.yaml keeps a right granted by hand (its signature
        # did not change, and GRANT SELECT does not revoke INSERT): the fix is the REVOKE.
        return Check(READER_READ_ONLY, False, "; ".join(problems),
                     "As the database owner (psql \"$(sourced db url)\"): "
                     + " ".join(dict.fromkeys(fixes)))
    return Check(READER_READ_ONLY, True,
                 f"{plural(len(reports), 'role')} can SELECT the warehouse; INSERT, CREATE, "
                 "TEMP and the app schema refused; temp files, memory and idle time limited")


def check_docs_reader(ctx: Context) -> Check:
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
