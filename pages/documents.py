"""Documents: what the signed-in user may read, uploads, and re-indexing.

Layout only; the queries, the upload rules and the ingestion live in agents/app/documents.py.
"""

from __future__ import annotations

from datetime import UTC

import streamlit as st

from agents.app import documents, publishing
from agents.app.markup import plain_text
from agents.app.state import may_see_page, resources_or_stop, signed_in_user
from agents.errors import AssistantError
from agents.messages import say

st.title("Documents")

resources = resources_or_stop()

user = signed_in_user(resources)
settings = resources.settings
reading = documents.reading_groups(user)
st.caption(say("pages.documents_caption", "en", name=plain_text(user.name)))

with st.expander("Add a document"):
    with st.form("doc_upload", clear_on_submit=True, border=False):
        upload = st.file_uploader(
            f"File ({', '.join(documents.UPLOAD_TYPES)}; up to {documents.UPLOAD_MAX_MB} MB)",
            type=list(documents.UPLOAD_TYPES), max_upload_size=documents.UPLOAD_MAX_MB,
            key="doc_file")
        groups = st.multiselect(
            "Who may read it", documents.everyone_first(user.all_groups),
            default=[documents.EVERYONE], key="doc_groups",
            help="Only groups you belong to. `everyone` means every user of Sourced.")
        submitted = st.form_submit_button("Upload and index", type="primary", key="doc_submit")
    if submitted:
        if upload is None:
            st.error("Choose a file to upload first.")
        else:
            try:
                with st.spinner("Indexing…"):
                    added = documents.add_upload(resources.app_pool, settings, resources.embedder,
                                                 user, upload.name, upload.getvalue(), groups)
            except AssistantError as exc:
                st.error(exc.user_message)
            else:
                key = "pages.upload_private" if added.requested else "pages.upload_published"
                st.success(say(key, "en", path=plain_text(added.stored_path), chunks=added.chunks,
                               groups=plain_text(", ".join(added.requested or added.groups))))

if documents.is_curator(user):
    with st.expander(say("pages.pending_title", "en")):
        st.caption(say("pages.pending_caption", "en"))
        try:
            waiting = publishing.pending_uploads(settings, user)
        except AssistantError as exc:
            st.error(exc.user_message)
            waiting = []
        if not waiting:
            st.caption(say("pages.pending_none", "en"))
        for item in waiting:
            text, action = st.columns([5, 1], vertical_alignment="center")
            groups_text = plain_text(", ".join(item.requested))
            text.markdown(say("pages.pending_item", "en", name=plain_text(item.name),
                              owner=plain_text(item.owner), groups=groups_text))
            if action.button(say("pages.publish_button", "en"),
                             key=f"doc_publish_{item.folder}/{item.name}"):
                try:
                    with st.spinner("Indexing…"):
                        publishing.publish_upload(resources.app_pool, settings,
                                                  resources.embedder, user, item.folder,
                                                  item.name)
                except AssistantError as exc:
                    st.error(exc.user_message)
                else:
                    st.success(say("pages.published", "en", name=plain_text(item.name),
                                   groups=groups_text))

left, right = st.columns([1, 4], vertical_alignment="center")
# Only analysts re-index: the scan's counts cover documents other users may not know exist.
if may_see_page(user, "reindex") and left.button("Re-index", key="doc_reindex",
               help="Scan the documents folder and every upload folder again; only new or "
                    "changed files are embedded."):
    bar = right.progress(0.0, text="Re-indexing…")

    # Neither file names nor file counts are shown: the scan covers documents this user may
    # not know exist. The summary counts only what they may read.
    def tick(done: int, total: int, _name: str) -> None:
        share = done / total if total else 1.0
        bar.progress(share, text=say("pages.reindex_progress", "en", percent=round(share * 100)))

    try:
        report = documents.reindex_for(resources.app_pool, settings, resources.embedder, user,
                                       tick)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:
        bar.progress(1.0, text="Re-index finished")
        st.success(say("pages.reindex_done", "en", summary=report.summary()))

try:
    listed = documents.list_documents(resources.app_pool, reading)
    refreshed = documents.last_indexed(resources.app_pool, reading)
except AssistantError as exc:
    st.error(exc.user_message)
    st.stop()

if refreshed is not None:
    st.caption(f"{len(listed)} documents. Index last updated {refreshed:%Y-%m-%d %H:%M} UTC "
               "(the newest document added or changed).")
if not listed:
    st.info("No documents yet. Upload one above, or ask an administrator to index a folder.")
else:
    st.dataframe(
        [
            # A table shows its cells as text: no Markdown to escape here.
            {"Title": d.title, "Path": d.path, "Groups": documents.groups_label(d),
             "Uploaded by": d.uploaded_by or "", "Modified": d.modified_at.date().isoformat(),
             "Indexed": d.ingested_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
             if d.ingested_at else "",
             "Chunks": d.chunks, "Language": d.language}
            for d in listed
        ],
        hide_index=True,
    )
