"""A semantic model written as YAML a person can edit: sections and entries in block style, small
values in flow style, and `# ...` comments before the keys they are about."""

from __future__ import annotations

from typing import Any

import yaml

BLOCK_LISTS = ("joins",)


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9,
                          sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _block(path: tuple[str, ...]) -> bool:
    """Sections and their entries are blocks; what is inside an entry is flow."""
    return len(path) <= 1


def dump_model(data: dict[str, Any], comments: dict[tuple[str, ...], list[str]],
               header: list[str]) -> str:
    """The YAML text of `data`, with `comments` (path -> lines) before their keys."""
    out = [f"# {line}" if line else "#" for line in header]
    _emit(data, (), comments, out)
    return "\n".join(out) + "\n"


def _emit(data: dict[str, Any], path: tuple[str, ...],
          comments: dict[tuple[str, ...], list[str]], out: list[str]) -> None:
    indent = "  " * len(path)
    for key, value in data.items():
        here = (*path, str(key))
        if len(path) == 0:
            out.append("")
        for line in comments.get(here, []):
            out.append(f"{indent}# {line}")
        if isinstance(value, dict) and value and _block(path):
            out.append(f"{indent}{key}:")
            _emit(value, here, comments, out)
        elif isinstance(value, list) and value and str(key) in BLOCK_LISTS:
            out.append(f"{indent}{key}:")
            out.extend(f"{indent}  - {_flow(item)}" for item in value)
        else:
            out.append(f"{indent}{key}: {_flow(value)}")
