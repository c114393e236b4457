"""The doctor's checks of what the assistant answers from: the configuration files, the
warehouse tables the semantic model names, and the indexed documents."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from agents.app.signin import sign_in_mode
from agents.commands.doctor.context import (
    CONFIGURATION,
    CONNECT_TIMEOUT_S,
    DOCUMENTS,
    SETUP_FIX,
    SIGN_IN,
    WAREHOUSE_DATA,
    Check,
    Context,
    plural,
    project_relative,
)
from agents.errors import AssistantError

# Counting a table stops here, so a warehouse of billions of rows costs no more than a demo.
COUNT_CAP = 1_000_000


def check_configuration(ctx: Context) -> Check:
    settings = ctx.settings
    try:
        directory = ctx.directory()
        model = ctx.semantic_model()
    except AssistantError as exc:
        return Check(CONFIGURATION, False, exc.user_message,
                     "Correct the file named above (see the README for its format).")
    return Check(CONFIGURATION, True,
                 f"{plural(len(directory.users), 'user')} in {Path(settings.users_file).name}, "
                 f"{plural(len(model.metrics), 'metric')} in "
                 f"{Path(settings.semantic_model_file).name}; mode {settings.mode}")


def check_sign_in(ctx: Context) -> Check:
    """How the app signs people in: OIDC, or the demo's user picker on purpose only."""
    try:
        mode = sign_in_mode(ctx.settings)
    except AssistantError as exc:
        return Check(SIGN_IN, False, exc.user_message,
                     "Complete the [auth] section of .streamlit/secrets.toml (README: Sign-in),"
                     " or set SOURCED_DEMO_MODE=1 for a demo on purpose.")
    if mode == "oidc":
        return Check(SIGN_IN, True, "OIDC ([auth] in .streamlit/secrets.toml); users by e-mail")
    why = "SOURCED_DEMO_MODE" if ctx.settings.demo_mode else "the embedded demo database"
    return Check(SIGN_IN, True, f"demo mode (a user picker, no sign-in), on purpose: {why}")


def check_warehouse_data(ctx: Context) -> Check:
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
               "Run `sourced seed` for the demo warehouse (or load yours into the schema "
               "SOURCED_WAREHOUSE_SCHEMA names).")
        return Check(WAREHOUSE_DATA, False, f"{what}" + (f" ({detail})" if detail else ""), fix)
    if unreadable:
        detail += f"; not readable by the base reader: {', '.join(unreadable)}"
    return Check(WAREHOUSE_DATA, True, detail)


def check_documents(ctx: Context) -> Check:
    conn = ctx.db()
    exists = conn.execute("SELECT to_regclass('app.chunks') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return Check(DOCUMENTS, False, "the document tables do not exist", SETUP_FIX)
    row = conn.execute("SELECT (SELECT count(*) FROM app.documents), "
                       "(SELECT count(*) FROM app.chunks), "
                       "(SELECT max(ingested_at) FROM app.documents)").fetchone()
    documents, chunks, last = (row[0], row[1], row[2]) if row else (0, 0, None)
    docs_dir = project_relative(ctx.settings.docs_dir)
    if not documents or not chunks:
        return Check(DOCUMENTS, False,
                     f"{plural(documents or 0, 'document')}, {plural(chunks or 0, 'chunk')} "
                     "indexed: questions about documents find nothing",
                     f"Run `sourced ingest {docs_dir}` (or your own folder of documents).")
    when = f", last ingested {last:%Y-%m-%d %H:%M}" if last else ""
    return Check(DOCUMENTS, True,
                 f"{plural(documents, 'document')}, {plural(chunks, 'chunk')}{when}")
