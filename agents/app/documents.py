"""Documents: what a user may read (through the same row level security as retrieval), uploads,
publishing, and re-indexing.

Uploads are stored under `<data_dir>/uploads/<folder>/`, one folder per uploader, ingested like
any other folder. The folder is a readable slug of the login plus a short hash of the exact
login (`upload_folder_name`): `a+b@corp.example` and `a_b@corp.example` get two folders, and
`../alice` is never `alice`'s. The groups of each file are written to that folder's `acl.yaml`
(one exact-name rule per file), which ingestion already reads: a folder-wide `groups_override`
would give every file of an uploader the groups of their latest upload. A file with no rule
there (dropped in by hand) falls to a group no user has, so it is readable by no one rather than
by everyone. The folder's `owner` (the exact login) is kept in the same file and stamped on its
documents (`app.documents.uploaded_by`) after every ingestion of the folder.

Publishing: a curator's upload (group `curator` in users.yaml) is readable at once by the groups
chosen. Anyone else's is readable by its uploader alone (the group `private_group(user)`, which
`reading_groups` adds to the user's groups) until a curator publishes it: the rule keeps the
groups asked for under `requested`, and `publish_upload` makes them the file's groups.

Re-indexing scans every folder, but `reindex_for` reports only what the person may read: the
counts come from the documents readable before and after the scan, the skipped files from the
access rules of their folder.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import yaml
from psycopg_pool import ConnectionPool

from agents.config import Settings
from agents.docs.access import (
    PRIVATE_PREFIX,
    load_access_rules,
    private_group,
    reading_groups,
    upload_folder_name,
)
from agents.docs.embeddings import Embedder
from agents.docs.ingest import IngestReport, ingest_folder, iter_files
from agents.docs.loaders import SUPPORTED, UnreadableDocument, load_document
from agents.docs.retrieval import as_docs_reader
from agents.errors import BadInput, StoreError, store_errors
from agents.messages import say
from agents.store.users import EVERYONE, User, read_yaml

UPLOAD_MAX_MB = 20
UPLOAD_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024
UPLOAD_TYPES = tuple(sorted(SUPPORTED))
# The default group of an uploads folder's acl.yaml: no user is in it (see the module doc).
UNASSIGNED_GROUP = "_unassigned_upload_"
MAX_NAME_CHARS = 100
# Who publishes uploads to groups (see the module doc); a group of users.yaml.
CURATOR_GROUP = "curator"
# The readable part of an upload folder's name; the hash that follows makes it unique.
# acl.yaml is read, changed and rewritten; two uploads at once in one process must not lose a
# rule. (Streamlit runs every session of the app in one process.)
_ACL_LOCK = threading.Lock()


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    path: str
    groups: tuple[str, ...]
    modified_at: datetime
    chunks: int
    language: str
    uploaded_by: str | None = None  # None: indexed from an administrator's folder
    ingested_at: datetime | None = None

    @property
    def private(self) -> bool:
        """An upload no curator has published yet (readable by its uploader alone)."""
        return any(g.startswith(PRIVATE_PREFIX) for g in self.groups)


@dataclass(frozen=True)
class UploadResult:
    path: Path  # where the file was saved
    stored_path: str  # its path in app.documents (and the Documents list)
    groups: tuple[str, ...]
    chunks: int
    report: IngestReport
    requested: tuple[str, ...] = ()  # the groups waiting for a curator (empty: published)


@dataclass(frozen=True)
class PendingUpload:
    """An upload waiting for a curator: where it is, who sent it, the groups asked for."""

    folder: str
    name: str
    owner: str
    requested: tuple[str, ...]


def list_documents(pool: ConnectionPool, groups: frozenset[str],
                   lang: str = "en") -> list[DocumentInfo]:
    """Documents visible to `groups`, newest first (RLS as sourced_docs_reader decides)."""
    with store_errors(say("documents.list_unreadable", lang)), \
            pool.connection() as conn, conn.transaction():
        as_docs_reader(conn, groups)
        rows = conn.execute(
            "SELECT title, path, acl_groups, modified_at, chunk_count, language, uploaded_by,"
            " ingested_at FROM app.documents ORDER BY modified_at DESC, path"
        ).fetchall()
    return [DocumentInfo(r[0], r[1], tuple(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows]


def readable_paths(source: psycopg.Connection | ConnectionPool,
                   groups: frozenset[str]) -> frozenset[str]:
    """The paths of the documents `groups` may read: the one rule (RLS, as retrieval and the
    Documents list), for pages that show what others asked about documents.

    On a caller's connection the role switch is undone (a savepoint rolled back), so the
    caller's transaction goes on as before.
    """
    if isinstance(source, ConnectionPool):
        with source.connection() as conn:
            return readable_paths(conn, groups)
    with source.transaction(force_rollback=True):
        as_docs_reader(source, groups)
        rows = source.execute("SELECT path FROM app.documents").fetchall()
    return frozenset(r[0] for r in rows)


def last_indexed(pool: ConnectionPool, groups: frozenset[str],
                 lang: str = "en") -> datetime | None:
    """When a document `groups` may read was last added or re-indexed (None: none yet).

    Read under RLS, so the time a hidden document changed is not revealed. A re-scan that
    found nothing new writes nothing, so this is the last change, not the last scan.
    """
    with store_errors(say("documents.index_unreadable", lang)), \
            pool.connection() as conn, conn.transaction():
        as_docs_reader(conn, groups)
        row = conn.execute("SELECT max(ingested_at) FROM app.documents").fetchone()
    return row[0].astimezone(UTC) if row and row[0] else None


# ---------------------------------------------------------------- uploads


def uploads_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "uploads"


def upload_dir(settings: Settings, user: User) -> Path:
    return uploads_root(settings) / upload_folder_name(user.login)


def is_curator(user: User) -> bool:
    return CURATOR_GROUP in user.groups


def groups_label(document: DocumentInfo, lang: str = "en") -> str:
    """The Groups column: an unpublished upload says so instead of naming its private group."""
    if document.private:
        return say("documents.private_groups", lang)
    return ", ".join(document.groups)


def report_text(report: IngestReport, lang: str) -> str:
    """A re-index's counts as a sentence in `lang` (the CLI keeps IngestReport.summary)."""
    return say("documents.reindex_counts", lang, added=report.added, updated=report.updated,
               deleted=report.deleted, unchanged=report.unchanged,
               skipped=len(report.skipped), chunks=report.chunks_embedded)


