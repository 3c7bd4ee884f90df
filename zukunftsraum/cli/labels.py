"""Roles, states and kinds in the shell: shown with their German labels, accepted as either.

Staff read "bewilligt" in a list and may type it back (``grants list --state bewilligt``);
the stored codes (``approved``) keep working for scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from core.events.ics import KIND_WORDS
from core.grants import applications as grants
from core.grants.views import state_label
from core.kernel.errors import UserError
from core.kernel.grammar import fold
from core.kernel.texts import all_keys, t
from core.members.roles import ROLES, role_label

ALL = ("all", "alle")
EVENT_KINDS = ("seminar", "course", "meeting")
FORMATS = ("tabelle", "table", "json")  # "table": the word scripts used before


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


def parse_event_kind(text: str) -> str | None:
    """An event's kind from its code, its label ("Netzwerktreffen") or a calendar word
    ("kurs", "webinar")."""
    return _parse(text, EVENT_KINDS, event_kind_label) or KIND_WORDS.get(fold(text.strip()))


EVENT_STATUS = {"draft": "Entwurf", "published": "veröffentlicht", "cancelled": "abgesagt"}
KNOWLEDGE_STATUS = {"draft": "Entwurf", "published": "veröffentlicht", "withdrawn": "zurückgezogen"}
MATCH_STATUS = {
    "proposed": "Vorschlag",
    "suggested": "Vielleicht passend",
    "accepted": "angenommen",
    "declined": "abgelehnt",
    "stale": "veraltet",
}


def event_status_label(status: str) -> str:
    return EVENT_STATUS.get(status, status)


def knowledge_status_label(status: str) -> str:
    return KNOWLEDGE_STATUS.get(status, status)


def parse_knowledge_status(text: str) -> str | None:
    """A knowledge entry's status from its code or label ("zurückgezogen")."""
    return _parse(text, KNOWLEDGE_STATUS, knowledge_status_label)


def match_status_label(status: str) -> str:
    return MATCH_STATUS.get(status, status)


def parse_match_status(text: str) -> str | None:
    """A match status from its code or label ("Vielleicht passend")."""
    return _parse(text, MATCH_STATUS, match_status_label)


def labels_of(mapping: dict[str, str]) -> str:
    return ", ".join(mapping.values())


def staff_message(error: UserError) -> str:
    """A use case's error for staff: the shell's own words where the member's would mislead
    ("Bitte nennen Sie Ihren Namen."), else the member text."""
    key = f"staff_errors.{error.key}"
    if error.key and key in all_keys():
        return t(key, **error.values)
    return error.message
