"""The doctor's checks of the connected warehouse: the semantic model runs on it as the reader
role (`sourced model check`), and the data scopes of users.yaml are row level security there."""

from __future__ import annotations

from pathlib import Path

import psycopg

from agents.commands.doctor.context import (
    CONNECT_TIMEOUT_S,
    DATA_SCOPES,
    SEMANTIC_MODEL,
    Check,
    Context,
    plural,
)
from agents.store import roles


def _reader(ctx: Context) -> psycopg.Connection:
    urls = ctx.need(ctx.urls, "the database cannot be found (see `database`)")
    return psycopg.connect(urls.warehouse, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)


def check_semantic_model(ctx: Context) -> Check:
    from agents.sql.model_check import check_model, locator
    from agents.sql.semantic_model import load_with_lines

    path = Path(ctx.settings.semantic_model_file)
    model, lines = ctx.need(lambda: load_with_lines(path),
                            "the semantic model cannot be read (see `configuration`)")
    with _reader(ctx) as conn:
        problems = check_model(model, conn, locator(path, lines))
    if problems:
        return Check(SEMANTIC_MODEL, False, "; ".join(problems),
                     f"Correct {path.name} (run `sourced model check` for one line per "
                     "problem), or point SOURCED_WAREHOUSE_URL / SOURCED_WAREHOUSE_SCHEMA at "
                     "the warehouse it describes.")
    return Check(SEMANTIC_MODEL, True,
                 f"{plural(len(model.metrics), 'metric')} and "
                 f"{plural(len(model.dimensions), 'dimension')} run as the reader on "
                 f"{', '.join(ctx.settings.warehouse_schemas)}")


def check_data_scopes(ctx: Context) -> Check:
    """Every table a scope names exists, has row level security, and a policy per scoped
    role; a missing one would show a scoped user every row."""
    directory = ctx.need(ctx.directory, "users.yaml cannot be read (see `configuration`)")
    scoped = sorted({roles.access_profile(u, directory.restricted_tables).role
                     for u in directory.users.values() if u.scope})
    rules = [(key, rule) for key, found in sorted(directory.scopes.items()) for rule in found]
    if not rules:
        return Check(DATA_SCOPES, True, "no data scopes declared in users.yaml")
    problems: list[str] = []
    fixes: list[str] = []
    with _reader(ctx) as conn:
        for key, rule in rules:
            row = conn.execute(
                "SELECT c.relrowsecurity, array(SELECT p.policyname FROM pg_policies p "
                "WHERE p.schemaname = n.nspname AND p.tablename = c.relname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname || '.' || c.relname = %s", (rule.table,)).fetchone()
            if row is None:
                problems.append(f"scope {key}: {rule.table} does not exist")
                continue
            if not row[0]:
                problems.append(f"scope {key}: {rule.table} has no row level security")
                fixes.append(f"ALTER TABLE {rule.table} ENABLE ROW LEVEL SECURITY;")
            missing = [r for r in scoped if f"scope_{r}" not in (row[1] or [])]
            if missing:
                problems.append(f"scope {key}: {rule.table} has no policy for "
                                f"{', '.join(missing)}")
    if problems:
        fix = " ".join(fixes) or ("Run `sourced setup` on the app's own database; on a "
                                  "warehouse of its own, create the policies (README, Connect "
                                  "your warehouse).")
        return Check(DATA_SCOPES, False, "; ".join(problems), fix)
    return Check(DATA_SCOPES, True,
                 f"{plural(len(rules), 'table')} filtered for {plural(len(scoped), 'role')}")
