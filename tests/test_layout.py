"""The layout's limits: file and function sizes, who may import what, and the README's path table.

These hold the architecture in place: a stage grows by adding a module to its folder, not by
lengthening one file, and `sql_guard` stays a library of its own.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_TOP_LEVEL_MODULES = 8


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules("agents", "sql_guard"), ids=_relative)
def test_no_file_over_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


@pytest.mark.parametrize("path", _modules("agents", "sql_guard"), ids=_relative)
def test_no_function_over_the_limit(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.relative_to(ROOT)}: {', '.join(long)}"


def test_few_modules_stay_at_the_top_of_agents() -> None:
    top = sorted(p.name for p in (ROOT / "agents").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.mark.parametrize("path", _modules("sql_guard"), ids=_relative)
def test_sql_guard_imports_nothing_from_agents(path: Path) -> None:
    assert not {m for m in _imported_modules(path) if m.split(".")[0] == "agents"}


PAGE_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
FORBIDDEN_IN_PAGES = ("sqlglot", "langchain", "langchain_openai", "openai", "psycopg")


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_hold_widgets_and_layout_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    imported = {m.split(".")[0] for m in _imported_modules(path)}
    assert not imported & set(FORBIDDEN_IN_PAGES), imported & set(FORBIDDEN_IN_PAGES)
    assert "os.environ" not in text
    assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+[\w*]", text)


def _path_table() -> list[str]:
    """The first column of the README's table headed `| path | stage |`."""
    start = README.index("| path | stage |")
    rows = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    # Bold rows head a package's section; they name its folder but do not list its modules.
    cells = [cell for cell in (row.split("|")[1].strip() for row in rows)
             if not cell.startswith("**")]
    return [p for cell in cells for p in re.findall(r"`([^`]+)`", cell)]


def test_every_path_in_the_readme_table_exists() -> None:
    paths = _path_table()
    assert paths
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_module_of_agents_has_a_row_in_the_readme_table() -> None:
    # A package's __init__ is covered by the row of its folder or of its modules.
    rows = [p.rstrip("/") for p in _path_table()]
    modules = [str(p.relative_to(ROOT)) for p in _modules("agents") if p.name != "__init__.py"]
    unlisted = [m for m in modules
                if not any(m == row or m.startswith(row + "/") for row in rows)]
    assert not unlisted, unlisted
