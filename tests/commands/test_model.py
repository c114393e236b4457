"""`sourced model check|draft|import-dbt` from the command line: exit codes, one line per
problem, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sourced(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agents.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_check_exits_0_on_the_demo_model_and_1_with_one_line_per_problem(
        seeded: str, settings_env: dict[str, str], tmp_path: Path) -> None:
    ok = sourced("model", "check", env=settings_env)
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout
    text = (ROOT / "seed_data" / "semantic_model.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "model.yaml"
    broken.write_text(text.replace("SUM(oi.quantity)\n", "SUM(oi.qty)\n")
                      .replace("    time: o.order_date\n", "    time: o.order_day\n", 1),
                      encoding="utf-8")
    bad = sourced("model", "check", "--model", str(broken), env=settings_env)
    assert bad.returncode == 1
    problems = bad.stderr.strip().splitlines()
    assert len(problems) == 2, bad.stderr
    assert all(line.startswith(f"{broken}, line ") for line in problems)
    assert "Traceback" not in bad.stderr
    # The CLI refuses to start on it, with the same lines.
    asked = sourced("ask", "How many orders in 2024?",
                    env={**settings_env, "SOURCED_SEMANTIC_MODEL_FILE": str(broken)})
    assert asked.returncode == 2
    assert all(line in asked.stderr for line in problems)


def test_draft_writes_a_model_that_check_accepts(
        seeded: str, settings_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    drafted = sourced("model", "draft", "--output", str(out), env=settings_env)
    assert drafted.returncode == 0, drafted.stderr
    checked = sourced("model", "check", "--model", str(out), env=settings_env)
    assert checked.returncode == 0, checked.stderr


def test_import_dbt_writes_the_model_and_lists_what_it_did_not_convert(
        settings_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    project = ROOT / "tests" / "sql" / "dbt_project"
    done = sourced("model", "import-dbt", str(project), "--schema", "dbt_shop", "--output",
                   str(out), env=settings_env)
    assert done.returncode == 0, done.stderr
    assert "not converted: metric cumulative_revenue" in done.stderr
    assert "dbt_shop.orders o" in out.read_text(encoding="utf-8")
    missing = sourced("model", "import-dbt", str(tmp_path / "nowhere"), env=settings_env)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_setup_with_a_warehouse_url_does_not_seed_the_demo(
        pg_server: str, settings_env: dict[str, str], tmp_path: Path) -> None:
    from agents.store.database import ensure_database, with_database

    ensure_database(pg_server, "setup_external_app")
    ensure_database(pg_server, "setup_external_wh")
    warehouse = with_database(pg_server, "setup_external_wh")
    model = tmp_path / "model.yaml"
    model.write_text("sources: {}\nmetrics: {}\ndimensions: {}\n", encoding="utf-8")
    done = sourced("setup", env={**settings_env,
                                 "SOURCED_DATABASE_URL": with_database(pg_server,
                                                                       "setup_external_app"),
                                 "SOURCED_WAREHOUSE_URL": warehouse,
                                 "SOURCED_SEMANTIC_MODEL_FILE": str(model)})
    assert done.returncode == 0, done.stderr
    assert "the demo warehouse is not seeded" in done.stdout
    import psycopg

    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT to_regclass('warehouse.orders')").fetchone() == (None,)
    with psycopg.connect(with_database(pg_server, "setup_external_app")) as conn:
        # The migrations made the demo's empty tables in the app database; nothing was loaded.
        assert conn.execute("SELECT count(*) FROM warehouse.orders").fetchone() == (0,)
