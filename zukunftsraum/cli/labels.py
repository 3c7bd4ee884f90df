"""Roles, states and kinds in the shell: shown with their German labels, accepted as either.

Staff read "bewilligt" in a list and may type it back (``grants list --state bewilligt``);
the stored codes (``approved``) keep working for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence

from rich.console import Console
from rich.table import Table

from core.grants import applications as grants
from core.grants.views import state_label
from core.kernel.errors import UserError
from core.kernel.grammar import fold
from core.kernel.texts import all_keys, t
from core.members.roles import ROLES, role_label

ALL = ("all", "alle")
FORMATS = ("table", "json")


def _parse(text: str, codes: Iterable[str], label: Callable[[str], str]) -> str | None:
    wanted = fold(" ".join(text.split()))
    for code in codes:
        if wanted in (fold(code), fold(label(code))):
            return code
    return None


def parse_state(text: str) -> str | None:
    """A grant state from its code or German label; None when unknown."""
    return _parse(text, grants.STATES, state_label)


def state_choices() -> str:
    return ", ".join(state_label(s) for s in grants.STATES)


def parse_role(text: str) -> str | None:
    """A role from its code or German label ("Geschäftsstelle des Netzwerks")."""
    return _parse(text, ROLES, role_label)


def role_choices() -> str:
    return ", ".join(f"{role} ({role_label(role)})" for role in ROLES)


def event_kind_label(kind: str) -> str:
    return t(f"events.kind.{kind}")


EVENT_STATUS = {"draft": "Entwurf", "published": "veröffentlicht", "cancelled": "abgesagt"}


def event_status_label(status: str) -> str:
    return EVENT_STATUS.get(status, status)


def print_rows(
    out: Console, rows: Sequence[dict], format: str, headers: Sequence[str], cells
) -> None:
    """Rows as JSON Lines (every field) or as a table (``cells`` gives a row's columns)."""
    if format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    table = Table(*headers)
    for row in rows:
        table.add_row(*cells(row))
    out.print(table)


def staff_message(error: UserError) -> str:
    """A use case's error for staff: the shell's own words where the member's would mislead
    ("Bitte nennen Sie Ihren Namen."), else the member text."""
    key = f"staff_errors.{error.key}"
    if error.key and key in all_keys():
        return t(key, **error.values)
    return error.message
