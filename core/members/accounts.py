"""Member use cases: registration, invitation, verification, linking, privacy."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.kernel.clock import aware
from core.kernel.errors import UserError
from core.kernel.features import PrivacyHook
from core.kernel.german_format import echoed
from core.kernel.input_text import without_invisibles
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members.roles import DIGESTS, ROLES
from core.messaging.outbox import enqueue
from core.store.models import Member, OneTimeCode
from core.store.unit_of_work import UnitOfWork

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
INVITE_VALIDITY = timedelta(days=30)
LINK_VALIDITY = timedelta(hours=1)
NAME_MAX = 120


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise UserError.of("members.bad_email", email=email[:80])
    return email


def check_name(name: str) -> str:
    # Invisible characters (zero-width spaces) do not make a name; names also come from
    # `import members`, not only through the assistant.
    name = without_invisibles(name).replace("\u200d", "")  # a joiner alone is no name
    name = " ".join(name.split())
    if len(name) < 2:
        raise UserError.of("members.name_missing")
    if len(name) > NAME_MAX:
        raise UserError.of("members.name_too_long", max=NAME_MAX)
    return name


@dataclass(frozen=True)
class NewMember:
    name: str
    role: str
    municipality_ags: str
    email: str | None = None
    telegram_chat_id: int | None = None
    consent: bool = False


async def check_member(uow: UnitOfWork, new: NewMember) -> NewMember:
    """The member as it would be stored, or ``UserError``; reads only, so a whole file can
    be checked before anything is written."""
    name = check_name(new.name)
    if new.role not in ROLES:
        raise UserError.of("members.bad_role", role=new.role, roles=", ".join(ROLES))
    email = normalise_email(new.email) if new.email else None
    if email and await uow.members.by_email(email):
        raise UserError.of("members.email_taken", email=email)
    if new.telegram_chat_id is not None and await uow.members.by_telegram(new.telegram_chat_id):
        raise UserError.of("members.telegram_taken")
    if await uow.municipalities.get(new.municipality_ags) is None:
        raise UserError.of("municipalities.unknown_ags", ags=echoed(new.municipality_ags))
    return replace(new, name=name, email=email)


async def add_member(uow: UnitOfWork, new: NewMember, now: datetime) -> Member:
    """Create a member after checking every field; raises ``UserError`` on bad input."""
    new = await check_member(uow, new)
    member = Member(
        name=new.name,
        role=new.role,
        municipality_ags=new.municipality_ags,
        email=new.email,
        telegram_chat_id=new.telegram_chat_id,
        consent_at=now if new.consent else None,
        created_at=now,
        preferred_channel="auto",
        digest="weekly",
    )
    uow.add(member)
    await uow.flush()
    return member


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


async def issue_code(uow: UnitOfWork, member: Member, purpose: str, now: datetime) -> str:
    """A one-time code for an invitation or for linking a second channel."""
    validity = INVITE_VALIDITY if purpose == "invite" else LINK_VALIDITY
    code = _new_code()
    uow.add(
        OneTimeCode(
            code_hash=_hash(code),
            member_id=member.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + validity,
        )
    )
    await uow.flush()
    return code


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code.replace('-', '')}"


async def redeem_code(uow: UnitOfWork, code: str, now: datetime) -> Member:
    """Consume a code; the caller then binds the new channel address to the member."""
    record = await uow.codes.by_hash(_hash(code))
    if record is None or record.used_at is not None or aware(record.expires_at) < now:
        raise UserError.of("members.code_invalid")
    member = await uow.members.get(record.member_id)
    if member is None or member.erased_at is not None:
        raise UserError.of("members.code_invalid")
    record.used_at = now
    return member


async def link_telegram(uow: UnitOfWork, member: Member, chat_id: int) -> None:
    other = await uow.members.by_telegram(chat_id)
    if other is not None and other.id != member.id:
        raise UserError.of("members.telegram_taken")
    member.telegram_chat_id = chat_id
    member.telegram_unreachable_at = None


async def link_email(uow: UnitOfWork, member: Member, email: str) -> None:
    email = normalise_email(email)
    other = await uow.members.by_email(email)
    if other is not None and other.id != member.id:
        raise UserError.of("members.email_taken", email=email)
    member.email = email
    member.email_suspended_at = None


async def verify(uow: UnitOfWork, member_id: int, staff_id: int | None, now: datetime) -> Member:
    member = await uow.members.get(member_id)
    if member is None or member.erased_at is not None:
        raise UserError.of("members.unknown_id", id=member_id)
    if member.verified_at is None:
        member.verified_at = now
        member.verified_by = staff_id
        _tell_verified(uow, member, now)
    return member


def _tell_verified(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """Unverified members who asked for a grant were promised word once staff confirm."""
    if member.consent_at is None or member.is_staff:
        return  # no consent yet: nothing is sent to them (the first contact asks for it)
    reply = Reply(
        t("members.verified_notice", name=member.name),
        [Choice(t("members.verified_apply"), "/antrag")],
    )
    enqueue(
        uow,
        member,
        reply,
        kind="member_verified",
        subject=t("members.verified_subject"),
        now=now,
        dedupe_key=f"member:{member.id}:verified",
    )


def set_digest(member: Member, digest: str) -> None:
    if digest not in DIGESTS:
        raise UserError.of("settings.bad_digest")
    member.digest = digest


def set_channel(member: Member, channel: str) -> None:
    if channel == "telegram" and member.telegram_chat_id is None:
        raise UserError.of("settings.no_telegram")
    if channel == "email" and not member.email:
        raise UserError.of("settings.no_email")
    if channel not in ("auto", "telegram", "email"):
        raise UserError.of("settings.bad_channel")
    member.preferred_channel = channel


async def export_data(uow: UnitOfWork, member: Member, hooks: Sequence[PrivacyHook]) -> bytes:
    """Everything stored about a member (DSGVO Art. 15), as JSON; ``hooks`` add the
    records of the other features under their names."""
    posts = await uow.posts.by_author(member.id)
    matches = await uow.matches.for_member(
        member.id, ("proposed", "suggested", "accepted", "declined", "stale")
    )
    messages = await uow.outbox.for_member(member.id)
    # Read, not reached through member.municipality: a member registered in this very
    # transaction (a /daten kept during registration) has that relation not loaded.
    town = await uow.municipalities.get(member.municipality_ags)

    def ts(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    data = {
        "member": {
            "id": member.id,
            "name": member.name,
            "email": member.email,
            "role": member.role,
            "municipality": {"ags": member.municipality_ags, "name": town.name if town else None},
            "telegram_chat_id": member.telegram_chat_id,
            "preferred_channel": member.preferred_channel,
            "digest": member.digest,
            "consent_at": ts(member.consent_at),
            "verified_at": ts(member.verified_at),
            "created_at": ts(member.created_at),
        },
        "posts": [
            {
                "id": p.id,
                "kind": p.kind,
                "title": p.title,
                "body": p.body,
                "topics": p.topics,
                "status": p.status,
                "created_at": ts(p.created_at),
                "expires_at": ts(p.expires_at),
            }
            for p in posts
        ],
        "matches": [
            {
                "id": m.id,
                "offer": m.offer_id,
                "request": m.request_id,
                "status": m.status,
                "reason": m.reason,
                "created_at": ts(m.created_at),
            }
            for m in matches
        ],
        "messages": [
            {"channel": o.channel, "kind": o.kind, "text": o.text, "created_at": ts(o.created_at)}
            for o in messages
        ],
    }
    for hook in hooks:
        if hook.export is not None:
            data[hook.name] = await hook.export(uow, member)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


async def erase(
    uow: UnitOfWork, member: Member, now: datetime, tz: ZoneInfo, hooks: Sequence[PrivacyHook]
) -> None:
    """Erase personal data (DSGVO Art. 17); the row stays as a pseudonymous shell.

    The other features go first (grant records, for example, outlive the person for
    accounting law and are pseudonymised, not deleted)."""
    for hook in hooks:
        if hook.erase is not None:
            await hook.erase(uow, member, now, tz)
    for post in await uow.posts.by_author(member.id):
        post.status = "deleted"
        post.title = ""
        post.body = ""
        post.topics = []
        post.updated_at = now
        await uow.matches.stale_for_post(post.id)
    for message in await uow.outbox.for_member(member.id):
        if message.status == "pending":
            message.status = "cancelled"
        message.text = ""
        message.address = ""
    member.name = f"Gelöschtes Mitglied {member.id}"
    member.email = None
    member.telegram_chat_id = None
    member.erased_at = now
    member.digest = "none"
