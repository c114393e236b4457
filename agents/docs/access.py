"""Access rules: which groups may read a document, from `acl.yaml` in the ingested folder."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from agents.store.users import EVERYONE, User, read_yaml

ACL_FILE = "acl.yaml"
MAX_SLUG_CHARS = 40


@dataclass(frozen=True)
class AccessRules:
    default: tuple[str, ...]
    rules: tuple[tuple[str, tuple[str, ...]], ...]

    def groups_for(self, relative_path: str) -> tuple[str, ...]:
        for pattern, groups in self.rules:
            if fnmatch.fnmatch(relative_path, pattern):
                return groups
        return self.default


def load_access_rules(root: Path) -> AccessRules:
    """`acl.yaml` in the ingested folder: path globs -> groups, first match wins."""
    path = root / ACL_FILE
    if not path.exists():
        return AccessRules((EVERYONE,), ())
    data = read_yaml(path) or {}
    default = tuple(data.get("default") or [EVERYONE])
    rules = tuple(
        (str(rule["pattern"]), tuple(rule.get("groups") or ())) for rule in data.get("rules") or []
    )
    return AccessRules(default, rules)


def upload_folder_name(login: str) -> str:
    """A folder name unique to the exact login: a readable slug, then a hash of the login.

    Logins come from users.yaml or are e-mails (OIDC users missing from it): the slug keeps
    characters safe in a folder name, the hash tells apart logins the slug makes alike.
    """
    slug = re.sub(r"[^a-z0-9@._-]+", "_", login.lower()).strip("._-")[:MAX_SLUG_CHARS]
    digest = hashlib.sha256(login.encode("utf-8")).hexdigest()[:10]
    return f"{slug.strip('._-') or 'user'}-{digest}"


PRIVATE_PREFIX = "_private_upload_:"


def private_group(user: User) -> str:
    """The group of a user's unpublished uploads: theirs alone (no comma, so one RLS group)."""
    return PRIVATE_PREFIX + upload_folder_name(user.login)


def reading_groups(user: User) -> frozenset[str]:
    """What a user reads with: their groups, `everyone`, and their own unpublished uploads."""
    return user.all_groups | {private_group(user)}
