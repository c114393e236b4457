"""`sourced doctor` on the connected warehouse: the semantic model run as the reader, and the
data scopes' row level security (breakages made in a database of its own)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from agents.commands import doctor
from agents.config import load_settings
from agents.resources import prepare_database
from agents.store.database import resolve_urls
from agents.store.users import load_directory

ROOT = Path(__file__).resolve().parents[2]


def one(settings: object, name: str) -> doctor.Check:
    [check] = doctor.run_checks(settings, only={name})  # type: ignore[arg-type]
    return check


def test_a_model_that_does_not_run_is_reported_with_its_line(seeded: str,
                                                             tmp_path: Path) -> None:
    text = (ROOT / "seed_data" / "semantic_model.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "model.yaml"
    broken.write_text(text.replace("SUM(oi.quantity)\n", "SUM(oi.qty)\n"), encoding="utf-8")
    assert one(load_settings(), doctor.SEMANTIC_MODEL).ok
    check = one(load_settings(semantic_model_file=broken), doctor.SEMANTIC_MODEL)
    assert not check.ok
    assert f"{broken}, line " in check.detail and "column oi.qty does not exist" in check.detail
    assert "sourced model check" in check.fix


def test_a_scoped_table_without_its_policy_is_reported(settings_env, fresh_db: str) -> None:
    settings = load_settings(database_url=fresh_db)
    prepare_database(settings, resolve_urls(settings), load_directory(settings.users_file))
    assert one(settings, doctor.DATA_SCOPES).ok
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP POLICY scope_sourced_reader_emea ON warehouse.orders")
        conn.execute("ALTER TABLE warehouse.support_tickets DISABLE ROW LEVEL SECURITY")
    check = one(settings, doctor.DATA_SCOPES)
    assert not check.ok
    assert "warehouse.orders has no policy for sourced_reader_emea" in check.detail
    assert "warehouse.support_tickets has no row level security" in check.detail
    assert "ALTER TABLE warehouse.support_tickets ENABLE ROW LEVEL SECURITY;" in check.fix
