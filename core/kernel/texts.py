"""The message catalogue: every text a member reads, in German, in one file.

Texts live in ``core/data/messages.de.toml`` so they can be reviewed and
edited without touching code. ``t("section.key", name=...)`` formats one.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from string import Formatter

from core.kernel import german_format


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


class _CatalogueFormatter(Formatter):
    """``str.format`` plus plural forms: ``{count:#Angebot|Angebote}`` -> "1 Angebot",
    "3 Angebote"; ``{count:Angebot|Angebote}`` gives the noun alone. The number is written
    the German way and the form chosen by the German plural rule (CLDR, through Babel)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" not in format_spec:
            return super().format_field(value, format_spec)
        with_number = format_spec.startswith("#")
        one, _, other = format_spec.removeprefix("#").partition("|")
        count = int(value)  # a plural form needs a count; anything else is a catalogue bug
        if with_number:
            return german_format.counted(count, one, other)
        return german_format.plural(count, one, other)


_FORMATTER = _CatalogueFormatter()


def t(key: str, **values: object) -> str:
    """The text for ``key`` with ``{placeholders}`` filled in."""
    return _FORMATTER.format(_catalogue()[key], **values)


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
    return german_format.number(value)
