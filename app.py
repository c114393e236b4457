"""Sourced: sign-in, the sidebar and the navigation between pages. Layout only; every query,
rule and model call lives in agents/."""

from __future__ import annotations

import streamlit as st

from agents.app.chat import LANGUAGE_SETTINGS
from agents.app.signin import SignInRefused, user_from_claims
from agents.app.state import (
    LANGUAGE_KEY,
    LOGIN_KEY,
    LOGIN_WIDGET,
    SIGNED_IN,
    may_see_page,
    page_language,
    resources_or_stop,
    sign_in_mode_or_stop,
)
from agents.errors import AssistantError
from agents.messages import say
from agents.models.providers import check_connection

st.set_page_config(page_title="Sourced", page_icon="📊", layout="wide")

resources = resources_or_stop()

directory = resources.directory
mode = sign_in_mode_or_stop(resources)
# The page's labels follow the last question's language unless the user picked one.
lang = page_language()
with st.sidebar:
    st.title("Sourced")
    st.caption(say("app.tagline", lang))
    if mode == "oidc":
        if not st.user.is_logged_in:
            st.write(say("app.sign_in_prompt", lang))
            st.button(say("app.sign_in", lang), on_click=st.login, type="primary")
            st.stop()
        try:
            user = user_from_claims(st.user, directory)
        except SignInRefused as exc:
            st.error(exc.user_message)
            st.button(say("app.sign_out", lang), on_click=st.logout)
            st.stop()
        st.write(say("app.signed_in_as", lang, name=user.name, email=st.user.get("email")))
        st.button(say("app.sign_out", lang), on_click=st.logout)
    else:
        st.badge(say("app.demo_mode", lang), color="orange")
        logins = sorted(directory.users)
        # A page switch drops the picker's own key: restore it from the plain one, so the
        # sidebar always shows the user the questions run as.
        carried = st.session_state.get(LOGIN_KEY)
        if LOGIN_WIDGET not in st.session_state and carried in directory.users:
            st.session_state[LOGIN_WIDGET] = carried
        login = st.selectbox(say("app.signed_in_demo", lang), logins, key=LOGIN_WIDGET,
                             format_func=lambda u: f"{directory.users[u].name} ({u})")
        user = directory.users[login]
        st.session_state[LOGIN_KEY] = login
    st.session_state[SIGNED_IN] = user
    st.write(say("app.groups", lang, groups=", ".join(sorted(user.all_groups))))
    if user.scope:
        st.write(say("app.data_scope", lang, scope=user.scope_text))
    settings = resources.settings
    if settings.llm_enabled:
        st.write(say("app.mode_line_model", lang, model=settings.llm_model))
        if st.button(say("app.test_connection", lang)):
            try:
                st.success(check_connection(settings))
            except AssistantError as exc:
                st.error(exc.user_message)
    else:
        st.write(say("app.mode_line_offline", lang))
    chosen = st.session_state.get(LANGUAGE_KEY, "auto")
    picked = st.selectbox(say("app.language", lang), LANGUAGE_SETTINGS,
                          index=LANGUAGE_SETTINGS.index(chosen)
                          if chosen in LANGUAGE_SETTINGS else 0,
                          format_func=lambda s: say(f"app.language_{s}", lang),
                          key=f"language-picker-{lang}")  # relabelled in each language
    if picked != chosen:
        st.session_state[LANGUAGE_KEY] = picked
        st.rerun()

pages = [st.Page("pages/chat.py", title=say("app.page_chat", lang), icon=":material/chat:",
                 default=True),
         st.Page("pages/documents.py", title=say("app.page_documents", lang),
                 icon=":material/description:")]
if may_see_page(user, "workbench"):
    pages.append(st.Page("pages/workbench.py", title=say("app.page_workbench", lang),
                         icon=":material/terminal:"))
if may_see_page(user, "monitoring"):
    pages.append(st.Page("pages/monitoring.py", title=say("app.page_monitoring", lang),
                         icon=":material/monitoring:"))
st.navigation(pages).run()
