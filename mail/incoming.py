"""From raw bytes to the core use case: store, read, act.

``InboundPipeline`` is shared by the IMAP and the Maildir inbox: a watcher stores each new mail
(committed), lets the pipeline process it, and only then flags or moves it on its side. The
reading of a mail (MIME, quotes, bounces, loops, command words) happens here; what the mail
means is decided in ``core.conversation.inbound_mail``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from email.parser import BytesHeaderParser
from email.policy import compat32

from core.conversation import inbound_mail
from core.conversation.assistant import Assistant
from core.conversation.inbound_mail import Bounce, MailIn, masked
from core.kernel.replies import IncomingFile
from mail import authentication
from mail.addresses import bounce_token_from, is_own, token_from
from mail.bounces import classify
from mail.commands_text import detect_command, strip_subject_prefixes
from mail.loops import is_automatic
from mail.parsing import IncomingMail, clean_header_text, parse_mail, text_of_header
from mail.replies import extract_reply, extract_signature

log = logging.getLogger(__name__)

MAX_MAIL_BYTES = 10 * 1024 * 1024  # larger mails are read up to here
# Mails fetched, stored and processed together: one transaction and a few queries for all
# of them. Bounded in number and in bytes, because the raw mails of a batch are in memory.
BATCH_SIZE = 100
MAX_KEY_CHARS = 300  # processed_events.key
BATCH_BYTES = 20 * 1024 * 1024
# What a mail's final status means, for the operator log.
_OUTCOME = {
    "done": "answered",
    "help": "not understood, help sent",
    "limited": "not answered (limit for the day)",
    "new": "kept for the next round",
}


def batches(sizes: list[tuple[int, int]]) -> list[list[int]]:
    """Group (key, size in bytes) into batches of at most BATCH_SIZE mails and BATCH_BYTES
    (a larger mail goes alone); keys keep their order."""
    groups: list[list[int]] = []
    total = 0
    for key, size in sizes:
        size = min(size, MAX_MAIL_BYTES)
        if not groups or len(groups[-1]) >= BATCH_SIZE or total + size > BATCH_BYTES:
            groups.append([])
            total = 0
        groups[-1].append(key)
        total += size
    return groups


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID from the header block alone (cheap; used when storing)."""
    try:
        # compat32: the structured headers of policy.default take minutes on some hostile
        # Content-Type headers, which the parser reads even when only Message-ID is asked for.
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:256_000])
        value = text_of_header(str(headers.get("Message-ID") or ""), None).strip()
    except Exception:
        return None
    return clean_header_text(value).strip("<>").strip() or None


def read_mail(
    raw: bytes,
    *,
    mail_from: str,
    words: list[str],
    inbound_id: int | None = None,
    authserv_ids: Sequence[str] = (),
) -> MailIn:
    """Everything core needs to know about one mail. Raises MailParseError for non-mail.

    With ``authserv_ids`` (the trusted receiving servers) the mail's Authentication-Results
    are judged; without, ``MailIn.authentication`` stays None.
    """
    mail = parse_mail(raw)
    automatic = is_automatic(mail)
    if automatic is None and (
        is_own(mail.from_address, mail_from) or is_own(mail.sender, mail_from)
    ):
        automatic = "from the assistant's own address"  # answering it would be a loop
    bounce = None
    if automatic:
        classification = classify(mail)
        if classification.kind == "bounce":
            bounce = Bounce(
                severity=classification.severity or "soft",
                addresses=classification.failed_addresses,
                reason=classification.reason or "",
            )
    text = extract_reply(mail.text)
    subject = strip_subject_prefixes(mail.subject)
    subject_command = detect_command(subject, "", words)
    if subject_command is not None:
        word, rest = subject_command
        subject_command = (word, f"{rest}\n{text}".strip())
    notes = []
    files = () if automatic else _files(mail, complete=len(raw) < MAX_MAIL_BYTES)
    if files and bounce is None:
        notes.append(inbound_mail.FILES_IGNORED)
    if _text_cut(mail, raw):
        notes.append("email.text_cut")
    recipients = (*mail.delivered_to, *mail.to_addresses)
    return MailIn(
        dedupe_key=_dedupe_key(mail.message_id, raw),
        from_address=mail.sender,
        sender_problem=mail.sender_problem,
        from_name=mail.from_name,
        text=text,
        signature=extract_signature(mail.text) if not automatic else "",
        subject=subject,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        token=token_from(recipients, mail_from),
        bounce_token=bounce_token_from(recipients, mail_from) if bounce is not None else None,
        body_command=detect_command("", text, words),
        subject_command=subject_command,
        automatic=automatic,
        bounce=bounce,
        notes=tuple(notes),
        inbound_id=inbound_id,
        authentication=_authentication(mail, authserv_ids),
        files=files,
    )


def _text_cut(mail: IncomingMail, raw: bytes) -> bool:
    """Whether the member's text was read only in part. A mail read only up to MAX_MAIL_BYTES
    loses its end, which is its last attachment when it has one (the text comes first)."""
    return bool(mail.text_cut_chars) or (len(raw) >= MAX_MAIL_BYTES and not mail.attachments)


def _files(mail: IncomingMail, *, complete: bool) -> tuple[IncomingFile, ...]:
    """The named attachments, for a command that takes files; ``complete`` is False when the
    mail was read only up to MAX_MAIL_BYTES (its last attachment is then cut)."""
    return tuple(
        IncomingFile(a.filename, a.content_type, a.data, complete)
        for a in mail.attachments
        if a.filename
    )


