"""Documents: what the signed-in user may read, uploads, and re-indexing.

Layout only; the queries, the upload rules and the ingestion live in agents/app/documents.py.
"""

from __future__ import annotations

import streamlit as st

from agents.app import documents, publishing
from agents.app.markup import plain_text
from agents.app.state import may_see_page, page_language, resources_or_stop, signed_in_user
from agents.errors import AssistantError
from agents.messages import say

lang = page_language()
st.title(say("documents.title", lang))

resources = resources_or_stop()

user = signed_in_user(resources)
settings = resources.settings
reading = documents.reading_groups(user)
st.caption(say("pages.documents_caption", lang, name=plain_text(user.name)))

with st.expander(say("documents.add", lang)):
    with st.form("doc_upload", clear_on_submit=True, border=False):
        upload = st.file_uploader(
            say("documents.file", lang, types=", ".join(documents.UPLOAD_TYPES),
                mb=documents.UPLOAD_MAX_MB),
            type=list(documents.UPLOAD_TYPES), max_upload_size=documents.UPLOAD_MAX_MB,
            key="doc_file")
        groups = st.multiselect(
            say("documents.who_may_read", lang), documents.everyone_first(user.all_groups),
            default=[documents.EVERYONE], key="doc_groups",
            help=say("documents.who_may_read_help", lang))
        submitted = st.form_submit_button(say("documents.upload", lang), type="primary",
                                          key="doc_submit")
    if submitted:
        if upload is None:
            st.error(say("documents.choose_file", lang))
        else:
            try:
                with st.spinner(say("documents.indexing", lang)):
                    added = documents.add_upload(resources.app_pool, settings, resources.embedder,
                                                 user, upload.name, upload.getvalue(), groups,
                                                 lang)
            except AssistantError as exc:
                st.error(exc.user_message)
            else:
                key = "pages.upload_private" if added.requested else "pages.upload_published"
                st.success(say(key, lang, path=plain_text(added.stored_path), chunks=added.chunks,
                               groups=plain_text(", ".join(added.requested or added.groups))))

if documents.is_curator(user):
    with st.expander(say("pages.pending_title", lang)):
        st.caption(say("pages.pending_caption", lang))
        try:
            waiting = publishing.pending_uploads(settings, user, lang)
        except AssistantError as exc:
            st.error(exc.user_message)
            waiting = []
        if not waiting:
            st.caption(say("pages.pending_none", lang))
        for item in waiting:
            text, action = st.columns([5, 1], vertical_alignment="center")
            groups_text = plain_text(", ".join(item.requested))
            text.markdown(say("pages.pending_item", lang, name=plain_text(item.name),
                              owner=plain_text(item.owner), groups=groups_text))
            if action.button(say("pages.publish_button", lang),
                             key=f"doc_publish_{item.folder}/{item.name}"):
                try:
                    with st.spinner(say("documents.indexing", lang)):
                        publishing.publish_upload(resources.app_pool, settings,
                                                  resources.embedder, user, item.folder,
                                                  item.name, lang)
                except AssistantError as exc:
                    st.error(exc.user_message)
                else:
                    st.success(say("pages.published", lang, name=plain_text(item.name),
                                   groups=groups_text))

left, right = st.columns([1, 4], vertical_alignment="center")
# Only analysts re-index: the scan's counts cover documents other users may not know exist.
if may_see_page(user, "reindex") and left.button(say("documents.reindex", lang),
                                                         key="doc_reindex",
                                                         help=say("documents.reindex_help", lang)):
    bar = right.progress(0.0, text=say("documents.reindexing", lang))

    # Neither file names nor file counts are shown: the scan covers documents this user may
    # not know exist. The summary counts only what they may read.
    def tick(done: int, total: int, _name: str) -> None:
        share = done / total if total else 1.0
        bar.progress(share, text=say("pages.reindex_progress", lang, percent=round(share * 100)))

    try:
        report = documents.reindex_for(resources.app_pool, settings, resources.embedder, user,
                                       tick)
    except AssistantError as exc:
        st.error(exc.user_message)
    else:
        bar.progress(1.0, text=say("documents.reindex_finished", lang))
        st.success(say("pages.reindex_done", lang, summary=documents.report_text(report, lang)))

try:
    listed = documents.list_documents(resources.app_pool, reading, lang)
    refreshed = documents.last_indexed(resources.app_pool, reading, lang)
except AssistantError as exc:
    st.error(exc.user_message)
    st.stop()

if refreshed is not None:
    st.caption(say("documents.index_state", lang, count=len(listed),
                   when=f"{refreshed:%Y-%m-%d %H:%M}"))
if not listed:
    st.info(say("documents.none", lang))
else:
    # A table shows its cells as text: no Markdown to escape here.
    st.dataframe(documents.documents_frame(listed, lang), hide_index=True)
