"""A complete email channel for tests: the real pipeline, dispatcher and inbox watchers.

``MailWorld`` runs on files by default (the embedded Maildir mode): mails are dropped into
``inbox/new`` and the assistant's mails are read from ``outbox/new``. The server tests swap
the transport and the inbox for SMTP and IMAP and reuse the helpers.
"""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from core.feature_set import all_features
from core.kernel.context import Sender
from core.members import accounts as members
from mail.inbox import MaildirInbox
from mail.incoming import InboundPipeline
from mail.outgoing import EmailDispatcher, MaildirTransport
from tests.support.mailclients import parse
from tests.support.maildir import delivered

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

MAIL_FROM = "assistent@zukunftsraum.example"


class MailWorld:
    def __init__(
        self,
        db,
        assistant,
        clock,
        directory: Path,
        transport=None,
        authserv_ids=(),
        mail_from: str = MAIL_FROM,
    ) -> None:
        self.db = db
        self.assistant = assistant
        self.clock = clock
        self.directory = directory
        self.transport = transport or MaildirTransport(directory / "outbox")
        self.dispatcher = EmailDispatcher(
            db, self.transport, mail_from=mail_from, grammar=GRAMMAR, clock=clock
        )
        self.pipeline = InboundPipeline(assistant, mail_from=mail_from, authserv_ids=authserv_ids)
        self.inbox = MaildirInbox(directory / "inbox", self.pipeline)
        self._seen: set[str] = set()
        self._names = itertools.count(1)

    # -- members ------------------------------------------------------------------------------

    async def member(self, name: str, email: str, ags: str = "12073452", role: str = "volunteer"):
        async with self.db.uow() as uow:
            member = await members.add_member(
                uow, members.NewMember(name, role, ags, email=email, consent=True), self.clock()
            )
            await uow.commit()
        return member

    async def say(self, email: str, text: str):
        """A member acting through the core directly (e.g. a post written on Telegram)."""
        return await self.assistant.handle(Sender("email", email), text)

    # -- mail in and out ----------------------------------------------------------------------

    def drop(self, raw: bytes) -> Path:
        new = self.directory / "inbox" / "new"
        new.mkdir(parents=True, exist_ok=True)
        path = new / f"{next(self._names):06d}.test.eml"
        path.write_bytes(raw)
        return path

    async def round(self) -> None:
        await self.inbox.sync_once()
        await self.dispatcher.drain()

    def sent_files(self) -> list[Path]:
        return delivered(self.directory / "outbox" / "new")

    def sent(self) -> list[EmailMessage]:
        return [parse(p.read_bytes()) for p in self.sent_files()]

    def new_mail_for(self, address: str) -> list[EmailMessage]:
        """Mails to ``address`` not returned before (in sending order)."""
        fresh = []
        for msg in self.sent():
            key = str(msg["Message-ID"])
            if key in self._seen or parseaddr(str(msg["To"]))[1].lower() != address.lower():
                continue
            self._seen.add(key)
            fresh.append(msg)
        return fresh