def _dedupe_key(message_id: str | None, raw: bytes) -> str:
    """The Message-ID, or a digest of it when it is too long to store (or of the raw bytes
    when there is none), so the same mail is recognised however often it arrives."""
    if message_id and len(message_id) <= MAX_KEY_CHARS:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()


def _authentication(mail: IncomingMail, authserv_ids: Sequence[str]) -> str | None:
    if not authserv_ids:
        return None
    outcome = authentication.check(mail.headers, mail.sender, authserv_ids)
    log.debug("authentication: %s (%s)", outcome.verdict, outcome.reason)
    return outcome.verdict


class InboundPipeline:
    def __init__(
        self,
        assistant: Assistant,
        *,
        mail_from: str,
        on_answer: Callable[[], None] | None = None,
        authserv_ids: Sequence[str] = (),
    ) -> None:
        self.assistant = assistant
        self.mail_from = mail_from
        self.authserv_ids = tuple(authserv_ids or ())
        self.on_answer = on_answer
        self.words = assistant.grammar.words()

    async def store(
        self,
        folder: str,
        uidvalidity: int,
        uid: int,
        raw: bytes,
        message_id: str | None = None,
    ) -> tuple[int, str]:
        """Keep the raw mail (committed when this returns); its id and status."""
        async with self.assistant.db.uow() as uow:
            inbound_id, status = await inbound_mail.store(
                uow,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=uid,
                message_id=message_id or header_message_id(raw),
                raw=raw,
                now=self.assistant.services.clock(),
            )
            await uow.commit()
        return inbound_id, status

    async def process_pending(self) -> int:
        """Process mails stored earlier but not acted on (after a crash, or due for a retry)."""
        async with self.assistant.db.uow() as uow:
            pending = await inbound_mail.unprocessed(uow, now=self.assistant.services.clock())
        for batch in batches(pending):
            async with self.assistant.db.uow() as uow:
                raws = await inbound_mail.raws_of(uow, batch)
            await self._process([(inbound_id, self._read(raw)) for inbound_id, raw in raws])
        return len(pending)

    async def take(self, folder: str, uidvalidity: int, uid: int, raw: bytes) -> str:
        """Store, then process one mail; the caller flags it on the server afterwards."""
        ((_, status),) = await self.take_many(folder, uidvalidity, [(uid, raw)])
        return status

    async def take_many(
        self, folder: str, uidvalidity: int, mails: list[tuple[int, bytes]]
    ) -> list[tuple[int, str]]:
        """Store a fetched batch (committed), then process it; (uid, status) for each mail.

        When this returns, every mail's processing has committed (or it was handled before),
        so the caller may flag them on the server.
        """
        # Read once: the Message-ID for storing and the mail to act on come from one parse.
        # The raw bytes are committed before acting, whether or not they could be read.
        read = {uid: self._read(raw) for uid, raw in mails}
        async with self.assistant.db.uow() as uow:
            stored = await inbound_mail.store_many(
                uow,
                folder=folder,
                uidvalidity=uidvalidity,
                mails=[(uid, _message_id(read[uid], raw), raw) for uid, raw in mails],
                now=self.assistant.services.clock(),
            )
            await uow.commit()
        # Stored and handled before: only the flag on the server was missing.
        statuses = {uid: status for uid, (_, status) in stored.items() if status != "new"}
        fresh = [uid for uid, _ in mails if uid not in statuses]
        done = await self._process([(stored[uid][0], read[uid]) for uid in fresh])
        statuses.update(zip(fresh, done, strict=True))
        return [(uid, statuses[uid]) for uid, _ in mails]

    def _read(self, raw: bytes) -> MailIn | Exception:
        try:
            return read_mail(
                raw, mail_from=self.mail_from, words=self.words, authserv_ids=self.authserv_ids
            )
        except Exception as error:
            return error

    async def _process(self, mails: list[tuple[int, MailIn | Exception]]) -> list[str]:
        """Act on stored mails in one batch; a mail that could not be read is marked failed."""
        if not mails:
            return []
        readable = [replace(read, inbound_id=i) for i, read in mails if isinstance(read, MailIn)]
        try:
            done = await inbound_mail.receive_many(self.assistant, readable)
        except Exception as error:  # e.g. the database went away: the mails stay stored
            log.error("incoming mails not processed, next round: %s", _one_line(error))
            done = ["new"] * len(readable)
        statuses = iter(done)
        result = []
        for inbound_id, read in mails:
            if isinstance(read, MailIn):
                result.append(next(statuses))
                log.info(
                    "incoming mail %s from %s: %s",
                    inbound_id,
                    masked(read.from_address),
                    _OUTCOME.get(result[-1], result[-1]),
                )
                continue
            # Bytes that cannot be read now never will: set aside at once.
            reason = f"unreadable: {_one_line(read)}"
            try:
                result.append(
                    await inbound_mail.fail(self.assistant, inbound_id, reason, final=True)
                )
            except Exception as error:
                log.error("incoming mail %s not set aside: %s", inbound_id, _one_line(error))
                result.append("new")
        if self.on_answer is not None:
            self.on_answer()
        return result


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "-"
    return f"{type(error).__name__}: {text}"[:300]


def _message_id(read: MailIn | Exception, raw: bytes) -> str | None:
    """The Message-ID to store with the raw bytes: from the parse, or the header alone."""
    return read.message_id if isinstance(read, MailIn) else header_message_id(raw)
