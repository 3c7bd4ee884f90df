"""Incoming mail as a use case: store first, act once, answer in the same thread.

The mail adapter stores the raw bytes (``store``) before anything else happens, then hands a
parsed, channel-neutral ``MailIn`` to ``receive``. Here it is decided what the mail means:
nothing (automatic mail), a bounce to count, a reply from the wrong person, a command, the
answer to a numbered choice, the next step of a dialogue, or something not understood.
Whatever acts goes through ``Assistant.handle``; its answers are queued in the outbox as
replies to the member's mail, in the same transaction as the input's effects and its dedupe
record, so a mail is acted on exactly once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from core import delivery
from core.context import Sender
from core.grammar import Grammar
from core.models import InboundMail, Member, OutboxMessage, ProcessedEvent, ReplyToken
from core.outbox import attachment_json
from core.replies import Choice, Reply
from core.reply_words import command_for_word, picked_by_number
from core.store import UnitOfWork
from core.texts import t

if TYPE_CHECKING:
    from core.assistant import Assistant

log = logging.getLogger(__name__)

SOURCE = "email"  # processed_events source of incoming mails
LIMIT_SOURCE = "email-limit"  # processed_events source of the once-a-day answers
HARD_BOUNCES_TO_SUSPEND = 3
ANSWER_KIND = "email_answer"
MAX_REFERENCES = 10


@dataclass(frozen=True)
class Bounce:
    severity: str  # "hard" | "soft"
    addresses: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class MailIn:
    """What the mail adapter read from one incoming mail."""

    dedupe_key: str  # the Message-ID, or a digest of the raw bytes when it has none
    from_address: str | None
    text: str  # only what the sender newly wrote (quotes and signature removed)
    subject: str = ""  # without Re:/AW: prefixes
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    from_name: str = ""
    token: str | None = None  # from the reply address assistant+TOKEN@…
    body_command: tuple[str, str] | None = None  # (word, rest) from the first line
    subject_command: tuple[str, str] | None = None  # (word, rest incl. the body)
    automatic: str | None = None  # why the mail must not be answered
    bounce: Bounce | None = None
    notes: tuple[str, ...] = ()  # catalogue keys of hints for the answer
    inbound_id: int | None = None
    authentication: str | None = None  # "pass" | "fail" | "none"; None when not checked


class AlreadyProcessed(Exception):
    """Another worker acted on the same mail first."""


# --- storage: raw bytes before processing ---------------------------------------------------


async def store(
    uow: UnitOfWork,
    *,
    folder: str,
    uidvalidity: int,
    uid: int,
    message_id: str | None,
    raw: bytes,
    now: datetime,
) -> tuple[int, str]:
    """Keep an incoming mail; returns its id and status ("new" until processed).

    The same server message (folder, UIDVALIDITY, UID) is kept once.
    """
    existing = await uow.session.scalar(
        select(InboundMail).where(
            InboundMail.folder == folder,
            InboundMail.uidvalidity == uidvalidity,
            InboundMail.uid == uid,
        )
    )
    if existing is not None:
        return existing.id, existing.status
    row = InboundMail(
        folder=folder[:200],
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=(message_id or None) and message_id[:300],
        raw=raw,
        received_at=now,
        status="new",
    )
    uow.add(row)
    await uow.flush()
    return row.id, row.status


async def store_many(
    uow: UnitOfWork,
    *,
    folder: str,
    uidvalidity: int,
    mails: list[tuple[int, str | None, bytes]],
    now: datetime,
) -> dict[int, tuple[int, str]]:
    """Keep a batch of incoming mails (uid, Message-ID, raw) in one go; uid -> (id, status).

    Same rule as ``store``: a server message already kept is not stored again.
    """
    uids = [uid for uid, _, _ in mails]
    rows = await uow.session.execute(
        select(InboundMail.uid, InboundMail.id, InboundMail.status).where(
            InboundMail.folder == folder[:200],
            InboundMail.uidvalidity == uidvalidity,
            InboundMail.uid.in_(uids),
        )
    )
    kept = {uid: (row_id, status) for uid, row_id, status in rows.all()}
    new: dict[int, InboundMail] = {}
    for uid, message_id, raw in mails:
        if uid in kept or uid in new:
            continue
        new[uid] = InboundMail(
            folder=folder[:200],
            uidvalidity=uidvalidity,
            uid=uid,
            message_id=(message_id or None) and message_id[:300],
            raw=raw,
            received_at=now,
            status="new",
        )
        uow.add(new[uid])
    await uow.flush()
    return kept | {uid: (row.id, row.status) for uid, row in new.items()}


async def unprocessed(uow: UnitOfWork, limit: int = 100) -> list[int]:
    """Stored mails not processed yet (e.g. after a crash between storing and acting)."""
    rows = await uow.session.scalars(
        select(InboundMail.id)
        .where(InboundMail.status == "new")
        .order_by(InboundMail.id)
        .limit(limit)
    )
    return list(rows)


async def raw_of(uow: UnitOfWork, inbound_id: int) -> bytes:
    row = await uow.session.get(InboundMail, inbound_id)
    if row is None:
        raise LookupError(f"inbound mail {inbound_id} does not exist")
    return row.raw


async def mark(
    uow: UnitOfWork, inbound_id: int | None, status: str, now: datetime, error: str | None = None
) -> None:
    if inbound_id is None:
        return
    # One UPDATE, without loading the row (and its raw bytes) first.
    await uow.session.execute(
        update(InboundMail)
        .where(InboundMail.id == inbound_id)
        .values(status=status, processed_at=now, error=error[:300] if error else None)
        .execution_options(synchronize_session=False)
    )


async def status_counts(uow: UnitOfWork) -> dict[str, int]:
    rows = await uow.session.execute(
        select(InboundMail.status, func.count()).group_by(InboundMail.status)
    )
    return {status: count for status, count in rows.all()}


# --- the use case ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    status: str  # "act" or the final status of the mail
    text: str = ""
    member_id: int | None = None  # the sender, when a member


async def receive(assistant: Assistant, mail: MailIn) -> str:
    """Act on one incoming mail; returns its final status (done, duplicate, ignored, …).

    One transaction: the dedupe check, the decision, the assistant's effects, the queued
    answers and the mail's final status commit together.
    """
    services = assistant.services
    now = services.clock()
    async with assistant.db.uow() as uow:
        if await uow.session.get(ProcessedEvent, (SOURCE, mail.dedupe_key)) is not None:
            await mark(uow, mail.inbound_id, "duplicate", now)
            await uow.commit()
            return "duplicate"
        decision = await _decide(uow, assistant.grammar, mail, now, services.tz)
        if decision.status != "act":
            if not await delivery.first_time(uow, SOURCE, mail.dedupe_key, now):
                return "duplicate"  # another worker was faster; it marks the mail
            await mark(uow, mail.inbound_id, decision.status, now)
            await uow.commit()
            return decision.status
        # Nothing was written so far: the assistant acts in this transaction, and the mail is
        # recorded as processed with its effects (see finish).
        assert mail.from_address is not None
        member_id = decision.member_id

        async def finish(uow: UnitOfWork, replies: list[Reply]) -> None:
            if not await delivery.first_time(uow, SOURCE, mail.dedupe_key, now):
                raise AlreadyProcessed(mail.dedupe_key)
            # The member read while deciding is still in the session (no query); a sender
            # unknown then may have registered just now.
            member = await uow.session.get(Member, member_id) if member_id else None
            if member is None:
                member = await uow.members.by_email(mail.from_address or "")
            await _answer(uow, mail, member, replies, now)
            await mark(uow, mail.inbound_id, "done", now)

        sender = Sender("email", mail.from_address, mail.from_name)
        try:
            await assistant.handle_in(uow, sender, decision.text, finish=finish)
        except AlreadyProcessed:
            await uow.rollback()
            await mark(uow, mail.inbound_id, "duplicate", now)
            await uow.commit()
            return "duplicate"
    return "done"


async def fail(assistant: Assistant, mail_or_id: MailIn | int, error: str) -> None:
    """Record that processing broke; the raw mail stays stored, the sender hears once a day."""
    services = assistant.services
    now = services.clock()
    mail = mail_or_id if isinstance(mail_or_id, MailIn) else None
    inbound_id = mail.inbound_id if mail else mail_or_id
    async with assistant.db.uow() as uow:
        await mark(uow, inbound_id, "failed", now, error)
        answerable = mail and mail.from_address and not mail.automatic and mail.bounce is None
        if answerable and await _once_a_day(uow, "error", mail.from_address, now, services.tz):
            member = await uow.members.by_email(mail.from_address)
            await _answer(uow, mail, member, [Reply(t("common.error_apology"))], now)
        await uow.commit()


async def _decide(uow: UnitOfWork, grammar: Grammar, mail: MailIn, now: datetime, tz) -> _Decision:
    if mail.bounce is not None:
        await _record_bounce(uow, mail, now)
        return _Decision("bounce")
    if mail.authentication == "fail":
        # The From address is likely forged: no action, and no answer, which would reach the
        # address's real owner (backscatter).
        log.info("incoming mail from %s failed authentication", masked(mail.from_address))
        return _Decision("auth_failed")
    if mail.automatic or not mail.from_address:
        log.info("incoming mail not answered: %s", mail.automatic or "no sender")
        return _Decision("ignored")
    member = await uow.members.by_email(mail.from_address)
    if member is not None and member.erased_at is not None:
        member = None
    token = await delivery.resolve_reply_token(uow, mail.token) if mail.token else None
    if token is not None and (member is None or token.member_id != member.id):
        log.info("reply address of member %s used by another sender", token.member_id)
        if await _once_a_day(uow, "reject", mail.from_address, now, tz):
            await _answer(uow, mail, member, [Reply(t("email.unknown_sender_token"))], now)
        return _Decision("rejected")
    answered = await _answered_message(uow, token, mail)
    choices = [Choice(c["label"], c["command"]) for c in (answered.choices if answered else [])]
    text = await _input_for(uow, grammar, mail, member, choices)
    if text is None:
        if await _once_a_day(uow, "error", mail.from_address, now, tz):
            staff = bool(member and member.is_staff)
            help_text = grammar.help_text(staff=staff, style="word", channel="email")
            await _answer(uow, mail, member, [Reply(t("email.unknown") + "\n\n" + help_text)], now)
        return _Decision("help")
    return _Decision("act", text, member.id if member is not None else None)


async def _input_for(
    uow: UnitOfWork,
    grammar: Grammar,
    mail: MailIn,
    member: Member | None,
    choices: list[Choice],
) -> str | None:
    """The text to feed into the assistant, or None when the mail is not understood."""
    picked = picked_by_number(mail.text, choices)
    if picked is not None:
        return picked.command
    if mail.body_command is not None:
        command = command_for_word(*mail.body_command, choices, grammar)
        if command is not None:
            return command
    text = mail.text.strip()
    dialogue = await uow.dialogues.get(Sender("email", mail.from_address or "").key)
    if dialogue is not None and text:
        return text
    # A reply keeps the subject of the mail it answers; only a new mail's subject commands.
    if mail.subject_command is not None and mail.in_reply_to is None:
        command = command_for_word(*mail.subject_command, choices, grammar)
        if command is not None:
            return command
    if member is None or member.consent_at is None:
        return text  # registration or consent: the assistant's dialogue takes over
    return None


async def _answered_message(
    uow: UnitOfWork, token: ReplyToken | None, mail: MailIn
) -> OutboxMessage | None:
    """The assistant's message this mail answers (for its choices)."""
    if token is not None and token.outbox_id is not None:
        message = await uow.session.get(OutboxMessage, token.outbox_id)
        if message is not None:
            return message
    if mail.in_reply_to and mail.from_address:
        return await uow.session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == "email",
                OutboxMessage.external_id == mail.in_reply_to,
                func.lower(OutboxMessage.address) == mail.from_address.lower(),
            )
            .limit(1)
        )
    return None


