"""Queue messages to members in the transaction that causes them."""

from __future__ import annotations

import base64
from datetime import datetime

from core.models import Member, OutboxMessage
from core.replies import Reply


def channel_for(member: Member) -> tuple[str, str] | None:
    """Where a message to this member goes now, or None if nowhere."""
    telegram = member.telegram_chat_id is not None and member.telegram_unreachable_at is None
    email = bool(member.email) and member.email_suspended_at is None
    order = ["telegram", "email"]
    if member.preferred_channel == "email":
        order.reverse()
    for channel in order:
        if channel == "telegram" and telegram:
            return "telegram", str(member.telegram_chat_id)
        if channel == "email" and email:
            return "email", member.email or ""
    return None


def enqueue(
    uow,
    member: Member,
    reply: Reply,
    *,
    kind: str,
    now: datetime,
    subject: str = "",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Add a message for ``member``; a member with no reachable channel gets none."""
    target = channel_for(member)
    if target is None or member.erased_at is not None:
        return None
    channel, address = target
    message = OutboxMessage(
        member_id=member.id,
        channel=channel,
        address=address,
        kind=kind,
        subject=subject,
        text=reply.text,
        choices=reply.to_json()["choices"],
        attachments=attachments_json(reply),
        ref=reply.ref,
        dedupe_key=dedupe_key,
        status="pending",
        attempts=0,
        created_at=now,
        not_before=not_before or now,
    )
    uow.add(message)
    return message


def attachments_json(reply: Reply) -> list[dict]:
    """Attachments as stored in the outbox row (base64, JSON-safe)."""
    return [
        {
            "filename": a.filename,
            "content_type": a.content_type,
            "data": base64.b64encode(a.data).decode("ascii"),
        }
        for a in reply.attachments
    ]
