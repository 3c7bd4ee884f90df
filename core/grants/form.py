"""The grant application as a reply form for email.

The assistant mails a form with one field per line; the member replies with
the fields filled in. Parsing is forgiving: labels in any case, with or
without umlauts, quoted lines ("> Titel: …") and continuation lines (the
description and the cost lines span several lines).
"""

from __future__ import annotations

import re

from core.grants.costs import CostLine
from core.kernel.grammar import fold
from core.kernel.money import format_euro
from core.kernel.texts import t
from core.store.models import GrantApplication

# Form label (folded) -> field name; the first label is the one printed.
LABELS = {
    "zweck": "purpose",
    "titel": "title",
    "beschreibung": "description",
    "partnerkommunen": "partners",
    "partner": "partners",
    "kosten": "costs",
    "kostenplan": "costs",
}
MULTI_LINE = frozenset({"description", "partners", "costs"})
LISTS = frozenset({"partners", "costs"})
PRINTED = ("Zweck", "Titel", "Beschreibung", "Partnerkommunen", "Kosten")
_LABEL_LINE = re.compile(r"^\s*([A-Za-zÄÖÜäöüß]+)\s*:\s*(.*)$")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
# Where a letter ends: "Mit freundlichen Grüßen", "Viele Grüße", "MfG", a signature mark.
_CLOSING = re.compile(
    r"^\s*(?:--\s*$|mit freundlichen gr|freundliche gr|viele gr|beste gr|herzliche gr|"
    r"liebe gr|sch[oö]ne gr|gru[ßs]|mfg\b)",
    re.IGNORECASE,
)


def parse(text: str) -> dict[str, str]:
    """Field name -> value for the fields filled in; the first filled occurrence wins
    (a reply often quotes the empty form below the filled one)."""
    blocks: list[tuple[str, list[str]]] = []
    open_block = False  # whether following lines still belong to the last field
    quoted_block = False
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        quoted = bool(_QUOTE.match(raw_line))
        line = _QUOTE.sub("", raw_line).rstrip()
        match = _LABEL_LINE.match(line)
        name = LABELS.get(fold(match.group(1))) if match else None
        if match and name is not None:
            blocks.append((name, [match.group(2).strip()]))
            open_block, quoted_block = name in MULTI_LINE, quoted
        elif open_block and quoted == quoted_block and not _CLOSING.match(line):
            values = blocks[-1][1]
            if not line.strip() and blocks[-1][0] in LISTS and any(values):
                open_block = False  # a list ends at its first blank line (a signature follows)
            else:
                values.append(line.strip())
        else:
            open_block = False
    fields: dict[str, str] = {}
    for name, lines in blocks:
        value = "\n".join(lines).strip()
        if value and name not in fields:
            fields[name] = value
    return fields


def looks_like_form(text: str) -> bool:
    """At least two form labels at line starts: a filled form, not a chat message."""
    names = set()
    for line in text.splitlines():
        match = _LABEL_LINE.match(_QUOTE.sub("", line))
        if match and fold(match.group(1)) in LABELS:
            names.add(LABELS[fold(match.group(1))])
    return len(names) >= 2


def render(application: GrantApplication | None) -> str:
    """The form, blank or filled with a draft's values."""
    values = {name: "" for name in ("purpose", "title", "description", "partners", "costs")}
    if application is not None:
        if application.purpose:
            values["purpose"] = t(f"grants.purpose_word.{application.purpose}")
        values["title"] = application.title or ""
        values["description"] = application.description or ""
        values["partners"] = ", ".join(p["name"] for p in application.partners or [])
        values["costs"] = "\n".join(
            _cost_text(CostLine.from_json(c)) for c in application.cost_lines or []
        )
    names = ("purpose", "title", "description", "partners", "costs")
    blocks = []
    for label, name in zip(PRINTED, names, strict=True):
        value = values[name]
        separator = "\n" if "\n" in value or (name == "costs" and value) else " "
        blocks.append(f"{label}:{separator}{value}".rstrip())
    return "\n".join(blocks)


def _cost_text(line: CostLine) -> str:
    """A cost line written back the way a member would type it."""
    if line.days is not None and line.rate_cents is not None:
        days = line.days.replace(".", ",")
        return f"{line.label} {days} Tage à {format_euro(line.rate_cents)}"
    return f"{line.label} {format_euro(line.amount_cents)}"
