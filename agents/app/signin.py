"""Sign-in fails closed: who the app runs for, from the identity provider or the demo picker.

Rights never come from the chat, nor from a missing or broken sign-in. With an `[auth]` section
in `.streamlit/secrets.toml` the app signs people in with OIDC, and an identity token without a
verified e-mail gets no access at all. Demo mode (a user picker) runs only on purpose: on the
embedded demo database, or with `SOURCED_DEMO_MODE=1`. An `[auth]` section that is present but
unusable stops the app; it never falls back to the picker.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from agents.config import SECRETS_FILE, Settings
from agents.errors import AssistantError, ConfigError
from agents.messages import say
from agents.store.users import Directory, User

log = logging.getLogger("sourced.signin")

SignInMode = Literal["oidc", "demo"]
# The files Streamlit reads its secrets from, in its own order (the later one wins).
SECRETS_FILES = (Path.home() / ".streamlit" / "secrets.toml", SECRETS_FILE)
# What st.login needs besides the provider: without these it cannot complete a sign-in.
AUTH_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
# One address: a local part, an @, a domain with a dot. Logins of users.yaml never match it.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class SignInRefused(AssistantError):
    """The identity provider signed someone in, but not in a way Sourced can trust."""


def sign_in_mode(settings: Settings, secrets_files: Iterable[Path] | None = None) -> SignInMode:
    """OIDC when `[auth]` is configured and usable; demo only on purpose; else ConfigError."""
    auth = _auth_section(SECRETS_FILES if secrets_files is None else secrets_files)
    if auth is not None:
        missing = _missing_auth_keys(auth)
        if missing:
            raise ConfigError(say("signin.auth_incomplete", "en", keys=", ".join(missing)))
        return "oidc"
    if settings.demo_mode or settings.database_url is None:
        return "demo"
    raise ConfigError(say("signin.not_configured", "en"))


def _auth_section(files: Iterable[Path]) -> Mapping[str, Any] | None:
    section: Mapping[str, Any] | None = None
    for path in files:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # A broken file may hold a broken [auth]: refuse to guess that there is none.
            raise ConfigError(say("signin.secrets_unreadable", "en", path=str(path)),
                              detail=f"{type(exc).__name__}: {exc}") from exc
        if "auth" in data:
            if not isinstance(data["auth"], Mapping):
                raise ConfigError(say("signin.auth_incomplete", "en", keys="[auth]"))
            section = data["auth"]
    return section


def _missing_auth_keys(auth: Mapping[str, Any]) -> list[str]:
    missing = [key for key in AUTH_KEYS if not auth.get(key)]
    # The provider's keys sit in [auth] itself or in one named provider table ([auth.google]).
    providers = [auth] + [v for v in auth.values() if isinstance(v, Mapping)]
    if not any(all(p.get(key) for key in PROVIDER_KEYS) for p in providers):
        missing.extend(key for key in PROVIDER_KEYS if not auth.get(key))
    return missing


def user_from_claims(claims: Mapping[str, Any], directory: Directory) -> User:
    """The user an identity token stands for, or SignInRefused.

    Only a verified e-mail address signs someone in, matched (case-insensitively) against the
    `emails` of users.yaml and never against logins. An unknown address gets the group
    `everyone` only, and is logged.
    """
    email = claims.get("email")
    if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
        raise SignInRefused(say("signin.no_email", "en"), detail="no e-mail claim")
    if _is_false(claims.get("email_verified")):
        raise SignInRefused(say("signin.unverified_email", "en"),
                            detail=f"email_verified is false for {email}")
    known = directory.user_with_email(email)
    if known is not None:
        return known
    log.info("signed in with an e-mail missing from users.yaml: group everyone only",
             extra={"user": email.strip().lower()})
    return directory.by_email(email)


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")
