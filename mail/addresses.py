"""The assistant's addresses: one mailbox, with a per-member token after the "+"."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"^[a-z0-9]{6,40}$")


def split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local, domain.lower()


def reply_address(mail_from: str, token: str | None) -> str:
    """``assistent+TOKEN@domain`` for a token, else the plain address."""
    if not token:
        return mail_from
    local, domain = split(mail_from)
    return f"{local}+{token}@{domain}"


def token_from(recipients: Iterable[str], mail_from: str) -> str | None:
    """The token of the first recipient that is the assistant's address with a token."""
    local, domain = split(mail_from)
    prefix = f"{local.lower()}+"
    for recipient in recipients:
        r_local, r_domain = split(recipient)
        r_local = r_local.lower()
        if r_domain == domain and r_local.startswith(prefix):
            token = r_local[len(prefix) :]
            if _TOKEN.match(token):
                return token
    return None


def domain_of(mail_from: str) -> str:
    return split(mail_from)[1]
