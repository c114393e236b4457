"""Reader roles on a schema that is not the demo's: data scopes and restricted tables declared in a
users file (table, column, value) become grants and row level security on whatever schema is
configured, and a child table follows the visible rows of its parent."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from agents.errors import ConfigError
from agents.store.database import with_user
from agents.store.roles import access_profile, sync_reader_roles
from agents.store.users import load_directory

USERS = """
users:
  ana: {name: Ana, groups: [], scope: {country: Zedland}}
  boss: {name: Boss, groups: [payroll]}
restricted_tables:
  shop.payroll: [payroll]
scopes:
  country:
    - {table: shop.stores, column: country}
    - {table: shop.sales, column: store_id, references: shop.stores.store_id}
"""

SCHEMA = """
CREATE SCHEMA shop;
CREATE TABLE shop.stores (store_id int PRIMARY KEY, country text NOT NULL);
CREATE TABLE shop.sales (sale_id int PRIMARY KEY, store_id int REFERENCES shop.stores, amount int);
CREATE TABLE shop.payroll (person text, salary int);
INSERT INTO shop.stores VALUES (1, 'Zedland'), (2, 'Ruritania');
INSERT INTO shop.sales VALUES (10, 1, 5), (11, 1, 7), (12, 2, 100);
INSERT INTO shop.payroll VALUES ('x', 1);
"""


def test_scopes_and_restricted_tables_on_any_schema(fresh_db: str, tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text(USERS, encoding="utf-8")
    directory = load_directory(users)
    profiles = {access_profile(u, directory.restricted_tables) for u in directory.users.values()}
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        roles = sync_reader_roles(conn, profiles, directory.restricted_tables,
                                  schemas=("shop",), scopes=directory.scopes)
    ana = access_profile(directory.get("ana"), directory.restricted_tables).role
    boss = access_profile(directory.get("boss"), directory.restricted_tables).role
    assert sorted(roles) == sorted({ana, boss})
    with psycopg.connect(with_user(fresh_db, ana), autocommit=True) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("shop, pg_temp",)
        assert conn.execute("SELECT country FROM stores").fetchall() == [("Zedland",)]
        assert conn.execute("SELECT sum(amount) FROM sales").fetchone() == (12,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM payroll")
    with psycopg.connect(with_user(fresh_db, boss), autocommit=True) as conn:
        assert conn.execute("SELECT sum(amount) FROM sales").fetchone() == (112,)
        assert conn.execute("SELECT count(*) FROM payroll").fetchone() == (1,)


def test_a_scope_key_must_be_declared(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users:\n  ana: {name: Ana, scope: {team: red}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not declared under `scopes:`"):
        load_directory(users)


def test_a_scope_entry_needs_table_and_column(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users: {}\nscopes:\n  team:\n    - {table: shop.stores}\n",
                     encoding="utf-8")
    with pytest.raises(ConfigError, match="needs `table` and `column`"):
        load_directory(users)


def test_a_child_table_needs_its_parent_in_the_same_scope(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users: {}\nscopes:\n  team:\n    - {table: shop.sales, column: store_id,"
                     " references: shop.stores.store_id}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"references shop\.stores, which this scope does not"):
        load_directory(users)
