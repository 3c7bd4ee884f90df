"""Incoming mail as a use case: store first, act once, answer in the same thread.

The mail adapter stores the raw bytes (``store_many``) before anything else happens, then
hands parsed, channel-neutral ``MailIn``s to ``receive_many``. Here it is decided what a mail
means: nothing (automatic mail), a bounce to count, a reply from the wrong person, a command,
the answer to a numbered choice, the next step of a dialogue, or something not understood.
Whatever acts goes through ``Assistant.act_in``; its answers are queued in the outbox as
replies to the member's mail, in the same transaction as the input's effects and its dedupe
record, so a mail is acted on exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.kernel.context import Sender
from core.kernel.errors import UserError
from core.kernel.grammar import Grammar
from core.kernel.replies import Choice, IncomingFile, Reply
from core.kernel.reply_words import answer_words, command_for_word, picked_by_item, picked_by_number
from core.kernel.texts import t
from core.messaging import delivery
from core.messaging.outbox import attachment_json
from core.store.models import InboundMail, Member, OutboxMessage, ReplyToken
from core.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from core.conversation.assistant import Assistant

log = logging.getLogger(__name__)

SOURCE = "email"  # processed_events source of incoming mails
LIMIT_SOURCE = "email-limit"  # processed_events source of the once-a-day answers
BOUNCE_SOURCE = "email-bounce"  # processed_events source: bounce tokens already counted
HARD_BOUNCES_TO_SUSPEND = 3
ANSWER_KIND = "email_answer"
FILES_IGNORED = "email.attachments_ignored"  # the note of a mail whose attachments nobody took
MAX_REFERENCES = 10
# A mail whose processing breaks is tried again after RETRY_BASE, 2 x RETRY_BASE, ... and
# set aside as "failed" after MAX_ATTEMPTS, so it never holds up the mails after it.
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
# Unparseable replies in the registration dialogue by mail, per sender and day, after
# which the sender hears nothing more until the next day.
STRANGER_MISSES = 2
LIMIT_KEY = "answer"  # one error, rejection or unknown-sender answer per sender and day
FINAL_STATUSES = (
    "done",
    "duplicate",
    "bounce",
    "auth_failed",
    "ignored",
    "help",
    "rejected",
    "limited",
    "failed",
)
# Controls and surrogates never reach a stored or outgoing header.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


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
    signature: str = ""  # the sender's signature below it (for registration only)
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
    # Why there is no ``from_address`` although the mail has a From header (two addresses,
    # a malformed address): such a mail is from nobody the assistant can act for.
    sender_problem: str | None = None
    bounce_token: str | None = None  # from our envelope sender assistant+b-TOKEN@… (VERP)
    # Attached files, for a command that takes them (a suggestion for the knowledge collection).
    files: tuple[IncomingFile, ...] = ()


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
    mails = [(uid, message_id, raw)]
    stored = await store_many(uow, folder=folder, uidvalidity=uidvalidity, mails=mails, now=now)
    return stored[uid]


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
    kept = await uow.inbound.kept(folder[:200], uidvalidity, [uid for uid, _, _ in mails])
    new: dict[int, dict] = {}
    for uid, message_id, raw in mails:
        if uid not in kept:
            new.setdefault(uid, _inbound_row(folder, uidvalidity, uid, message_id, raw, now))
    inserted = await uow.inbound.add_many(list(new.values()))
    kept.update({uid: (row_id, "new") for uid, row_id in inserted.items()})
    return kept


def _inbound_row(
    folder: str, uidvalidity: int, uid: int, message_id: str | None, raw: bytes, now: datetime
) -> dict:
    return {
        "folder": folder[:200],
        "uidvalidity": uidvalidity,
        "uid": uid,
        "message_id": (message_id or None) and message_id[:300],
        "raw": raw,
        "received_at": now,
        "status": "new",
    }


async def unprocessed(
    uow: UnitOfWork, limit: int = 100, now: datetime | None = None
) -> list[tuple[int, int]]:
    """Stored mails not processed yet (e.g. after a crash between storing and acting), as
    (id, size in bytes); with ``now``, mails waiting for a retry later are left out."""
    return await uow.inbound.due(limit, now)


async def raws_of(uow: UnitOfWork, ids: Sequence[int]) -> list[tuple[int, bytes]]:
    """The raw bytes of stored mails, in the order of ``ids`` (missing ones left out)."""
    raws = await uow.inbound.raws(ids)
    return [(inbound_id, raws[inbound_id]) for inbound_id in ids if inbound_id in raws]


async def status_counts(uow: UnitOfWork) -> dict[str, int]:
    return await uow.inbound.status_counts()


# --- the use case ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    status: str  # "act" or the final status of the mail
    text: str = ""
    member_id: int | None = None  # the sender, when a member
    reason: str | None = None  # why a mail was not acted on (kept with it)
    stranger: bool = False  # not a member with consent: the registration dialogue's limits


class _Stop(Exception):
    """Mail number ``index`` of a batch needs a transaction of its own."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


