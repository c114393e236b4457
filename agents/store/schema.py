"""How the schema gets there: numbered SQL files in `agents/store/migrations`, each applied once,
under an advisory lock."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# An advisory lock key of our own, so two processes never migrate or seed at the same time.
SCHEMA_LOCK_KEY = 0x5002CED


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
            conn.execute(text)  # trusted, versioned file
            conn.execute(
                "INSERT INTO app.schema_migrations (version, name) VALUES (%s, %s)",
                (version, name),
            )
            applied.append(name)
    return applied
