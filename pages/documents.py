"""Documents: what the signed-in user may read, uploads, and re-indexing.

Layout only; the queries, the upload rules and the ingestion live in agents/app/documents.py.
"""

from __future__ import annotations

import streamlit as st

from agents.app import documents
from agents.app.state import may_see_page, resources_or_stop, signed_in_user
from agents.errors import AssistantError

st.title("Documents")

resources = resources_or_stop()

user = signed_in_user(resources)
settings = resources.settings
st.caption(f"What {user.name} may read. Other documents do not appear at all.")

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
                st.success(f"{added.stored_path} is indexed ({added.chunks} passages), readable "
                           f"by: {', '.join(added.groups)}.")

left, right = st.columns([1, 4], vertical_alignment="center")
# Only analysts re-index: the scan's counts cover documents other users may not know exist.
if may_see_page(user, "reindex") and left.button("Re-index", key="doc_reindex",
               help="Scan the documents folder and every upload folder again; only new or "
                    "changed files are embedded."):
    bar = right.progress(0.0, text="Re-indexing…")

    # File names are not shown: the scan covers documents this user may not know exist.
    def tick(done: int, total: int, _name: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"Re-indexing: {done} of {total} files")

    try:
        report = documents.reindex_all(resources.app_pool, settings, resources.embedder, tick)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:
        bar.progress(1.0, text="Re-index finished")
        st.success(f"Index refreshed: {report.summary()}.")

try:
    listed = documents.list_documents(resources.app_pool, user.all_groups)
    refreshed = documents.last_indexed(resources.app_pool, user.all_groups)
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
            {"Title": d.title, "Path": d.path, "Groups": ", ".join(d.groups),
             "Modified": d.modified_at.date().isoformat(), "Chunks": d.chunks,
             "Language": d.language}
            for d in listed
        ],
        hide_index=True,
    )
