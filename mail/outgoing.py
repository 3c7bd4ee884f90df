"""The email dispatcher: drains the outbox over one reused SMTP connection (or into files).

Messages are claimed with a lease, prepared (Message-ID, reply token) in the claiming
transaction, then sent outside any transaction; the outcome is recorded per message. A
recipient the server refuses permanently (5xx at RCPT) makes the address unreachable; every
other failure is retried with backoff. A dropped connection is opened again on the next send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mailbox
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from core.conversation.inbound_mail import masked
from core.kernel.grammar import Grammar
from core.messaging import delivery, progress
from core.messaging.email_outbox import EmailToSend, prepare
from core.messaging.progress import SendProgress
from core.runtime.processes import LeaseOwner
from core.store.unit_of_work import Database
from mail.addresses import is_own
from mail.compose import Unsendable, compose, envelope_sender, new_message_id, serialise

log = logging.getLogger(__name__)


class PermanentRefusal(Exception):
    """The server refuses the recipient for good (5xx at RCPT)."""


class SmtpTransport:
    """One SMTP connection, opened on first use and again after it dropped."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 60,
    ) -> None:
        self.host = host
        self.port = port or {"tls": 465, "starttls": 587}.get(tls, 25)
        self.tls = tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self._smtp: aiosmtplib.SMTP | None = None
        self.connections = 0  # how often a connection was opened (for tests and logs)

    def describe(self) -> str:
        return f"SMTP {self.host}:{self.port} ({self.tls})"

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        await self.close()
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            timeout=self.timeout,
        )
        await smtp.connect()
        if self.username:
            await smtp.login(self.username, self.password)
        self._smtp = smtp
        self.connections += 1
        return smtp

    async def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        for attempt in (1, 2):
            smtp = await self._connection()
            try:
                await smtp.send_message(msg, sender=sender, recipients=[recipient])
                return
            except aiosmtplib.SMTPRecipientsRefused as refused:
                codes = [r.code for r in refused.recipients]
                if codes and all(500 <= code < 600 for code in codes):
                    raise PermanentRefusal(f"{codes[0]} {refused.recipients[0].message}") from None
                raise
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                # The server closed an idle connection: open a new one and try once more.
                self._smtp = None
                if attempt == 2:
                    raise

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            with contextlib.suppress(Exception):
                await smtp.quit()
        elif smtp is not None:
            smtp.close()


