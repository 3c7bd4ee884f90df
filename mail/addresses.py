"""The assistant's addresses: one mailbox, with a per-member token after the "+".

``mail_from`` is the operator's ``ZR_MAIL_FROM``, either a plain address or
"Name <address>"; every function here accepts both. Reply addresses carry a reply token
(``assistent+TOKEN@domain``); envelope senders carry a per-message bounce token
(``assistent+b-TOKEN@domain``, VERP), which no reply token can be mistaken for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import parseaddr
from functools import lru_cache

# Reply tokens are case-sensitive: letters and digits, as ``core.messaging.delivery`` makes them.
_TOKEN = re.compile(r"^[A-Za-z0-9]{6,40}$")
BOUNCE_PREFIX = "b-"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# A bare dot-atom address, which ``parseaddr`` returns unchanged: no parsing needed.
_BARE = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*")


def mailbox_of(mail_from: str) -> str:
    """The bare address of ``mail_from`` ("Name <a@b>" -> "a@b")."""
    value = mail_from.strip()
    if _BARE.fullmatch(value):
        return value
    # Every incoming mail asks several times for the operator's "Name <address>": parsed once.
    # (Only short values are kept: a hostile header can be megabytes long.)
    return _parsed_mailbox(value) if len(value) <= 320 else _parse_mailbox(value)


def _parse_mailbox(value: str) -> str:
    _, address = parseaddr(value)
    return address or value


_parsed_mailbox = lru_cache(maxsize=256)(_parse_mailbox)


def display_name_of(mail_from: str) -> str:
    """The display name of ``mail_from``, or "" for a plain address."""
    name, address = parseaddr(mail_from.strip())
    return name.strip() if address else ""


def split(address: str) -> tuple[str, str]:
    local, _, domain = mailbox_of(address).rpartition("@")
    return local, domain.lower()


def reply_address(mail_from: str, token: str | None) -> str:
    """``assistent+TOKEN@domain`` for a token, else the plain address."""
    if not token:
        return mailbox_of(mail_from)
    local, domain = split(mail_from)
    return f"{local}+{token}@{domain}"


def bounce_address(mail_from: str, token: str) -> str:
    """The envelope sender of one message: ``assistent+b-TOKEN@domain``."""
    return reply_address(mail_from, BOUNCE_PREFIX + token)


def _tagged(recipients: Iterable[str], mail_from: str) -> Iterable[str]:
    """What follows "local+" in recipients that are the assistant's address with a tag.

    The local part and the domain compare case-insensitively, the tag keeps its case.
    """
    local, domain = split(mail_from)
    prefix = f"{local.lower()}+"
    for recipient in recipients:
        r_local, r_domain = split(recipient)
        if r_domain == domain and r_local.lower().startswith(prefix):
            yield r_local[len(prefix) :]


def token_from(recipients: Iterable[str], mail_from: str) -> str | None:
    """The reply token of the first recipient that is the assistant's address with a token."""
    return next((tag for tag in _tagged(recipients, mail_from) if _TOKEN.match(tag)), None)


def bounce_token_from(recipients: Iterable[str], mail_from: str) -> str | None:
    """The bounce token of the first recipient that is one of our envelope senders."""
    for tag in _tagged(recipients, mail_from):
        if tag[:2].lower() == BOUNCE_PREFIX and _TOKEN.match(tag[2:]):
            return tag[2:]
    return None


def is_own(address: str | None, mail_from: str) -> bool:
    """Is ``address`` the assistant itself (plain, with any tag, in any case)?"""
    if not address:
        return False
    local, domain = split(mail_from)
    a_local, a_domain = split(address)
    return a_domain == domain and a_local.lower().split("+", 1)[0] == local.lower()


def domain_of(mail_from: str) -> str:
    return split(mail_from)[1]
