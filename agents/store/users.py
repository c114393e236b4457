"""Users, groups and data scopes from `seed_data/users.yaml`.

Rights come from this file (or the identity provider mapped onto it), never from the chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.errors import BadInput, ConfigError

EVERYONE = "everyone"


@dataclass(frozen=True)
class User:
    login: str
    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    scope_region: str | None = None
    emails: tuple[str, ...] = ()

    @property
    def all_groups(self) -> frozenset[str]:
        """The user's groups plus `everyone`, which every user is implicitly in."""
        return self.groups | {EVERYONE}


@dataclass(frozen=True)
class Directory:
    users: dict[str, User]
    restricted_tables: dict[str, frozenset[str]]

    def get(self, login: str) -> User:
        """The user with this login; BadInput (listing the known ones) when there is none."""
        user = self.users.get(login.strip().lower()) if isinstance(login, str) else None
        if user is None:
            known = ", ".join(sorted(self.users))
            raise BadInput(f"Unknown user {login!r}. Known users: {known}.")
        return user

    def user_with_email(self, email: str) -> User | None:
        """The user whose `emails` hold this address (compared in lower case), if any."""
        wanted = email.strip().lower()
        for user in self.users.values():
            if wanted in (e.lower() for e in user.emails):
                return user
        return None

    def by_email(self, email: str) -> User:
        """Map a signed-in e-mail to a user; unknown e-mails get the group `everyone` only."""
        wanted = email.strip().lower()
        return self.user_with_email(wanted) or User(login=wanted, name=wanted)


def yaml_error_location(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{path}, line {mark.line + 1}: {problem}"
    return f"{path}: {problem}"


SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """Parse a configuration file; a malformed one raises ConfigError naming file, line, problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text ({exc.reason}).") from exc
    try:
        # libyaml's loader when the wheel has it: the semantic model parses ~10x faster.
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_location(path, exc)) from exc


def load_directory(path: Path) -> Directory:
    """Read users.yaml into a Directory; a malformed file raises ConfigError naming the problem."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("users"), dict):
        raise ConfigError(f"{path}: expected a mapping with a `users:` section.")
    users: dict[str, User] = {}
    for login, entry in data["users"].items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: user {login!r} must be a mapping (name, groups, scope).")
        groups = entry.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise ConfigError(f"{path}: user {login!r}: `groups` must be a list of names.")
        scope = entry.get("scope") or {}
        if not isinstance(scope, dict):
            raise ConfigError(f"{path}: user {login!r}: `scope` must be a mapping.")
        unknown_scope = set(scope) - {"region"}
        if unknown_scope:
            raise ConfigError(
                f"{path}: user {login!r}: unsupported scope keys {sorted(unknown_scope)}."
            )
        login_key = str(login).lower()
        users[login_key] = User(
            login=login_key,
            name=str(entry.get("name") or login),
            groups=frozenset(groups),
            scope_region=scope.get("region"),
            emails=tuple(str(e) for e in entry.get("emails") or ()),
        )
    restricted_raw = data.get("restricted_tables") or {}
    if not isinstance(restricted_raw, dict):
        raise ConfigError(f"{path}: `restricted_tables` must map table names to group lists.")
    restricted = {
        str(table).lower(): frozenset(groups or []) for table, groups in restricted_raw.items()
    }
    return Directory(users=users, restricted_tables=restricted)
