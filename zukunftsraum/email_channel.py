"""Wiring of the email channel: the dispatcher and the inbox watcher for ``zukunftsraum run``.

With SMTP or IMAP configured they talk to the servers; without, mail is files under
``ZR_MAIL_DIR`` (outgoing mail in ``outbox/new``, incoming mail picked up from ``inbox/new``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mail.inbox import ImapInbox, MaildirInbox
from mail.incoming import InboundPipeline
from mail.outgoing import EmailDispatcher, MaildirTransport, SmtpTransport
from zukunftsraum.bootstrap import App


@dataclass
class EmailChannel:
    dispatcher: EmailDispatcher
    inbox: ImapInbox | MaildirInbox

    async def run_dispatcher(self, app: App, stop: asyncio.Event) -> None:
        await self.dispatcher.run(stop)

    async def run_inbox(self, app: App, stop: asyncio.Event) -> None:
        await self.inbox.run(stop)

    @property
    def intake_role(self) -> str:
        """The lock name of this mailbox folder's intake: one process at a time reads it."""
        inbox = self.inbox
        if isinstance(inbox, ImapInbox):
            return f"imap:{inbox.username}@{inbox.host}:{inbox.port}/{inbox.folder}"
        return f"imap:maildir:{inbox.directory.resolve()}"


def build_email_channel(app: App) -> EmailChannel:
    settings = app.settings
    if settings.smtp_enabled:
        transport: SmtpTransport | MaildirTransport = SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )
    else:
        transport = MaildirTransport(settings.mail_dir / "outbox")
    dispatcher = EmailDispatcher(
        app.db,
        transport,
        mail_from=settings.mail_from,
        grammar=app.services.features.grammar,
        clock=app.services.clock,
        unknown_pause=settings.unknown_retry_seconds,
    )
    # Answers are sent at once instead of at the dispatcher's next poll.
    pipeline = InboundPipeline(
        app.assistant,
        mail_from=settings.mail_from,
        on_answer=dispatcher.wake.set,
        authserv_ids=settings.mail_authserv_ids,
    )
    if settings.imap_enabled:
        inbox: ImapInbox | MaildirInbox = ImapInbox(
            pipeline,
            host=settings.imap_host,
            port=settings.imap_port,
            username=settings.imap_username,
            password=settings.imap_password,
            tls=settings.imap_tls,
            folder=settings.imap_folder,
            idle=settings.imap_idle,
            poll_seconds=settings.imap_poll_seconds,
        )
    else:
        inbox = MaildirInbox(settings.mail_dir / "inbox", pipeline)
    return EmailChannel(dispatcher, inbox)
