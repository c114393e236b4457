"""Sourced: sign-in, the sidebar and the navigation between pages. Layout only; every query,
rule and model call lives in agents/."""

from __future__ import annotations

import streamlit as st

from agents.app.signin import SignInRefused, user_from_claims
from agents.app.state import SIGNED_IN, may_see_page, resources_or_stop, sign_in_mode_or_stop
from agents.errors import AssistantError
from agents.models.providers import check_connection

st.set_page_config(page_title="Sourced", page_icon="📊", layout="wide")

resources = resources_or_stop()

directory = resources.directory
mode = sign_in_mode_or_stop(resources)
with st.sidebar:
    st.title("Sourced")
    st.caption("Answers from the warehouse (with their SQL) and from documents (with sources).")
    if mode == "oidc":
        if not st.user.is_logged_in:
            st.write("Please sign in with your company account.")
            st.button("Sign in", on_click=st.login, type="primary")
            st.stop()
        try:
            user = user_from_claims(st.user, directory)
        except SignInRefused as exc:
            st.error(exc.user_message)
            st.button("Sign out", on_click=st.logout)
            st.stop()
        st.write(f"Signed in as **{user.name}** ({st.user.get('email')})")
        st.button("Sign out", on_click=st.logout)
    else:
        st.badge("demo mode", color="orange")
        logins = sorted(directory.users)
        login = st.selectbox("Signed in as (demo)", logins, key="login",
                             format_func=lambda u: f"{directory.users[u].name} ({u})")
        user = directory.users[login]
        # Widget keys are dropped on other pages; this plain key carries the user to them.
        st.session_state["user_login"] = login
    st.session_state[SIGNED_IN] = user
    st.write("Groups: " + ", ".join(sorted(user.all_groups)))
    if user.scope:
        st.write(f"Data scope: {user.scope_text}")
    settings = resources.settings
    if settings.llm_enabled:
        st.write(f"Mode: **model {settings.llm_model}**")
        if st.button("Test connection"):
            try:
                st.success(check_connection(settings))
            except AssistantError as exc:
                st.error(exc.user_message)
    else:
        st.write("Mode: **offline** (semantic planner, extractive document answers)")

pages = [st.Page("pages/chat.py", title="Chat", icon="💬", default=True),
         st.Page("pages/documents.py", title="Documents", icon="📄")]
if may_see_page(user, "workbench"):
    pages.append(st.Page("pages/workbench.py", title="SQL workbench", icon="🛠️"))
if may_see_page(user, "monitoring"):
    pages.append(st.Page("pages/monitoring.py", title="Monitoring", icon="📈"))
st.navigation(pages).run()
