"""Users, groups and data scopes from `seed_data/users.yaml`.

Rights come from this file (or the identity provider mapped onto it), never from the chat.
A data scope is declared generically: under `scopes`, a key (any name) lists the tables it
filters, each by one of its columns (`table`, `column`) holding the user's value for that key,
or by a column referencing a parent table of the same scope (`references: schema.table.column`);
`agents/store/roles.py` turns them into row level security on whatever schema is connected.
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
    # (scope key, value) pairs, sorted: the rows this user sees (see `scopes` in users.yaml).
    scope: tuple[tuple[str, str], ...] = ()
    emails: tuple[str, ...] = ()

    @property
    def scope_text(self) -> str:
        """The data scope in words ("region EMEA"), empty when the user sees every row."""
        return ", ".join(f"{key} {value}" for key, value in self.scope)

    @property
    def scope_values(self) -> str:
        """The data scope's values alone ("EMEA"), as notes under answers name it."""
        return ", ".join(value for _, value in self.scope)

    @property
    def all_groups(self) -> frozenset[str]:
        """The user's groups plus `everyone`, which every user is implicitly in."""
        return self.groups | {EVERYONE}


@dataclass(frozen=True)
class ScopeRule:
    """One table a scope key filters: rows whose `column` holds the user's value, or, with
    `references` ("schema.table.column"), rows whose parent row there is visible."""

    table: str
    column: str
    references: str | None = None


@dataclass(frozen=True)
class Directory:
    users: dict[str, User]
    restricted_tables: dict[str, frozenset[str]]
    # scope key -> the tables it filters.
    scopes: dict[str, tuple[ScopeRule, ...]] = field(default_factory=dict)

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


def read_config_text(path: Path) -> str:
    """A configuration file's text; one that cannot be read raises ConfigError naming why."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text ({exc.reason}).") from exc


def read_yaml(path: Path) -> Any:
    """Parse a configuration file; a malformed one raises ConfigError naming file, line, problem."""
    text = read_config_text(path)
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
    scopes = _scopes(data.get("scopes"), path)
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
        unknown_scope = set(scope) - set(scopes)
        if unknown_scope:
            raise ConfigError(
                f"{path}: user {login!r}: scope keys {sorted(unknown_scope)} are not declared "
                f"under `scopes:` (declared: {sorted(scopes) or 'none'})."
            )
        login_key = str(login).lower()
        users[login_key] = User(
            login=login_key,
            name=str(entry.get("name") or login),
            groups=frozenset(groups),
            scope=tuple(sorted((str(k), str(v)) for k, v in scope.items() if v is not None)),
            emails=tuple(str(e) for e in entry.get("emails") or ()),
        )
    restricted_raw = data.get("restricted_tables") or {}
    if not isinstance(restricted_raw, dict):
        raise ConfigError(f"{path}: `restricted_tables` must map table names to group lists.")
    restricted = {
        str(table).lower(): frozenset(groups or []) for table, groups in restricted_raw.items()
    }
    return Directory(users=users, restricted_tables=restricted, scopes=scopes)


def _scopes(raw: Any, path: Path) -> dict[str, tuple[ScopeRule, ...]]:
    """The `scopes:` section: {key: [{table, column, references?}]}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: `scopes` must map a scope key to a list of tables.")
    scopes: dict[str, tuple[ScopeRule, ...]] = {}
    for key, rules in raw.items():
        if not isinstance(rules, list):
            raise ConfigError(f"{path}: scope {key!r} must list {{table, column}} entries.")
        parsed = []
        for rule in rules:
            if not isinstance(rule, dict) or not rule.get("table") or not rule.get("column"):
                raise ConfigError(f"{path}: scope {key!r}: each entry needs `table` and `column`.")
            table = str(rule["table"]).lower()
            references = rule.get("references")
            if "." not in table or (references and str(references).count(".") != 2):
                raise ConfigError(
                    f"{path}: scope {key!r}: `table` is schema.table and `references` is "
                    "schema.table.column."
                )
            parsed.append(ScopeRule(table, str(rule["column"]),
                                    str(references).lower() if references else None))
        tables = {r.table for r in parsed}
        for rule in parsed:
            parent = rule.references.rsplit(".", 1)[0] if rule.references else None
            if parent is not None and parent not in tables:
                # The child's rows follow the parent's visible rows: an unscoped parent would
                # show them all.
                raise ConfigError(f"{path}: scope {key!r}: {rule.table} references {parent}, "
                                  "which this scope does not filter; list it too.")
        scopes[str(key)] = tuple(parsed)
    return scopes