# --- answers --------------------------------------------------------------------------------


def _grouped(replies: list[Reply]) -> list[Reply]:
    """One mail for the plain replies, one more per reply about an item (it gets its token)."""
    plain = [r for r in replies if r.ref is None]
    about_items = [r for r in replies if r.ref is not None]
    grouped: list[Reply] = []
    if plain:
        grouped.append(
            Reply(
                text="\n\n".join(r.text for r in plain if r.text),
                choices=[c for r in plain for c in r.choices],
                attachments=[a for r in plain for a in r.attachments],
            )
        )
    return grouped + about_items


async def _answer(
    uow: UnitOfWork, mail: MailIn, member: Member | None, replies: list[Reply], now: datetime
) -> None:
    """Queue the replies to the sender's mail, in its thread."""
    assert mail.from_address is not None
    notes = "\n\n".join(t(key) for key in mail.notes)
    references = [*mail.references, *([mail.message_id] if mail.message_id else [])]
    meta = {
        "in_reply_to": mail.message_id,
        "references": references[-MAX_REFERENCES:],
        "auto_submitted": "auto-replied",
    }
    subject = t("email.reply_subject", subject=mail.subject) if mail.subject else ""
    for index, reply in enumerate(_grouped(replies)):
        text = reply.text
        if index == 0 and notes:
            text = f"{text}\n\n{notes}"
        uow.add(
            OutboxMessage(
                member_id=member.id if member is not None else None,
                channel="email",
                address=mail.from_address,
                kind=ANSWER_KIND,
                subject=(subject or t("email.subject_default"))[:200],
                text=text,
                choices=reply.to_json()["choices"],
                attachments=[attachment_json(a) for a in reply.attachments],
                ref=reply.ref,
                meta=dict(meta),
                status="pending",
                attempts=0,
                created_at=now,
                not_before=now,
            )
        )


