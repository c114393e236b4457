"""The app's shared resources and sign-in, for every page.

Resources are cached once per Streamlit process (st.cache_resource); pages never build pools,
embedders or clients themselves. Sign-in: Streamlit's OIDC (st.login / st.user) when an [auth]
section is configured in .streamlit/secrets.toml, else demo mode with a user picker. Either way
the user's groups come from users.yaml, never from anything typed in the chat.
"""

from __future__ import annotations

import psycopg
import streamlit as st

from agents.config import load_settings
from agents.errors import AssistantError, StoreError
from agents.logs import setup_logging
from agents.resources import Resources, build_resources
from agents.store.users import User


@st.cache_resource(show_spinner="Starting Sourced…")
def shared_resources() -> Resources:
    try:
        settings = load_settings()
        setup_logging(settings)
        return build_resources(settings)
    except Exception as exc:
        if isinstance(exc, AssistantError):
            raise
        # psycopg's OperationalError and friends: a sentence for the page, the detail for logs.
        raise StoreError("The database cannot be reached, so Sourced cannot start. Check that "
                         "it is running (`make demo` starts the embedded one) and try again.",
                         detail=f"{type(exc).__name__}: {exc}") from exc


def resources_or_stop() -> Resources:
    """For pages: the shared resources, or a plain sentence and the end of this run."""
    try:
        return shared_resources()
    except AssistantError as exc:
        st.error(exc.user_message)
    except psycopg.Error:  # a connection error from anywhere the conversion above missed
        st.error("The app database cannot be reached, so there is nothing to show right now.")
    st.stop()


def oidc_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def signed_in_user(resources: Resources) -> User:
    """The user the app runs for: set by app.py's sign-in, read by every page."""
    login = st.session_state.get("user_login")
    if isinstance(login, str) and login in resources.directory.users:
        return resources.directory.users[login]
    email = st.session_state.get("user_email")
    if isinstance(email, str) and email:
        return resources.directory.by_email(email)
    return resources.directory.users[sorted(resources.directory.users)[0]]


def may_see_page(user: User, page: str) -> bool:
    """Which pages a user's groups open: the workbench (and re-indexing, whose counts cover
    every document) to analysts, monitoring (every user's questions and SQL) to analysts and
    executives."""
    if page in ("workbench", "reindex"):
        return "analyst" in user.groups
    if page == "monitoring":
        return bool({"analyst", "exec"} & user.groups)
    return True
