"""The app's shared resources and sign-in, for every page.

Resources are cached once per Streamlit process (st.cache_resource); pages never build pools,
embedders or clients themselves. Sign-in: Streamlit's OIDC (st.login / st.user) when an [auth]
section is configured in .streamlit/secrets.toml, else, on purpose only, demo mode with a user
picker (agents/app/signin.py). Either way the user's groups come from users.yaml, never from
anything typed in the chat, and a missing or broken sign-in gives no access.
"""

from __future__ import annotations

import psycopg
import streamlit as st

from agents.app.chat import ui_language
from agents.app.signin import SignInMode, sign_in_mode
from agents.config import load_settings
from agents.errors import AssistantError, ConfigError, StoreError
from agents.language import Lang
from agents.logs import setup_logging
from agents.messages import say
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
        raise StoreError(say("pages.cannot_start", "en"),
                         detail=f"{type(exc).__name__}: {exc}") from exc


def resources_or_stop() -> Resources:
    """For pages: the shared resources, or a plain sentence and the end of this run."""
    lang = page_language()
    try:
        return shared_resources()
    except AssistantError as exc:
        cannot_start = exc.user_message == say("pages.cannot_start", "en")  # raised above
        st.error(say("pages.cannot_start", lang) if cannot_start else exc.user_message)
    except psycopg.Error:  # a connection error from anywhere the conversion above missed
        st.error(say("pages.app_db_down", lang))
    st.stop()


# Where app.py leaves the signed-in User for the pages of the same run.
SIGNED_IN = "signed_in_user"
# The demo picker's widget key, and the plain key that carries its value across pages (a
# widget's own key is dropped when a page switch reruns the script without it).
LOGIN_WIDGET, LOGIN_KEY = "login", "user_login"
# The sidebar's language setting ("auto", "en", "fr"), read by every page.
LANGUAGE_KEY = "ui_language"


def page_language() -> Lang:
    """The language of a page's labels, as the chat chooses it: the sidebar's setting, else the
    language of the last question asked in the chat, else English."""
    history = st.session_state.get("history") or []
    return ui_language(st.session_state.get(LANGUAGE_KEY),
                       [getattr(getattr(t, "answer", None), "lang", "en") for t in history])


def sign_in_mode_or_stop(resources: Resources) -> SignInMode:
    """How people sign in; a sentence and the end of this run when sign-in cannot work."""
    try:
        return sign_in_mode(resources.settings)
    except ConfigError as exc:
        st.error(exc.user_message)
        st.stop()


def signed_in_user(resources: Resources) -> User:
    """The user the app runs for, as app.py's sign-in left it; no one is assumed.

    A page run on its own (tests, a deep link before sign-in) may name a demo login, which is
    honoured in demo mode only. Anything else ends the run with "you are not signed in".
    """
    user = st.session_state.get(SIGNED_IN)
    if isinstance(user, User):
        return user
    login = st.session_state.get("user_login")
    if (isinstance(login, str) and login in resources.directory.users
            and sign_in_mode_or_stop(resources) == "demo"):
        return resources.directory.users[login]
    st.warning(say("signin.not_signed_in", page_language()))
    st.stop()


def may_see_page(user: User, page: str) -> bool:
    """Which pages a user's groups open: the workbench (and re-indexing, whose counts cover
    every document) to analysts, monitoring (every user's questions and SQL) to analysts and
    executives."""
    if page in ("workbench", "reindex"):
        return "analyst" in user.groups
    if page == "monitoring":
        return bool({"analyst", "exec"} & user.groups)
    return True
