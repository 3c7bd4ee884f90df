"""Member roles and channel preferences, with their German labels."""

from __future__ import annotations

from core.kernel.texts import t

ROLES = ("mayor", "district_admin", "municipal_staff", "volunteer", "network_staff")
SELF_SERVICE_ROLES = ROLES[:4]  # staff are appointed, never self-registered
DIGESTS = ("none", "daily", "weekly")
CHANNELS = ("auto", "telegram", "email")


def role_label(role: str) -> str:
    return t(f"roles.{role}")


def person_role(role: str) -> str:
    """The role beside one person's name, as in a contact."""
    return t(f"roles.of_person.{role}")


def parse_role(text: str) -> str | None:
    """Accept the role key or its German label (any case)."""
    wanted = text.strip().lower()
    for role in ROLES:
        if wanted in (role, role_label(role).lower()):
            return role
    return None
