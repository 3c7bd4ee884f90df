"""The message catalogue: every text a member reads, in German, in one file.

Texts live in ``core/data/messages.de.toml`` so they can be reviewed and
edited without touching code. ``t("section.key", name=...)`` formats one.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from string import Formatter


@cache
def _catalogue() -> dict[str, str]:
    raw = tomllib.loads(files("core.data").joinpath("messages.de.toml").read_text("utf-8"))
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(name, value)
            else:
                flat[name] = value.strip("\n")

    walk("", raw)
    return flat


def t(key: str, **values: object) -> str:
    """The text for ``key`` with ``{placeholders}`` filled in."""
    return _catalogue()[key].format(**values)


def template(key: str) -> str:
    """The text for ``key`` with its ``{placeholders}`` unfilled."""
    return _catalogue()[key]


def all_keys() -> list[str]:
    return sorted(_catalogue())


def raw(key: str) -> str:
    """The unformatted text, placeholders and all."""
    return _catalogue()[key]


def placeholders(key: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(raw(key)) if field}


def format_number(value: int) -> str:
    """German thousands separator: 12.345."""
    return f"{value:,}".replace(",", ".")
