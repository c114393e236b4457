"""`sourced doctor`: healthy when it is, and each kind of breakage named with its fix.

Breakages are made in a database of their own (`fresh_db`), never in the shared test database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import psycopg
import pytest

from agents.commands import doctor
from agents.config import load_settings
from agents.docs.embeddings import OFFLINE_MODEL
from agents.resources import prepare_database
from agents.store.database import migration_files, resolve_urls
from agents.store.users import load_directory
from tests.fake_openai import Reply

SECRET = "sk-doctor-0123456789abcdef"


def run_doctor_cli(**env: str) -> subprocess.CompletedProcess[str]:
    full = os.environ.copy()
    full.update({"PYTHONIOENCODING": "utf-8", **env})
    return subprocess.run([sys.executable, "-m", "agents.commands.cli", "doctor"],
                          capture_output=True, text=True, env=full, timeout=240)


def report_lines(stdout: str) -> dict[str, str]:
    """The check lines of the report, by check name: {'database': '✓ database  ...'}."""
    lines = {}
    for line in stdout.splitlines():
        if line[:1] in ("✓", "✗", "–"):
            name = line[2:2 + max(len(n) for n, _ in doctor.CHECKS)].strip()
            lines[name] = line
    return lines


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepared(url: str) -> None:
    """Migrations and reader roles in a fresh database, as `sourced setup` would make them."""
    settings = load_settings(database_url=url)
    prepare_database(settings, resolve_urls(settings), load_directory(settings.users_file))


def one(settings: object, name: str) -> doctor.Check:
    [check] = doctor.run_checks(settings, only={name})  # type: ignore[arg-type]
    return check


def test_healthy_installation_passes_every_check(resources) -> None:
    done = run_doctor_cli()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = report_lines(done.stdout)
    assert set(lines) == {name for name, _ in doctor.CHECKS}, done.stdout
    assert all(line.startswith("✓") for line in lines.values()), done.stdout
    assert "offline mode" in lines[doctor.MODEL_ENDPOINT]
    assert "pgvector 0." in lines[doctor.PGVECTOR]
    applied = len(migration_files())
    assert f"{applied} of {applied} applied" in lines[doctor.MIGRATIONS]
    assert f"All {len(doctor.CHECKS)} checks passed." in done.stdout


def test_reader_that_can_write_is_caught(settings_env, fresh_db: str) -> None:
    settings = load_settings(database_url=fresh_db)
    # Migrated, but the reader roles were never given this database's warehouse.
    unsynced = one(settings, doctor.READER_READ_ONLY)
    assert not unsynced.ok and "can SELECT none of the" in unsynced.detail
    assert "sourced setup" in unsynced.fix
    prepared(fresh_db)
    assert one(settings, doctor.READER_READ_ONLY).ok
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # products has no row level security: the INSERT really goes through (then rolls back).
        conn.execute("GRANT INSERT ON warehouse.products TO sourced_reader")
        # orders has RLS: the INSERT is stopped by a policy, the grant is still found.
        conn.execute("GRANT UPDATE ON warehouse.orders TO sourced_reader_emea")
        conn.execute("GRANT CREATE ON SCHEMA warehouse TO sourced_reader_employees")
    check = one(settings, doctor.READER_READ_ONLY)
    assert not check.ok
    assert "sourced_reader can INSERT on warehouse.products" in check.detail
    assert "sourced_reader_emea can UPDATE on warehouse.orders" in check.detail
    assert "sourced_reader_employees can CREATE in schema warehouse" in check.detail
    assert "REVOKE INSERT ON warehouse.products FROM sourced_reader;" in check.fix
    assert "REVOKE CREATE ON SCHEMA warehouse FROM sourced_reader_employees;" in check.fix
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # The probes rolled back: nothing was created or inserted.
        assert conn.execute("SELECT count(*) FROM warehouse.products").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('warehouse.sourced_doctor_probe')"
                            ).fetchone() == (None,)


def test_reader_without_its_limits_is_caught(settings_env, fresh_db: str) -> None:
    settings = load_settings(database_url=fresh_db)
    prepared(fresh_db)
    assert one(settings, doctor.READER_READ_ONLY).ok
    name = str(psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # Per database, so the roles of the shared test database keep their settings.
        conn.execute(f'ALTER ROLE sourced_reader IN DATABASE "{name}" SET temp_file_limit = -1')
        conn.execute(f'ALTER ROLE sourced_reader IN DATABASE "{name}" SET work_mem = \'1GB\'')
        conn.execute(f'ALTER ROLE sourced_reader_emea IN DATABASE "{name}"'
                     " SET idle_in_transaction_session_timeout = 0")
        conn.execute(f'GRANT TEMP ON DATABASE "{name}" TO sourced_reader_employees')
    check = one(settings, doctor.READER_READ_ONLY)
    assert not check.ok
    assert "sourced_reader has temp_file_limit off" in check.detail
    assert "sourced_reader has work_mem 1,048,576 kB" in check.detail
    assert "sourced_reader_emea has idle_in_transaction_session_timeout off" in check.detail
    assert f"sourced_reader_employees can create temporary tables in database {name}" \
        in check.detail
    assert "ALTER ROLE sourced_reader SET temp_file_limit = '256MB';" in check.fix
    assert f"REVOKE TEMP ON DATABASE {name} FROM sourced_reader_employees;" in check.fix


def test_unmigrated_database_is_reported_with_setup_as_fix(settings_env, fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DELETE FROM app.schema_migrations WHERE version = 3")
    check = one(load_settings(database_url=fresh_db), doctor.MIGRATIONS)
    assert not check.ok and "0003_review_ab.sql" in check.detail
    assert "sourced setup" in check.fix


def test_unreachable_model_endpoint_is_reported_with_a_fix(settings_env) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    settings = load_settings(llm_model="gpt-test", llm_base_url=base, llm_api_key=SECRET)
    check = one(settings, doctor.MODEL_ENDPOINT)
    assert not check.ok
    assert "cannot be reached" in check.detail
    assert "SOURCED_LLM_BASE_URL" in check.fix and base in check.fix


def test_refused_key_is_reported_without_the_key(settings_env, fake_llm) -> None:
    fake_llm.on(lambda request: True, Reply(f"Incorrect API key provided: {SECRET}", status=401))
    settings = load_settings(llm_model="fake-model", llm_base_url=fake_llm.base_url,
                             llm_api_key=SECRET)
    check = one(settings, doctor.MODEL_ENDPOINT)
    assert not check.ok and "SOURCED_LLM_API_KEY" in check.fix
    assert SECRET not in check.detail + check.fix


def test_working_model_endpoint(settings_env, fake_llm) -> None:
    fake_llm.on(lambda request: True, "ok")
    settings = load_settings(llm_model="fake-model", llm_base_url=fake_llm.base_url,
                             llm_api_key=SECRET)
    check = one(settings, doctor.MODEL_ENDPOINT)
    assert check.ok and "fake-model answered" in check.detail


def test_cli_exits_1_and_prints_the_fix(resources) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    done = run_doctor_cli(SOURCED_LLM_MODEL="gpt-test", SOURCED_LLM_BASE_URL=base,
                          SOURCED_LLM_API_KEY=SECRET)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = report_lines(done.stdout)
    assert lines[doctor.MODEL_ENDPOINT].startswith("✗")
    assert all(line.startswith("✓") for name, line in lines.items()
               if name != doctor.MODEL_ENDPOINT), done.stdout
    assert f"fix: Check SOURCED_LLM_BASE_URL ({base})" in done.stdout
    assert f"1 of {len(doctor.CHECKS)} checks failed" in done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_index_built_with_another_model_is_reported(settings_env, fresh_db: str,
                                                    fake_llm) -> None:
    # The index was built by the offline encoder (512 dimensions); the configuration now names
    # an endpoint's embedding model (the fake's: 64 dimensions).
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("INSERT INTO app.index_state (id, embed_model, dimension) "
                     "VALUES (true, %s, 512)", (OFFLINE_MODEL,))
    settings = load_settings(database_url=fresh_db, embed_model="fake-embed",
                             embed_base_url=fake_llm.base_url, embed_api_key=SECRET)
    checks = {c.name: c for c in doctor.run_checks(settings, only={doctor.EMBEDDER,
                                                                  doctor.INDEX_MODEL})}
    assert checks[doctor.EMBEDDER].ok and "64 dimensions" in checks[doctor.EMBEDDER].detail
    index = checks[doctor.INDEX_MODEL]
    assert not index.ok
    assert OFFLINE_MODEL in index.detail and "512" in index.detail and "64" in index.detail
    assert "`sourced ingest seed_data/docs`" in index.fix

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE app.index_state SET embed_model = 'openai-compatible/fake-embed', "
                     "dimension = 64")
        conn.execute("ALTER TABLE app.chunks ALTER COLUMN embedding TYPE vector(64)")
    assert one(settings, doctor.INDEX_MODEL).ok


def test_unreachable_database_blocks_the_rest_without_traceback(settings_env) -> None:
    url = f"postgresql://bob:{SECRET}@127.0.0.1:{closed_port()}/sourced"
    checks = doctor.run_checks(load_settings(database_url=url),
                               only={doctor.DATABASE, doctor.MIGRATIONS, doctor.READER_READ_ONLY})
    by_name = {c.name: c for c in checks}
    database = by_name[doctor.DATABASE]
    assert not database.ok and "127.0.0.1" in database.detail
    assert "SOURCED_DATABASE_URL" in database.fix
    for name in (doctor.MIGRATIONS, doctor.READER_READ_ONLY):
        assert by_name[name].skipped and not by_name[name].ok
        assert by_name[name].detail.startswith("not checked")
    for check in checks:
        assert SECRET not in check.detail + check.fix


def test_unknown_check_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        doctor.run_checks(load_settings(), only={"nope"})
