"""Sign-in fails closed: no e-mail, an unverified one, or a broken [auth] gives no access."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agents.app import signin, state
from agents.app.signin import SignInRefused, sign_in_mode, user_from_claims
from agents.config import load_settings
from agents.errors import ConfigError
from agents.store.users import EVERYONE, Directory, User

APP = str(Path(__file__).resolve().parents[2] / "app.py")
GOOD_AUTH = """
[auth]
redirect_uri = "https://sourced.example.com/oauth2callback"
cookie_secret = "a long random string"
client_id = "id"
client_secret = "secret"
server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
"""


@pytest.fixture
def directory() -> Directory:
    return Directory(users={
        "alice": User(login="alice", name="Alice", groups=frozenset({"exec"}),
                      emails=("alice@lumen.example",)),
        "chloe": User(login="chloe", name="Chloé", groups=frozenset({"analyst"}),
                      emails=("chloe@lumen.example",)),
    }, restricted_tables={})


@pytest.mark.parametrize("claims", [
    {},
    {"email": ""},
    {"email": None},
    {"email": "Chloe"},          # a login, not an address: never matched against logins
    {"email": "alice"},
    {"email": ["alice@lumen.example"]},
    {"sub": "123", "name": "Alice Martin"},
], ids=["no-claims", "empty", "null", "login-chloe", "login-alice", "list", "no-email"])
def test_a_token_without_an_email_address_signs_nobody_in(
    claims: dict[str, Any], directory: Directory
) -> None:
    with pytest.raises(SignInRefused) as info:
        user_from_claims(claims, directory)
    assert "cannot sign you in" in info.value.user_message


@pytest.mark.parametrize("verified", [False, "false", "False"])
def test_an_unverified_email_signs_nobody_in(verified: object, directory: Directory) -> None:
    with pytest.raises(SignInRefused) as info:
        user_from_claims({"email": "alice@lumen.example", "email_verified": verified}, directory)
    assert "not verified" in info.value.user_message


def test_a_verified_email_is_matched_against_the_emails_of_users_yaml(
    directory: Directory
) -> None:
    user = user_from_claims({"email": " ALICE@lumen.example ", "email_verified": True}, directory)
    assert user.login == "alice" and "exec" in user.groups


def test_an_unknown_email_gets_everyone_only_and_is_logged(
    directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="sourced.signin"):
        user = user_from_claims({"email": "mallory@elsewhere.example"}, directory)
    assert user.all_groups == {EVERYONE}
    assert user.login not in directory.users
    assert any("missing from users.yaml" in r.getMessage() for r in caplog.records)


def test_demo_mode_only_on_purpose(tmp_path: Path) -> None:
    none = [tmp_path / "absent.toml"]
    assert sign_in_mode(load_settings(database_url=None), none) == "demo"  # the embedded demo
    with pytest.raises(ConfigError) as info:
        sign_in_mode(load_settings(database_url="postgresql://db.example/x", demo_mode=False),
                     none)
    assert "SOURCED_DEMO_MODE=1" in info.value.user_message
    assert sign_in_mode(load_settings(database_url="postgresql://db.example/x", demo_mode=True),
                        none) == "demo"


@pytest.mark.parametrize("text, words", [
    ('[auth]\nredirect_uri = "https://x.example/cb\ncookie_secret = "s"\n', "not valid TOML"),
    ("[auth]\nredirect_uri = \"https://x.example/cb\"\n", "is missing cookie_secret"),
    ('auth = "on"\n', "[auth]"),
], ids=["unterminated-string", "incomplete", "not-a-table"])
def test_a_present_but_unusable_auth_section_stops_even_in_demo_mode(
    tmp_path: Path, text: str, words: str
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(text)
    with pytest.raises(ConfigError) as info:
        sign_in_mode(load_settings(database_url=None, demo_mode=True), [secrets])
    assert words in info.value.user_message


def test_a_complete_auth_section_signs_in_with_oidc(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(GOOD_AUTH)
    assert sign_in_mode(load_settings(demo_mode=True), [secrets]) == "oidc"
    named = GOOD_AUTH.replace('client_id = "id"\nclient_secret = "secret"\n', "").replace(
        "server_metadata_url", "[auth.corp]\nclient_id = \"id\"\nclient_secret = \"s\"\n"
        "server_metadata_url")
    secrets.write_text(named)
    assert sign_in_mode(load_settings(demo_mode=True), [secrets]) == "oidc"


def _app_with(resources: Any, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> AppTest:
    local = resources.with_settings(resources.settings.model_copy(update=changes))
    monkeypatch.setattr(state, "shared_resources", lambda: local)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_the_app_without_sign_in_on_an_external_database_does_not_start(
    resources: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(signin, "SECRETS_FILES", (tmp_path / "absent.toml",))
    at = _app_with(resources, monkeypatch, demo_mode=False)
    assert any("Sign-in is not configured" in e.value for e in at.error)
    assert not at.chat_input and not at.sidebar.selectbox


def test_the_app_with_a_broken_auth_section_never_falls_back_to_demo_mode(
    resources: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "https://x.example/cb\n')
    monkeypatch.setattr(signin, "SECRETS_FILES", (secrets,))
    at = _app_with(resources, monkeypatch, demo_mode=True)
    assert any("cannot be read" in e.value for e in at.error)
    assert not at.chat_input and not at.sidebar.selectbox


def test_a_page_opened_without_sign_in_assumes_nobody(
    resources: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "shared_resources", lambda: resources)
    page = str(Path(APP).parent / "pages" / "chat.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("not signed in" in w.value for w in at.warning)
    assert not at.chat_input