async def receive_many(assistant: Assistant, mails: Sequence[MailIn]) -> list[str]:
    """Act on mails in their order; returns their final statuses in the same order.

    Mails share a transaction: what they need to know (senders, reply tokens, answered
    messages, dialogues, which were processed before) is read with one query per kind, and
    their records and answers are written together. That is what makes a burst of mail cheap.
    Each mail still ends as if it had been processed alone:
    - a mail whose command fails (bad input is rolled back, an error) would take the others'
      effects with it, so it is processed on its own; the mails before it go again together;
    - a mail whose effects reach other mails only after the commit (a new post enters the
      matching index then) ends its transaction, so the next mail sees them;
    - when the final write fails (another worker recorded one of the mails first), the mails
      are split in halves until the culprit is alone.
    Never raises for a bad mail: it is marked failed, and its sender hears once a day.
    """
    statuses: list[str] = []
    rest = list(mails)
    while rest:
        if len(rest) == 1:
            done = [await _receive_alone(assistant, rest[0])]
        else:
            try:
                done = await _receive_together(assistant, rest)
            except _Stop as stop:
                done = await receive_many(assistant, rest[: stop.index])
                done.append(await _receive_alone(assistant, rest[stop.index]))
            except Exception as error:
                log.info("batch of %d mails split: %s: %s", len(rest), type(error).__name__, error)
                done = await receive_many(assistant, rest[: len(rest) // 2])
        statuses += done
        rest = rest[len(done) :]
    return statuses


async def _receive_together(assistant: Assistant, mails: Sequence[MailIn]) -> list[str]:
    """Process a leading part of ``mails`` in one transaction; their statuses."""
    now = assistant.services.clock()
    statuses: list[str] = []
    async with assistant.db.uow() as uow:
        await assistant.services.index.refresh(uow)
        known = await _Known.load(uow, mails)
        writes = _Writes(now)
        for index, mail in enumerate(mails):
            if mail.dedupe_key in known.processed:
                writes.mark(mail, "duplicate", "processed before")
                statuses.append("duplicate")
                continue
            known.processed.add(mail.dedupe_key)
            writes.processed.append(mail.dedupe_key)
            try:
                statuses.append(await _decide_and_act(uow, assistant, known, writes, mail))
            except Exception as error:
                raise _Stop(index) from error
            if uow.has_after_commit:
                break  # e.g. a new post: the following mails must find it in the index
        await writes.apply(uow)
        await uow.commit()
    return statuses


async def _receive_alone(assistant: Assistant, mail: MailIn) -> str:
    now = assistant.services.clock()
    try:
        async with assistant.db.uow() as uow:
            writes = _Writes(now)
            # Recorded first: a second worker with the same mail waits here, then skips it.
            if not await delivery.first_time(uow, SOURCE, mail.dedupe_key, now):
                return await _duplicate(uow, writes, mail)
            await assistant.services.index.refresh(uow)
            known = await _Known.load(uow, [mail])
            try:
                status = await _decide_and_act(uow, assistant, known, writes, mail)
            except UserError as error:
                # Bad input in a command: nothing of it stays, the answer says why.
                await uow.rollback()
                writes = _Writes(now)
                if not await delivery.first_time(uow, SOURCE, mail.dedupe_key, now):
                    return await _duplicate(uow, writes, mail)
                member = await uow.members.by_email(mail.from_address or "")
                status = "done"
                if _is_stranger(member) and not await _counted_today(
                    uow, "miss", mail.from_address or "", now, assistant.services.tz
                ):
                    # A registration dialogue going nowhere: silence until tomorrow.
                    status = "limited"
                    writes.mark(mail, status, "unparseable replies of an unknown sender")
                else:
                    writes.answer(mail, member, [Reply(error.message)])
                    writes.mark(mail, status)
            await writes.apply(uow)
            await uow.commit()
        return status
    except Exception as error:
        return await fail(assistant, mail, _one_line(error))


async def _duplicate(uow: UnitOfWork, writes: _Writes, mail: MailIn) -> str:
    writes.mark(mail, "duplicate", "processed before")
    await writes.apply(uow)
    await uow.commit()
    return "duplicate"


async def _decide_and_act(
    uow: UnitOfWork, assistant: Assistant, known: _Known, writes: _Writes, mail: MailIn
) -> str:
    """What the mail means, and its effects: in the caller's transaction, not committed."""
    decision = await _decide(uow, assistant, known, writes, mail)
    # A registration dialogue that stalled today is not continued before tomorrow.
    if decision.status == "act" and decision.stranger and await _stalled(uow, assistant, mail):
        decision = _Decision("limited", reason="unparseable replies of an unknown sender")
    if decision.status == "act":
        assert mail.from_address is not None
        sender = Sender("email", mail.from_address, mail.from_name, mail.signature)
        files = ()
        if mail.files and assistant.grammar.takes_files(decision.text):
            # Taken by the command (kept with it while a stranger registers): the note
            # that they were ignored goes.
            files = mail.files
            mail = replace(mail, notes=tuple(n for n in mail.notes if n != FILES_IGNORED))
        replies = await assistant.act_in(uow, sender, decision.text, files)
        # The member read while deciding is still in the session (no query); a sender
        # unknown then may have registered just now.
        member = await uow.members.by_email(mail.from_address)
        writes.answer(mail, member, replies, assistant.grammar)
        decision = _Decision("done")
    writes.mark(mail, decision.status, decision.reason)
    return decision.status


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "-"
    return f"{type(error).__name__}: {text}"[:300]


def retry_delay(attempts: int) -> timedelta:
    return RETRY_BASE * (2 ** max(attempts - 1, 0))


async def fail(
    assistant: Assistant, mail_or_id: MailIn | int, error: str, *, final: bool = False
) -> str:
    """Record that processing broke; returns the mail's status now.

    The raw mail stays stored. It is tried again later with growing pauses ("new" with a
    ``not_before``), and after MAX_ATTEMPTS (or at once when ``final``: bytes that are no
    mail stay so) it is set aside as "failed" with the reason, and its sender hears once a
    day. One log line per attempt, no traceback: the reason says what broke.
    """
    now = assistant.services.clock()
    inbound_id = mail_or_id.inbound_id if isinstance(mail_or_id, MailIn) else mail_or_id
    async with assistant.db.uow() as uow:
        row = await uow.inbound.get(inbound_id) if inbound_id is not None else None
        attempts = (row.attempts or 0) + 1 if row is not None else MAX_ATTEMPTS
        if row is not None and not final and attempts < MAX_ATTEMPTS:
            row.attempts, row.error = attempts, error[:300]
            row.not_before = now + retry_delay(attempts)
            await uow.commit()
            log.warning(
                "incoming mail %s failed (attempt %d of %d, again at %s): %s",
                inbound_id,
                attempts,
                MAX_ATTEMPTS,
                row.not_before.isoformat(timespec="seconds"),
                error,
            )
            return "new"
    log.error(
        "incoming mail %s set aside as failed after %d attempts: %s", inbound_id, attempts, error
    )
    mail = mail_or_id if isinstance(mail_or_id, MailIn) else None
    try:
        await _set_aside(assistant, mail, inbound_id, attempts, error, apologise=True)
    except Exception:
        # The apology itself may be what breaks: the mail is set aside without it.
        await _set_aside(assistant, mail, inbound_id, attempts, error, apologise=False)
    return "failed"


async def _set_aside(
    assistant: Assistant,
    mail: MailIn | None,
    inbound_id: int | None,
    attempts: int,
    error: str,
    *,
    apologise: bool,
) -> None:
    services = assistant.services
    now = services.clock()
    async with assistant.db.uow() as uow:
        if inbound_id is not None:
            await uow.inbound.set_aside(inbound_id, error[:300], attempts, now)
        answerable = (
            apologise
            and mail
            and mail.from_address
            and not mail.automatic
            and mail.bounce is None
            and mail.authentication != "fail"  # an answer to a forged sender is backscatter
        )
        if answerable and await _once_a_day(uow, LIMIT_KEY, mail.from_address, now, services.tz):
            writes = _Writes(now)
            member = await uow.members.by_email(mail.from_address)
            writes.answer(mail, member, [Reply(t("common.error_apology"))])
            await writes.apply(uow)
        await uow.commit()


async def failed_mails(uow: UnitOfWork, limit: int = 200) -> Sequence[InboundMail]:
    """Incoming mails set aside as failed, oldest first (for operators)."""
    return await uow.inbound.with_status("failed", limit)


async def retry(uow: UnitOfWork, inbound_id: int) -> bool:
    """Put a failed incoming mail back to be processed at the next round."""
    row = await uow.inbound.get(inbound_id)
    if row is None or row.status != "failed":
        return False
    row.status, row.attempts, row.not_before, row.processed_at = "new", 0, None, None
    return True


@dataclass
class _Known:
    """What a batch of mails needs from the database, read once for all of them."""

    processed: set[str]  # dedupe keys acted on before (or earlier in this batch)
    answered: dict[tuple[str, str], OutboxMessage]  # (Message-ID, recipient) -> our mail

    @classmethod
    async def load(cls, uow: UnitOfWork, mails: Sequence[MailIn]) -> _Known:
        senders = {m.from_address for m in mails if m.from_address}
        bounced = {a for m in mails if m.bounce for a in m.bounce.addresses}
        await uow.members.preload_emails(senders | bounced)
        await uow.dialogues.preload(Sender("email", a).key for a in senders)
        tokens = await delivery.preload_reply_tokens(uow, {m.token for m in mails if m.token})
        # Loaded into the session, where the token's message is then found without a query.
        await uow.outbox.many({t.outbox_id for t in tokens if t.outbox_id is not None})
        processed = await uow.processed.known(SOURCE, {m.dedupe_key for m in mails})
        replied_to = {m.in_reply_to for m in mails if m.in_reply_to and m.from_address}
        answered = {}
        for message in await uow.outbox.by_external_ids("email", replied_to):
            answered.setdefault((message.external_id, message.address.lower()), message)
        return cls(processed, answered)


class _Writes:
    """The records and answers of a batch, written at its end in a few statements."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.processed: list[str] = []  # dedupe keys to record (a batch; alone records at once)
        self.answers: list[dict] = []
        self.statuses: list[dict] = []

    def mark(self, mail: MailIn | int, status: str, error: str | None = None) -> None:
        inbound_id = mail.inbound_id if isinstance(mail, MailIn) else mail
        if inbound_id is not None:
            self.statuses.append(
                {"row": inbound_id, "new_status": status, "new_error": error and error[:300]}
            )

    def answer(
        self,
        mail: MailIn,
        member: Member | None,
        replies: list[Reply],
        grammar: Grammar | None = None,
    ) -> None:
        self.answers += _answer_rows(mail, member, replies, self.now, grammar)

    async def apply(self, uow: UnitOfWork) -> None:
        await uow.processed.record_many(SOURCE, self.processed, self.now)
        await uow.outbox.add_rows(self.answers)
        await uow.inbound.set_statuses(self.statuses, self.now)


async def _decide(
    uow: UnitOfWork, assistant: Assistant, known: _Known, writes: _Writes, mail: MailIn
) -> _Decision:
    now, tz, grammar = writes.now, assistant.services.tz, assistant.grammar
    if mail.bounce is not None:
        return _Decision("bounce", reason=await _record_bounce(uow, mail, now))
    if mail.authentication == "fail":
        # The From address is likely forged: no action, and no answer, which would reach the
        # address's real owner (backscatter).
        log.info("incoming mail from %s failed authentication", masked(mail.from_address))
        return _Decision("auth_failed", reason="sender failed authentication")
    if mail.automatic or not mail.from_address:
        # No single valid sender (two From headers, "victim@x <attacker@y>"): nobody to act
        # for, and an answer would go to whoever the mail pretends to be from.
        reason = mail.automatic or mail.sender_problem or "no sender"
        log.info("incoming mail not answered: %s", reason)
        return _Decision("ignored", reason=reason[:300])
    member = await uow.members.by_email(mail.from_address)
    if member is not None and member.erased_at is not None:
        member = None
    token = await delivery.resolve_reply_token(uow, mail.token) if mail.token else None
    if mail.token and (token is None or member is None or token.member_id != member.id):
        # An unknown token and another member's token are refused alike, with the same
        # words: the answer must not tell whether a token exists.
        log.info("reply address not the sender's own (member %s)", token and token.member_id)
        if await _once_a_day(uow, LIMIT_KEY, mail.from_address, now, tz):
            writes.answer(mail, member, [Reply(t("email.unknown_sender_token"))])
        return _Decision("rejected", reason="reply address not the sender's own")
    answered = await _answered_message(uow, known, token, mail)
    stranger = _is_stranger(member)
    # Not a reply to one of our mails: anybody can write such mails under any address, so a
    # sender who is no member gets one answer a day, however many they send.
    if (
        stranger
        and answered is None
        and not await _once_a_day(uow, LIMIT_KEY, mail.from_address, now, tz)
    ):
        return _Decision("limited", reason="unknown sender answered today")
    stored = answered.choices if answered else []
    picked = picked_by_item(mail.text, stored, grammar)
    if picked is not None:
        return _Decision(
            "act", picked, member.id if member is not None else None, stranger=stranger
        )
    # Words without an item number act on the choices of the mail as a whole; where several
    # items offer the same word, the word alone says nothing and a number is needed.
    choices = [Choice(c["label"], c["command"]) for c in stored if "item" not in c]
    if len({c.get("item") for c in stored if "item" in c}) == 1:
        choices += [Choice(c["label"], c["command"]) for c in stored if "item" in c]
    text = await _input_for(uow, grammar, mail, member, choices)
    if text is None:
        if await _once_a_day(uow, LIMIT_KEY, mail.from_address, now, tz):
            staff = bool(member and member.is_staff)
            help_text = grammar.help_text(staff=staff, style="word", channel="email")
            writes.answer(mail, member, [Reply(t("email.unknown") + "\n\n" + help_text)])
        return _Decision("help", reason="not understood")
    return _Decision("act", text, member.id if member is not None else None, stranger=stranger)


async def _stalled(uow: UnitOfWork, assistant: Assistant, mail: MailIn) -> bool:
    now, tz = assistant.services.clock(), assistant.services.tz
    return await _count_today(uow, "miss", mail.from_address or "", now, tz) >= STRANGER_MISSES


def _is_stranger(member: Member | None) -> bool:
    """Not (yet) a member who consented: mail from them drives the registration dialogue."""
    return member is None or member.consent_at is None


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
    uow: UnitOfWork, known: _Known, token: ReplyToken | None, mail: MailIn
) -> OutboxMessage | None:
    """The assistant's message this mail answers (for its choices)."""
    if token is not None and token.outbox_id is not None:
        message = await uow.outbox.get(token.outbox_id)
        if message is not None:
            return message
    if mail.in_reply_to and mail.from_address:
        return known.answered.get((mail.in_reply_to, mail.from_address.lower()))
    return None


# --- answers --------------------------------------------------------------------------------


def _grouped(replies: list[Reply], grammar: Grammar | None) -> tuple[Reply, list[dict]] | None:
    """All replies to one mail as one answer: its text and its choices as stored.

    One item (a post, a match) keeps its choices as they are and its ``ref``. Several items
    are numbered in the text, each with the words that act on it ("3 PAUSIEREN"); their
    choices are stored with the item's number, so such an answer finds the right one. The
    texts keep their order: a heading ("Vielleicht passend …") stays above its items.
    """
    if not replies:
        return None
    plain = [r for r in replies if r.ref is None]
    items = [r for r in replies if r.ref is not None]
    attachments = [a for r in replies for a in r.attachments]
    if len(items) <= 1:
        ordered = plain + items
        reply = Reply(
            text="\n\n".join(r.text for r in ordered if r.text),
            choices=[c for r in ordered for c in r.choices],
            attachments=attachments,
            ref=items[0].ref if items else None,
        )
        return reply, reply.to_json()["choices"]
    paragraphs = []
    stored = [{"label": c.label, "command": c.command} for r in plain for c in r.choices]
    number = 0
    for reply in replies:
        if reply.ref is None:
            if reply.text:
                paragraphs.append(reply.text)
            continue
        number += 1
        paragraphs.append(_item_text(number, reply, grammar))
        stored += [{"label": c.label, "command": c.command, "item": number} for c in reply.choices]
    plain_choices = [c for r in plain for c in r.choices]
    return Reply("\n\n".join(paragraphs), plain_choices, attachments), stored


def _item_text(number: int, item: Reply, grammar: Grammar | None) -> str:
    text = f"{number}) {item.text.strip()}"
    if not item.choices:
        return text
    words = answer_words(item.choices, grammar) if grammar else [None] * len(item.choices)
    actions = [
        t(
            "email.item_action",
            answer=f"{number} {word}" if word else f"{number}.{index}",
            label=c.label,
        )
        for index, (c, word) in enumerate(zip(item.choices, words, strict=True), start=1)
    ]
    return text + "\n" + t("email.item_actions", actions="; ".join(actions))


def _answer_rows(
    mail: MailIn,
    member: Member | None,
    replies: list[Reply],
    now: datetime,
    grammar: Grammar | None = None,
) -> list[dict]:
    """The outbox row answering the sender's mail, in its thread: one, whatever was asked."""
    assert mail.from_address is not None
    notes = "\n\n".join(t(key) for key in mail.notes)
    references = [*mail.references, *([mail.message_id] if mail.message_id else [])]
    meta = {
        "in_reply_to": mail.message_id,
        "references": references[-MAX_REFERENCES:],
        "auto_submitted": "auto-replied",
    }
    subject = header_safe(mail.subject)
    subject = t("email.reply_subject", subject=subject) if subject else ""
    rows = []
    grouped = _grouped(replies, grammar)
    if grouped is not None:
        reply, choices = grouped
        text = f"{reply.text}\n\n{notes}" if notes else reply.text
        rows.append(
            {
                "member_id": member.id if member is not None else None,
                "channel": "email",
                "address": mail.from_address,
                "kind": ANSWER_KIND,
                "subject": (subject or t("email.subject_default"))[:200],
                "text": text,
                "choices": choices,
                "attachments": [attachment_json(a) for a in reply.attachments],
                "ref": reply.ref,
                "meta": dict(meta),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "not_before": now,
            }
        )
    return rows


def _limit_key(kind: str, address: str, now: datetime, tz) -> str:
    day = now.astimezone(tz).date().isoformat()
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    return f"{kind}:{digest}:{day}"


async def _once_a_day(uow: UnitOfWork, kind: str, address: str, now: datetime, tz) -> bool:
    """True the first time per sender and local day (error replies, rejections)."""
    return await delivery.first_time(uow, LIMIT_SOURCE, _limit_key(kind, address, now, tz), now)


async def _count_today(uow: UnitOfWork, kind: str, address: str, now: datetime, tz) -> int:
    """How often ``_counted_today`` counted this sender today."""
    prefix = _limit_key(kind, address, now, tz)
    keys = [f"{prefix}:{n}" for n in range(1, STRANGER_MISSES + 1)]
    return await uow.processed.count(LIMIT_SOURCE, keys)


async def _counted_today(uow: UnitOfWork, kind: str, address: str, now: datetime, tz) -> bool:
    """Count one more for this sender today; False once STRANGER_MISSES were counted."""
    prefix = _limit_key(kind, address, now, tz)
    for n in range(1, STRANGER_MISSES + 1):
        if await delivery.first_time(uow, LIMIT_SOURCE, f"{prefix}:{n}", now):
            return True
    return False


# --- bounces ---------------------------------------------------------------------------------


async def _record_bounce(uow: UnitOfWork, mail: MailIn, now: datetime) -> str:
    """A hard bounce counts against an address only through VERP; returns what became of it.

    Anybody can send a delivery report naming a member's address to the assistant. It counts
    only when it reached the envelope sender of one of our messages (assistant+b-TOKEN@…,
    secret, one per message) and names the address that message went to; then once per
    message. Soft bounces and every other report are kept (the stored mail) and ignored.
    """
    bounce = mail.bounce
    assert bounce is not None
    if bounce.severity != "hard":
        log.info("soft bounce (%s) ignored", bounce.reason)
        return f"soft bounce ({bounce.reason})"[:300]
    if not mail.bounce_token:
        log.info("bounce not sent to a per-message envelope sender ignored")
        return "bounce not through VERP"
    message = await uow.outbox.by_bounce_token(mail.bounce_token)
    if message is None:
        return "bounce token unknown"
    named = {a.strip().lower() for a in bounce.addresses}
    if message.address.strip().lower() not in named:
        return "bounce names another recipient"
    if message.member_id is None:
        return "bounce for a non-member"
    if not await delivery.first_time(uow, BOUNCE_SOURCE, mail.bounce_token, now):
        return "bounce for this message counted before"
    member = await uow.members.get(message.member_id)
    if member is None or (member.email or "").lower() != message.address.strip().lower():
        return "address no longer the member's"
    member.email_hard_bounces = (member.email_hard_bounces or 0) + 1
    if member.email_hard_bounces >= HARD_BOUNCES_TO_SUSPEND and not member.email_suspended_at:
        member.email_suspended_at = now
        log.warning("email of member %s suspended after hard bounces", member.id)
    return "hard bounce counted"


def header_safe(text: str) -> str:
    """One line without control characters or surrogates, fit for an outgoing header."""
    return " ".join(_UNSAFE.sub(" ", text or "").split())


def masked(address: str | None) -> str:
    """An address for logs: first letter and domain only."""
    if not address or "@" not in address:
        return "?"
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}…@{domain}"
