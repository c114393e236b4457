"""Running the doctor's checks in the order of the report, and printing it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterator

import psycopg

from agents.commands.doctor.context import (
    CONFIGURATION,
    DATA_SCOPES,
    DATABASE,
    DOCS_READER,
    DOCUMENTS,
    EMBEDDER,
    INDEX_MODEL,
    MIGRATIONS,
    MODEL_ENDPOINT,
    PGVECTOR,
    READER_READ_ONLY,
    READER_ROLES,
    SEMANTIC_MODEL,
    SERVER_VERSION,
    SIGN_IN,
    WAREHOUSE_DATA,
    Blocked,
    Check,
    Context,
    first_line,
)
from agents.commands.doctor.data import (
    check_configuration,
    check_documents,
    check_sign_in,
    check_warehouse_data,
)
from agents.commands.doctor.models import check_embedder, check_index_model, check_model_endpoint
from agents.commands.doctor.readers import (
    check_docs_reader,
    check_reader_roles,
    check_readers_read_only,
)
from agents.commands.doctor.server import (
    check_database,
    check_migrations,
    check_pgvector,
    check_server_version,
)
from agents.commands.doctor.warehouse import check_data_scopes, check_semantic_model
from agents.config import Settings
from agents.logs import Redactor

CHECKS: list[tuple[str, Callable[[Context], Check]]] = [
    (CONFIGURATION, check_configuration),
    (SIGN_IN, check_sign_in),
    (DATABASE, check_database),
    (SERVER_VERSION, check_server_version),
    (PGVECTOR, check_pgvector),
    (MIGRATIONS, check_migrations),
    (READER_ROLES, check_reader_roles),
    (READER_READ_ONLY, check_readers_read_only),
    (DOCS_READER, check_docs_reader),
    (WAREHOUSE_DATA, check_warehouse_data),
    (SEMANTIC_MODEL, check_semantic_model),
    (DATA_SCOPES, check_data_scopes),
    (DOCUMENTS, check_documents),
    (EMBEDDER, check_embedder),
    (INDEX_MODEL, check_index_model),
    (MODEL_ENDPOINT, check_model_endpoint),
]


def iter_checks(settings: Settings, only: Collection[str] | None = None) -> Iterator[Check]:
    """The checks one by one (the CLI prints each as it completes); `only` selects by name."""
    unknown = set(only or ()) - {name for name, _ in CHECKS}
    if unknown:
        raise ValueError(f"unknown checks: {', '.join(sorted(unknown))}")
    redact = Redactor.from_settings(settings)
    ctx = Context(settings)
    try:
        for name, check in CHECKS:
            if only is not None and name not in only:
                continue
            try:
                result = check(ctx)
            except Blocked as exc:
                result = Check(name, False, f"not checked: {exc}", skipped=True)
            except psycopg.Error as exc:
                result = Check(name, False, f"database error: {first_line(exc)}",
                               "Fix the checks above first; if they pass, this is unexpected: "
                               "the detail names what failed.")
            except Exception as exc:  # a doctor never dies with a traceback
                result = Check(name, False, f"the check failed: {type(exc).__name__}: "
                                            f"{first_line(exc)}")
            # Details quote URLs and provider errors: keep passwords and keys out of them.
            yield Check(result.name, result.ok, redact(result.detail), redact(result.fix),
                        result.skipped)
    finally:
        ctx.close()


def run_checks(settings: Settings, only: Collection[str] | None = None) -> list[Check]:
    return list(iter_checks(settings, only))


def _marks() -> tuple[str, str, str]:
    """✓ ✗ and – where the terminal can show them (a Windows console may not)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗–".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "+", "x", "-"
    return "✓", "✗", "–"


def format_check(check: Check, width: int) -> str:
    ok_mark, bad_mark, skip_mark = _marks()
    mark = ok_mark if check.ok else skip_mark if check.skipped else bad_mark
    pad = " " * (width + 4)
    lines = [f"{mark} {check.name:<{width}}  {check.detail}"]
    if check.fix and not check.ok:
        lines.append(f"{pad}fix: {check.fix}")
    return "\n".join(lines)


def run_doctor(settings: Settings) -> int:
    """Print the report as the checks complete; 0 when everything is healthy, else 1."""
    width = max(len(name) for name, _ in CHECKS)
    failed = skipped = total = 0
    for check in iter_checks(settings):
        total += 1
        skipped += check.skipped
        failed += not check.ok and not check.skipped
        print(format_check(check, width), flush=True)
    print()
    if failed or skipped:
        also = f", {skipped} not checked" if skipped else ""
        print(f"{failed} of {total} checks failed{also}: see the fixes above.")
        return 1
    print(f"All {total} checks passed.")
    return 0