async def _once_a_day(uow: UnitOfWork, kind: str, address: str, now: datetime, tz) -> bool:
    """True the first time per sender and local day (error replies, rejections)."""
    day = now.astimezone(tz).date().isoformat()
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    return await delivery.first_time(uow, LIMIT_SOURCE, f"{kind}:{digest}:{day}", now)


# --- bounces ---------------------------------------------------------------------------------


async def _record_bounce(uow: UnitOfWork, mail: MailIn, now: datetime) -> None:
    """Hard bounces count against the failed address; soft ones are only logged."""
    bounce = mail.bounce
    assert bounce is not None
    members = [m for a in bounce.addresses if (m := await uow.members.by_email(a)) is not None]
    if not members and mail.token:
        # The envelope sender carries the token, so the bounce names the member even when
        # the report hides the failed address.
        token = await delivery.resolve_reply_token(uow, mail.token)
        owner = await uow.members.get(token.member_id) if token else None
        members = [owner] if owner is not None else []
    if bounce.severity != "hard":
        log.info("soft bounce (%s) for members %s", bounce.reason, [m.id for m in members])
        return
    for member in members:
        member.email_hard_bounces = (member.email_hard_bounces or 0) + 1
        if member.email_hard_bounces >= HARD_BOUNCES_TO_SUSPEND and not member.email_suspended_at:
            member.email_suspended_at = now
            log.warning("email of member %s suspended after hard bounces", member.id)


def masked(address: str | None) -> str:
    """An address for logs: first letter and domain only."""
    if not address or "@" not in address:
        return "?"
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}…@{domain}"