class MaildirTransport:
    """Mail as files: each message is delivered into the ``new/`` folder of a Maildir
    (the standard library's ``mailbox.Maildir``: written to ``tmp/``, then moved)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"Dateien in {self.directory / 'new'}"

    async def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        maildir = mailbox.Maildir(self.directory, factory=None, create=True)
        # As a delivering server would: the envelope sender on top, as Return-Path.
        maildir.add(f"Return-Path: <{sender}>\r\n".encode() + serialise(msg))

    async def close(self) -> None:
        return None


class EmailDispatcher:
    def __init__(
        self,
        db: Database,
        transport: SmtpTransport | MaildirTransport,
        *,
        mail_from: str,
        grammar: Grammar,
        clock: Callable[[], datetime],
        batch: int = 20,
        poll_seconds: float = 1.0,
        unknown_pause: float = delivery.UNKNOWN_PAUSE.total_seconds(),
    ) -> None:
        self.db = db
        self.transport = transport
        self.mail_from = mail_from
        self.grammar = grammar
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.unknown_pause = timedelta(seconds=unknown_pause)
        self.wake = asyncio.Event()
        # The process whose leases we take; ``zukunftsraum run`` registers it.
        self.owner = LeaseOwner()
        self.progress = SendProgress("email")

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    handled = await self.drain_once()
                except Exception as error:  # the database may be away for a moment
                    log.error("email dispatcher: %s", _one_line(error))
                    handled = 0
                if handled == 0:
                    await _wait_any(stop, self.wake, self.poll_seconds)
                    self.wake.clear()
        finally:
            await self.transport.close()

    async def drain(self) -> int:
        """Send everything due now (tests, CLI)."""
        total = 0
        while handled := await self.drain_once():
            total += handled
        return total

    async def drain_once(self) -> int:
        if not self.owner.may_send():
            return 0  # claim nothing until our heartbeat is recorded again
        now = self.clock()
        async with self.db.uow() as uow:
            claimed = await delivery.claim(uow, "email", now, self.batch, owner=self.owner.id)
            items = [
                await prepare(uow, m, now, lambda: new_message_id(self.mail_from)) for m in claimed
            ]
            await uow.commit()
        tried = 0
        for item in items:
            if not self.owner.may_send():
                break  # our heartbeat is stale: these leases may belong to another process now
            tried += 1
            try:
                await self._deliver(item)
            except Exception:
                await self._hand_back(items[tried:])
                raise
        await self._hand_back(items[tried:])
        if items:
            log.info("email outbox: %d of %d claimed messages handled", tried, len(items))
            await self._report_progress()
        return len(items)

    async def _report_progress(self) -> None:
        """The running count of a large send (a digest, an announcement), when one is due."""
        try:
            async with self.db.uow() as uow:
                await self.progress.report(uow)
        except Exception as error:  # only a log line is lost; the sending goes on
            log.warning("email outbox: progress not counted: %s", _one_line(error))

    async def _hand_back(self, untried: list[EmailToSend]) -> None:
        """Claimed but not tried: back to the queue at once, instead of waiting out the lease
        (two minutes) while this process lives on. The one being sent when something broke
        is not among them: it may have gone out."""
        if not untried:
            return
        try:
            async with self.db.uow() as uow:
                count = await delivery.hand_back(uow, [i.id for i in untried], self.owner.id)
                await uow.commit()
        except Exception as error:  # the database is away: the lease runs out instead
            log.error(
                "email dispatcher: %d claimed messages not handed back: %s",
                len(untried),
                _one_line(error),
            )
            return
        log.warning("email dispatcher: %d claimed messages handed back unsent", count)

    async def _deliver(self, item: EmailToSend) -> None:
        now = self.clock()
        error: str | None = None
        permanent = unsendable = unknown = False
        try:
            if is_own(item.address, self.mail_from):
                raise Unsendable("addressed to the assistant itself")  # never a loop
            msg = compose(item, self.mail_from, self.grammar, now)
            await self.transport.send(msg, envelope_sender(self.mail_from, item), item.address)
        except PermanentRefusal as refusal:
            permanent, error = True, str(refusal)
        except Unsendable as failure:
            unsendable, error = True, str(failure)
        except Exception as failure:  # network, server: retried with backoff
            error = _one_line(failure)
            unknown = outcome_unknown(failure)
        outcome: str | None = None  # a final one, for the running count
        async with self.db.uow() as uow:
            if error is None:
                await delivery.mark_sent(uow, item.id, self.clock(), external_id=item.message_id)
                outcome = progress.DELIVERED
            elif unsendable:
                log.error("email %s cannot be sent, set aside: %s", item.id, error)
                await delivery.give_up(uow, item.id, error)
                outcome = progress.FAILED
            elif permanent:
                log.warning("email to %s refused: %s", masked(item.address), error)
                where = await delivery.mark_unreachable(uow, item.id, self.clock(), error)
                moved = where not in ("failed", "unrouted")
                outcome = progress.MOVED if moved else progress.FAILED
            elif unknown:
                again = await delivery.mark_unknown(
                    uow, item.id, self.clock(), error, self.unknown_pause
                )
                log.warning("email %s: outcome unknown (%s), retry once: %s", item.id, error, again)
                outcome = None if again else progress.FAILED
            else:
                log.warning("email %s not sent, will retry: %s", item.id, error)
                kept = await delivery.mark_retry(uow, item.id, self.clock(), error)
                outcome = None if kept else progress.FAILED
            await uow.commit()
        if outcome is not None:
            self.progress.note(item.kind, item.id, outcome)


def outcome_unknown(error: BaseException) -> bool:
    """A timeout after connecting: the server may have taken the mail (same Message-ID)."""
    return isinstance(error, aiosmtplib.SMTPTimeoutError) and not isinstance(
        error, aiosmtplib.SMTPConnectTimeoutError
    )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
