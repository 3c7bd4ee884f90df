"""What the email dispatcher needs to know about a queued message, without the ORM.

Preparing a message fixes its Message-ID and its reply token on first delivery attempt and
stores both in the row's ``meta``, so a retry sends the very same mail (same Message-ID, same
reply address) and an answer to it can be tied to the message and its choices.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.kernel.replies import Attachment, Choice
from core.messaging import delivery
from core.store.models import OutboxMessage
from core.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class EmailToSend:
    id: int
    address: str
    subject: str
    text: str
    message_id: str  # without angle brackets
    reply_token: str | None
    bounce_token: str = ""  # the envelope sender's tag (VERP)
    choices: list[Choice] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    # "auto-generated" for mail the assistant starts, "auto-replied" for answers.
    auto_submitted: str = "auto-generated"
    ref: str | None = None
    kind: str = ""  # the outbox message's kind (for the running count of large sends)


async def prepare(
    uow: UnitOfWork, message: OutboxMessage, now: datetime, new_message_id: Callable[[], str]
) -> EmailToSend:
    meta = dict(message.meta or {})
    if not meta.get("message_id"):
        meta["message_id"] = new_message_id()
    if message.member_id is not None and not meta.get("reply_token"):
        meta["reply_token"] = await delivery.reply_token(
            uow, message.member_id, message.ref, now, outbox_id=message.id
        )
    if not message.bounce_token:
        message.bounce_token = delivery.new_token()
    message.meta = meta  # a new dict, so the JSON column is written
    return EmailToSend(
        id=message.id,
        address=message.address,
        subject=message.subject,
        text=message.text,
        message_id=meta["message_id"],
        reply_token=meta.get("reply_token"),
        bounce_token=message.bounce_token,
        # Choices about one of several listed items are named in the text ("3 PAUSIEREN").
        choices=[
            Choice(c["label"], c["command"]) for c in message.choices or [] if "item" not in c
        ],
        attachments=[
            Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
            for a in message.attachments or []
        ],
        in_reply_to=meta.get("in_reply_to"),
        references=list(meta.get("references") or []),
        auto_submitted=meta.get("auto_submitted") or "auto-generated",
        ref=message.ref,
        kind=message.kind,
    )
