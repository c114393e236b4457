"""`sourced doctor`: is this installation healthy, and if not, what to do about it.

Each check says what it found and, when it fails, how to fix it. The doctor only reads: it
never migrates, seeds, re-indexes or changes a role (those are the fixes it names). The one
thing it writes is inside transactions it rolls back: to prove that a reader role cannot
write, it tries to, and expects PostgreSQL to refuse.

A check that needs something another check found broken (no database, say) is reported as
not checked, pointing at that other check, rather than repeating its error.

- `context`: a check's result, the names of the checks, what they share (connection, files,
  embedder), built once.
- `server`: the database server: reachable, version, pgvector, migrations.
- `readers`: the reader roles: their attributes, read-only in fact (probed), the docs reader.
- `data`: the configuration files, the warehouse tables, the indexed documents.
- `warehouse`: the semantic model run as the reader, the data scopes' row level security.
- `models`: the embedder, the index it built, the chat model endpoint.
- `report`: the checks in order, run one by one, and the printed report.
"""

from __future__ import annotations

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
    WAREHOUSE_DATA,
    Check,
)
from agents.commands.doctor.readers import probe_reader
from agents.commands.doctor.report import (
    CHECKS,
    format_check,
    iter_checks,
    run_checks,
    run_doctor,
)

__all__ = [
    "CHECKS",
    "CONFIGURATION",
    "DATABASE",
    "DATA_SCOPES",
    "DOCS_READER",
    "DOCUMENTS",
    "EMBEDDER",
    "INDEX_MODEL",
    "MIGRATIONS",
    "MODEL_ENDPOINT",
    "PGVECTOR",
    "READER_READ_ONLY",
    "READER_ROLES",
    "SEMANTIC_MODEL",
    "SERVER_VERSION",
    "WAREHOUSE_DATA",
    "Check",
    "format_check",
    "iter_checks",
    "probe_reader",
    "run_checks",
    "run_doctor",
]
