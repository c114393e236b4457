"""Access rules: which groups may read a document, from `acl.yaml` in the ingested folder."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from agents.store.users import EVERYONE, read_yaml

ACL_FILE = "acl.yaml"


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