def documents_frame(listed: list[DocumentInfo], lang: str = "en") -> list[dict[str, object]]:
    """The document table's rows, headed in `lang`."""
    col = {name: say(f"documents.col.{name}", lang) for name in (
        "title", "path", "groups", "uploaded_by", "modified", "indexed", "chunks", "language")}
    return [{col["title"]: d.title, col["path"]: d.path, col["groups"]: groups_label(d, lang),
             col["uploaded_by"]: d.uploaded_by or "",
             col["modified"]: d.modified_at.date().isoformat(),
             col["indexed"]: d.ingested_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
             if d.ingested_at else "",
             col["chunks"]: d.chunks, col["language"]: d.language} for d in listed]


def sanitize_filename(filename: str) -> str:
    """A safe file name: the last path component only, letters, digits, `._-` and spaces.

    `../../etc/passwd.md` becomes `passwd.md`; the result never names a hidden file, a folder
    or a glob pattern (it is also an exact-match rule in acl.yaml).
    """
    name = unicodedata.normalize("NFKC", filename or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    # Accented letters become their base letter so "Procédure.md" stays readable.
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9._ -]+", "_", name))
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.strip(" ._-")
    # Leading dots would hide the file from ingestion; trailing ones confuse the suffix.
    stem = stem.strip(" ._-")[:MAX_NAME_CHARS].strip(" ._-") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def _check_groups(user: User, groups: Iterable[str], lang: str = "en") -> tuple[str, ...]:
    chosen = tuple(sorted({g.strip() for g in groups if g and g.strip()}))
    if not chosen:
        raise BadInput(say("documents.no_group", lang))
    outside = sorted(set(chosen) - user.all_groups)
    if outside:
        raise BadInput(say("documents.not_your_groups", lang, groups=", ".join(outside)))
    return chosen


def read_acl(folder: Path) -> dict[str, object]:
    path = folder / "acl.yaml"
    data = (read_yaml(path) or {}) if path.exists() else {}
    return data if isinstance(data, dict) else {}


def write_acl_rule(folder: Path, name: str, groups: tuple[str, ...] | None, *,
                    owner: str | None = None, requested: tuple[str, ...] = ()) -> None:
    """Set (or, with None, remove) the groups of one file in the folder's acl.yaml.

    `requested`: the groups waiting for a curator's publication (kept in the rule, which
    ingestion ignores). `owner`: the folder's uploader, kept at the top of the file.
    """
    path = folder / "acl.yaml"
    with _ACL_LOCK:
        data = read_acl(folder)
        raw_rules = data.get("rules")
        rules = [r for r in raw_rules if isinstance(r, dict) and r.get("pattern") != name] \
            if isinstance(raw_rules, list) else []
        if groups is not None:
            rule: dict[str, object] = {"pattern": name, "groups": list(groups)}
            if requested:
                rule["requested"] = list(requested)
            rules.append(rule)
        content = {"owner": owner or data.get("owner"), "default": [UNASSIGNED_GROUP],
                   "rules": rules}
        text = ("# Written by Sourced's upload page: the groups that may read each upload.\n"
                + yaml.safe_dump({k: v for k, v in content.items() if v is not None},
                                 sort_keys=False, allow_unicode=True))
        temporary = folder / f".acl-{uuid.uuid4().hex}.yaml"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)


