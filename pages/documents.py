"""Documents: what the signed-in user may read. Layout only; the query lives in agents/."""

from __future__ import annotations

import streamlit as st

from agents.app_state import shared_resources
from agents.documents import list_documents

st.set_page_config(page_title="Sourced · Documents", page_icon="📄", layout="wide")
resources = shared_resources()
login = st.session_state.get("user_login") or sorted(resources.directory.users)[0]
user = resources.directory.users[login]
st.title("Documents")
st.caption(f"What {user.name} may read. Other documents do not appear at all.")
documents = list_documents(resources.app_pool, user.all_groups)
st.dataframe(
    [
        {"Title": d.title, "Path": d.path, "Groups": ", ".join(d.groups),
         "Modified": d.modified_at.date().isoformat(), "Chunks": d.chunks,
         "Language": d.language}
        for d in documents
    ],
    hide_index=True,
)
