"""Queue messages to members in the transaction that causes them."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from core.kernel.replies import Attachment, Reply
from core.store.models import Member, OutboxMessage


def channel_for(member, only: str | None = None) -> tuple[str, str] | None:
    """Where a message to this member goes now, or None if nowhere (``only``: that channel)."""
    telegram = member.telegram_chat_id is not None and member.telegram_unreachable_at is None
    email = bool(member.email) and member.email_suspended_at is None
    order = ["telegram", "email"]
    if member.preferred_channel == "email":
        order.reverse()
    if only is not None:
        order = [only]
    for channel in order:
        if channel == "telegram" and telegram:
            return "telegram", str(member.telegram_chat_id)
        if channel == "email" and email:
            return "email", member.email or ""
    return None


def enqueue(uow, member: Member, reply: Reply, **fields) -> OutboxMessage | None:
    """Add a message for ``member``; a member with no reachable channel gets none.

    Keyword arguments as for ``message_fields``; ``channel`` forces one channel (e.g. the
    staff digest by email), and the message is dropped when the member cannot be reached there.
    """
    message = build(member, reply, **fields)
    if message is not None:
        uow.add(message)
    return message


def build(member: Member, reply: Reply, **fields) -> OutboxMessage | None:
    """The outbox row ``enqueue`` would add."""
    values = message_fields(member, reply, **fields)
    return OutboxMessage(**values) if values is not None else None


def message_fields(
    member,
    reply: Reply,
    *,
    kind: str,
    now: datetime,
    subject: str = "",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    channel: str | None = None,
) -> dict | None:
    """An outbox row's column values; bulk writers insert many of these at once.

    ``member`` is a Member or any row with its reachability columns.
    """
    target = channel_for(member, only=channel)
    if target is None or member.erased_at is not None:
        return None
    channel, address = target
    return {
        "member_id": member.id,
        "channel": channel,
        "address": address,
        "kind": kind,
        "subject": subject,
        "text": reply.text,
        "choices": reply.to_json()["choices"],
        "ref": reply.ref,
        "dedupe_key": dedupe_key,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "not_before": not_before or now,
        "attachments": [attachment_json(a) for a in reply.attachments],
        "meta": {},
    }


def queue_answers(
    uow,
    member: Member | None,
    channel: str,
    address: str,
    replies: list[Reply],
    *,
    now: datetime,
    delay: timedelta = timedelta(0),
    unconfirmed: int = 0,
) -> list[OutboxMessage]:
    """Answers that could not be delivered while the member waited go through the outbox.

    They go where the member can be reached now (the channel they wrote from may have just
    turned out dead), or back to the address they wrote from when they are no member (yet).
    ``unconfirmed`` 1: the first attempt may have arrived (timeout), so the outbox retries it
    only once. Without any reachable channel the answers are left "unrouted" for the staff.
    """
    rows = []
    for reply in replies:
        fields = {"kind": "answer", "now": now, "not_before": now + delay}
        erased = member is not None and member.erased_at is not None
        values = message_fields(member, reply, **fields) if member and not erased else None
        if values is None:
            values = _row_to(member, channel, address, reply, now + delay, now)
        values["unconfirmed"] = unconfirmed
        row = OutboxMessage(**values)
        uow.add(row)
        rows.append(row)
    return rows


def _row_to(member, channel, address, reply: Reply, due: datetime, now: datetime) -> dict:
    # An erased member still gets the answer to the erasure, at the address they wrote from.
    current = member if member is not None and member.erased_at is None else None
    return {
        "member_id": current.id if current is not None else None,
        "channel": channel,
        "address": address,
        "kind": "answer",
        "subject": "",
        "text": reply.text,
        "choices": reply.to_json()["choices"],
        "ref": reply.ref,
        "status": "unrouted" if current is not None else "pending",
        "attempts": 0,
        "created_at": now,
        "not_before": due,
        "attachments": [attachment_json(a) for a in reply.attachments],
        "meta": {},
    }


def attachment_json(attachment: Attachment) -> dict:
    """The stored form of a file: {"filename", "content_type", "data" (base64)}."""
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "data": base64.b64encode(attachment.data).decode("ascii"),
    }


async def failed_messages(uow, channel: str, limit: int = 200) -> list[OutboxMessage]:
    """Messages of ``channel`` given up on, oldest first (for operators)."""
    return list(await uow.outbox.failed(channel, limit))


async def retry_failed(uow, message_id: int, now: datetime) -> bool:
    """Queue a message given up on once more, as if new."""
    message = (await uow.outbox.many([message_id]) or [None])[0]
    if message is None or message.status != "failed":
        return False
    message.status, message.attempts, message.not_before = "pending", 0, now
    message.claimed_until = None
    return True