def _check_readable(path: Path, name: str) -> None:
    try:
        load_document(path)
    except UnreadableDocument as exc:
        raise BadInput(f"{name} cannot be indexed: {exc}.") from exc
    except Exception as exc:  # a loader bug on one odd file is still a refusal, not a crash
        raise BadInput(f"{name} cannot be indexed: it could not be parsed "
                       f"({type(exc).__name__}).") from exc


def save_upload(settings: Settings, user: User, filename: str, data: bytes,
                groups: Iterable[str], lang: str = "en") -> Path:
    """Check and store one uploaded file for `user`, readable by `groups`; return its path.

    Refused with BadInput: an unsupported type, an empty file or one over UPLOAD_MAX_MB, groups
    the uploader is not in, content the loaders cannot read. A file of the same name from the
    same uploader is replaced. Nothing is indexed here (see add_upload). Unless the uploader is
    a curator, the file is readable by the uploader alone, `groups` waiting for a curator.
    """
    chosen = _check_groups(user, groups, lang)
    name = sanitize_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise BadInput(say("documents.bad_type", lang,
                           suffix=suffix or say("documents.no_extension", lang),
                           types=", ".join(UPLOAD_TYPES)))
    if not data:
        raise BadInput(say("documents.empty_file", lang))
    if len(data) > UPLOAD_MAX_BYTES:
        raise BadInput(say("documents.too_large", lang, mb=UPLOAD_MAX_MB))
    folder = upload_dir(settings, user)
    target = (folder / name).resolve()
    # Belt and braces: the sanitised name cannot leave the folder, and this says so loudly.
    if target.parent != folder.resolve():
        raise BadInput(say("documents.bad_name", lang))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written under a hidden name first (ingestion skips dot-files), read back with the
        # loaders, and only then moved into place: a corrupt PDF never replaces a good one.
        temporary = folder / f".upload-{uuid.uuid4().hex}{suffix}"
        try:
            temporary.write_bytes(data)
            _check_readable(temporary, name)
            if is_curator(user):
                write_acl_rule(folder, name, chosen, owner=user.login)
            else:
                write_acl_rule(folder, name, (private_group(user),), owner=user.login,
                                requested=chosen)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError("The file could not be saved; please try again.",
                         detail=str(exc)) from exc
    return target


def ingest_uploads(pool: ConnectionPool, settings: Settings, embedder: Embedder,
                   user: User) -> IngestReport:
    """Bring the index in line with one uploader's folder (their acl.yaml gives the groups)."""
    folder = upload_dir(settings, user)
    report = _ingest(pool, folder, embedder)
    stamp_uploader(pool, folder)
    return report


def stamp_uploader(pool: ConnectionPool, folder: Path) -> None:
    """Write the folder's owner on its documents (ingestion rewrites a changed row)."""
    owner = read_acl(folder).get("owner") if folder.is_dir() else None
    if not isinstance(owner, str):
        return
    with store_errors("The documents were indexed but their uploader could not be recorded; "
                      "re-index to try again."), pool.connection() as conn:
        conn.execute("UPDATE app.documents SET uploaded_by = %s WHERE source_root = %s"
                     " AND uploaded_by IS DISTINCT FROM %s", (owner, str(folder), owner))


def add_upload(pool: ConnectionPool, settings: Settings, embedder: Embedder, user: User,
               filename: str, data: bytes, groups: Iterable[str],
               lang: str = "en") -> UploadResult:
    """Save an upload (see save_upload) and index it at once with its groups; refusals are
    worded in `lang`."""
    path = save_upload(settings, user, filename, data, groups, lang)
    report = ingest_uploads(pool, settings, embedder, user)
    skipped = dict(report.skipped)
    if path.name in skipped:  # save_upload loaded it already, so only a bug gets here
        remove_upload(pool, settings, embedder, user, path.name)
        raise BadInput(f"{path.name} cannot be indexed: {skipped[path.name]}.")
    stored_path = f"{path.parent.name}/{path.name}"
    rules = load_access_rules(path.parent)
    with store_errors("The file was saved but its index entry cannot be read; re-index to "
                      "check it."), pool.connection() as conn:
        row = conn.execute("SELECT chunk_count FROM app.documents WHERE path = %s",
                           (stored_path,)).fetchone()
    requested = () if is_curator(user) else _check_groups(user, groups)
    return UploadResult(path, stored_path, rules.groups_for(path.name),
                        int(row[0]) if row else 0, report, requested)


