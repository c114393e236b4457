"""Publishing uploads: a curator makes an upload readable by the groups its uploader asked for.

An upload by anyone but a curator is readable by its uploader alone (agents/app/documents.py,
`private_group`); its rule in the folder's acl.yaml keeps the groups asked for under
`requested`. The curator's list is read from those files, not from the index: a curator need
not be in the groups asked for, and titles and passages stay out of it (file names are shown as
text by the page). Publishing rewrites the rule through the same acl.yaml mechanism and
re-ingests the folder, so the index follows at once.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from agents.app.documents import (
    PendingUpload,
    is_curator,
    read_acl,
    stamp_uploader,
    uploads_root,
    write_acl_rule,
)
from agents.config import Settings
from agents.docs.embeddings import Embedder
from agents.docs.ingest import IngestReport, ingest_folder
from agents.errors import BadInput, StoreError, store_errors
from agents.messages import say
from agents.store.users import User

NOT_A_CURATOR = say("documents.not_a_curator", "en")


def pending_uploads(settings: Settings, curator: User,
                    lang: str = "en") -> list[PendingUpload]:
    """Every upload waiting for publication, oldest folder name first (curators only)."""
    if not is_curator(curator):
        raise BadInput(say("documents.not_a_curator", lang))
    root = uploads_root(settings)
    if not root.is_dir():
        return []
    found: list[PendingUpload] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        data = read_acl(folder)
        owner = str(data.get("owner") or "")
        rules = data.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict) or not rule.get("requested"):
                continue
            name = str(rule.get("pattern") or "")
            if name and (folder / name).is_file():
                found.append(PendingUpload(folder.name, name, owner,
                                           tuple(str(g) for g in rule["requested"])))
    return found


def publish_upload(pool: ConnectionPool, settings: Settings, embedder: Embedder, curator: User,
                   folder_name: str, name: str, lang: str = "en") -> IngestReport:
    """Give one pending upload the groups its uploader asked for, and re-index its folder."""
    if not is_curator(curator):
        raise BadInput(say("documents.not_a_curator", lang))
    pending = {(p.folder, p.name): p for p in pending_uploads(settings, curator, lang)}
    upload = pending.get((folder_name, name))
    if upload is None:
        raise BadInput(say("documents.no_longer_pending", lang, name=name))
    folder = uploads_root(settings) / upload.folder
    try:
        write_acl_rule(folder, upload.name, upload.requested)
    except OSError as exc:
        raise StoreError(say("documents.publish_failed", lang),
                         detail=str(exc)) from exc
    with store_errors(say("documents.publish_unindexed", lang)), pool.connection() as conn:
        report = ingest_folder(conn, folder, embedder)
    stamp_uploader(pool, folder)
    return report