def remove_upload(pool: ConnectionPool, settings: Settings, embedder: Embedder, user: User,
                  filename: str) -> IngestReport:
    """Delete one of the user's uploads and its passages from the index."""
    folder = upload_dir(settings, user)
    name = sanitize_filename(filename)
    try:
        (folder / name).unlink(missing_ok=True)
        if folder.exists():
            write_acl_rule(folder, name, None)
    except OSError as exc:
        raise StoreError("The file could not be removed; please try again.",
                         detail=str(exc)) from exc
    return ingest_uploads(pool, settings, embedder, user)


# ---------------------------------------------------------------- re-indexing


def reindex_roots(settings: Settings) -> list[Path]:
    """The folders a re-index scans: the documents folder, then each uploader's folder."""
    roots = [Path(settings.docs_dir)]
    uploads = uploads_root(settings)
    if uploads.is_dir():
        roots += sorted(p for p in uploads.iterdir() if p.is_dir() and not p.name.startswith("."))
    return roots


def reindex_all(pool: ConnectionPool, settings: Settings, embedder: Embedder,
                progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """Re-scan every folder (incrementally): one report, progress counted over all files.

    A folder that does not exist is left alone rather than scanned: scanning it would find no
    file and delete all of its documents from the index, which a mistyped docs_dir must not do.
    """
    roots = [r for r in reindex_roots(settings) if r.is_dir()]
    counts = [sum(1 for _ in iter_files(r)) for r in roots]
    total = sum(counts)
    combined = IngestReport()
    offset = 0
    for root, count in zip(roots, counts, strict=True):
        def tick(done: int, _of: int, name: str, start: int = offset) -> None:
            if progress is not None:
                progress(min(start + done, total), total, name)

        report = _ingest(pool, root, embedder, tick)
        stamp_uploader(pool, root)
        offset += count
        combined.added += report.added
        combined.updated += report.updated
        combined.deleted += report.deleted
        combined.unchanged += report.unchanged
        combined.chunks_embedded += report.chunks_embedded
        combined.rebuilt_for_model |= report.rebuilt_for_model
        combined.skipped += [(f"{root.name}/{p}", why) for p, why in report.skipped]
    return combined


def reindex_for(pool: ConnectionPool, settings: Settings, embedder: Embedder, user: User,
                progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """Re-index everything (see reindex_all); the report counts only what `user` may read.

    Added, updated, deleted and unchanged compare the documents `user` may read before and
    after the scan (a document rewritten has a new row); a skipped file counts when the access
    rules of its folder give it one of the user's groups.
    """
    groups = reading_groups(user)
    before = _readable_rows(pool, groups)
    report = reindex_all(pool, settings, embedder, progress)
    after = _readable_rows(pool, groups)
    rewritten = [p for p, row in after.items() if before.get(p, (None, 0))[0] != row[0]]
    roots = {r.name: r for r in reindex_roots(settings)}
    return IngestReport(
        added=sum(1 for p in rewritten if p not in before),
        updated=sum(1 for p in rewritten if p in before),
        deleted=sum(1 for p in before if p not in after),
        unchanged=len(after) - len(rewritten),
        skipped=[(name, why) for name, why in report.skipped
                 if _may_read_skipped(roots, name, groups)],
        chunks_embedded=sum(after[p][1] for p in rewritten),
        rebuilt_for_model=report.rebuilt_for_model,
    )


def _readable_rows(pool: ConnectionPool, groups: frozenset[str]) -> dict[str, tuple[int, int]]:
    """path -> (document_id, chunk_count) of the documents `groups` may read."""
    with store_errors("The index state cannot be read right now; please try again."), \
            pool.connection() as conn, conn.transaction():
        as_docs_reader(conn, groups)
        rows = conn.execute("SELECT path, document_id, chunk_count FROM app.documents"
                            ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _may_read_skipped(roots: dict[str, Path], name: str, groups: frozenset[str]) -> bool:
    root_name, _, relative = name.partition("/")
    root = roots.get(root_name)
    return root is not None and bool(set(load_access_rules(root).groups_for(relative)) & groups)


def _ingest(pool: ConnectionPool, root: Path, embedder: Embedder,
            progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
    with store_errors("The documents could not be indexed; please try again."), \
            pool.connection() as conn:
        return ingest_folder(conn, root, embedder, progress=progress)


def everyone_first(groups: Iterable[str]) -> list[str]:
    """Group choices for an uploader: `everyone` (the default) first, then the others."""
    rest = sorted(g for g in groups if g != EVERYONE)
    return [EVERYONE, *rest]
