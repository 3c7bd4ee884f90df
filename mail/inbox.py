"""Inbox watchers: IMAP (IDLE with a polling fallback) and a local Maildir.

Both follow the same order for every mail: fetch, store (committed), process, and only then
mark the mail as done on their side (an IMAP keyword or \\Seen; a move from new/ to cur/). A
crash anywhere before the mark leaves the mail to be fetched again; the store and the core's
dedupe make the second round harmless.

imapclient is synchronous, so every IMAP call runs in a worker thread and the event loop stays
free; IDLE waits in slices of a second so that a stop request is noticed quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mailbox
import os
import ssl
import time
from pathlib import Path

from imapclient import IMAPClient

from mail.incoming import MAX_MAIL_BYTES, InboundPipeline, batches

log = logging.getLogger(__name__)

DONE_KEYWORD = "$ZrProcessed"
# IDLE is ended and re-issued after this long (RFC 2177 asks for less than 29 minutes; we stay
# well below 10). Besides keeping NAT and server timeouts away, the renewal's NOOP and search
# pick up mail that arrived in the instant between the last command and IDLE, which Dovecot
# announces only at its next periodic check.
IDLE_RENEW_SECONDS = 60
MAX_IDLE_RENEW_SECONDS = 9 * 60
MAX_BACKOFF_SECONDS = 60


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class MaildirInbox:
    """Mails dropped into ``<dir>/new/`` are processed and moved to ``<dir>/cur/``."""

    folder = "maildir:inbox"

    def __init__(
        self, directory: Path, pipeline: InboundPipeline, poll_seconds: float = 1.0
    ) -> None:
        self.directory = Path(directory)
        self.pipeline = pipeline
        self.poll_seconds = poll_seconds

    def describe(self) -> str:
        return f"Dateien in {self.directory / 'new'}"

    def _maildir(self) -> mailbox.Maildir:
        for sub in ("tmp", "new", "cur"):  # a hand-made new/ alone is accepted too
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.directory, factory=None, create=True)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sync_once()
            except Exception as error:
                log.error("maildir inbox: %s: %s", type(error).__name__, error)
            await _sleep_or_stop(stop, self.poll_seconds)

    async def sync_once(self) -> int:
        box = self._maildir()
        await self.pipeline.process_pending()
        new_dir = self.directory / "new"
        names = sorted(n for n in os.listdir(new_dir) if not n.startswith("."))
        for batch in batches([(i, _size(new_dir / name)) for i, name in enumerate(names)]):
            taken = {}  # uid -> (file name, key, bytes)
            for name in (names[i] for i in batch):
                key = name.split(box.colon, 1)[0]
                try:
                    raw = box.get_bytes(key)
                except KeyError:
                    continue  # moved away meanwhile
                uid = int.from_bytes(hashlib.sha256(key.encode()).digest()[:7], "big")
                taken[uid] = (name, key, raw[:MAX_MAIL_BYTES])
            mails = [(uid, raw) for uid, (_, _, raw) in taken.items()]
            for uid, _ in await self.pipeline.take_many(self.folder, 0, mails):
                # Only after the mail is stored and processed: mark it seen, move it to cur/.
                name, key, _ = taken[uid]
                os.replace(new_dir / name, self.directory / "cur" / f"{key}{box.colon}2,S")
        return len(names)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class ImapInbox:
    def __init__(
        self,
        pipeline: InboundPipeline,
        *,
        host: str,
        port: int = 0,
        username: str,
        password: str,
        tls: str = "tls",
        folder: str = "INBOX",
        idle: bool = True,
        poll_seconds: float = 60,
        idle_renew_seconds: float = IDLE_RENEW_SECONDS,
        timeout: float = 60,
    ) -> None:
        self.pipeline = pipeline
        self.host = host
        self.port = port or (993 if tls == "tls" else 143)
        self.username = username
        self.password = password
        self.tls = tls
        self.folder = folder
        self.idle = idle
        self.poll_seconds = poll_seconds
        self.idle_renew_seconds = min(idle_renew_seconds, MAX_IDLE_RENEW_SECONDS)
        self.timeout = timeout
        self.connections = 0

    def describe(self) -> str:
        mode = "IDLE" if self.idle else f"Abruf alle {self.poll_seconds:g} s"
        return f"IMAP {self.host}:{self.port} ({self.tls}), Ordner {self.folder}, {mode}"

    # -- connection (runs in a worker thread) -----------------------------------------------

    def _connect(self) -> tuple[IMAPClient, int, bool]:
        context = ssl.create_default_context()
        client = IMAPClient(
            self.host,
            port=self.port,
            ssl=self.tls == "tls",
            ssl_context=context,
            timeout=self.timeout,
        )
        try:
            if self.tls == "starttls":
                client.starttls(context)
            client.login(self.username, self.password)
            selected = client.select_folder(self.folder)
        except Exception:
            _quietly_logout(client)
            raise
        uidvalidity = int(selected[b"UIDVALIDITY"])
        permanent = selected.get(b"PERMANENTFLAGS") or ()
        keywords = b"\\*" in permanent
        return client, uidvalidity, keywords

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            client = None
            try:
                client, uidvalidity, keywords = await asyncio.to_thread(self._connect)
                self.connections += 1
                backoff = 1.0
                await self._serve(client, uidvalidity, keywords, stop)
            except Exception as error:  # network, server restart, login: reconnect later
                log.warning("IMAP %s: %s: %s", self.host, type(error).__name__, error)
            finally:
                if client is not None:
                    await asyncio.to_thread(_quietly_logout, client)
            if not stop.is_set():
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _serve(
        self, client: IMAPClient, uidvalidity: int, keywords: bool, stop: asyncio.Event
    ) -> None:
        capabilities = await asyncio.to_thread(client.capabilities)
        use_idle = self.idle and b"IDLE" in capabilities
        while not stop.is_set():
            await self.pipeline.process_pending()
            # Until a search finds nothing: Dovecot (and others) do not announce at the start
            # of IDLE what arrived since the last command.
            while await self.sync(client, uidvalidity, keywords):
                pass
            if use_idle:
                await self._idle(client, stop)
            else:
                await _sleep_or_stop(stop, self.poll_seconds)

    async def sync(self, client: IMAPClient, uidvalidity: int, keywords: bool) -> int:
        """Store, process and flag every mail not flagged yet; returns how many."""
        criteria = ["UNKEYWORD", DONE_KEYWORD] if keywords else ["UNSEEN"]
        # NOOP first: it brings the session's view up to date, so the search sees mail that
        # arrived since the last command (a search alone answers from the old view).
        await asyncio.to_thread(client.noop)
        uids = sorted(await asyncio.to_thread(client.search, criteria))
        part = f"BODY.PEEK[]<0.{MAX_MAIL_BYTES}>"
        sizes = await asyncio.to_thread(client.fetch, uids, ["RFC822.SIZE"]) if uids else {}
        for batch in batches([(uid, sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) for uid in uids]):
            fetched = await asyncio.to_thread(client.fetch, batch, [part])
            # Mails deleted meanwhile have no body and are skipped.
            bodies = [
                (uid, raw) for uid in batch if (raw := _body(fetched.get(uid, {}))) is not None
            ]
            flags = [DONE_KEYWORD, b"\\Seen"] if keywords else [b"\\Seen"]
            taken = await self.pipeline.take_many(self.folder, uidvalidity, bodies)
            # Stored and processed, both committed: now the mails may be marked.
            if taken:
                await asyncio.to_thread(client.add_flags, [uid for uid, _ in taken], flags, True)
        return len(uids)

    async def _idle(self, client: IMAPClient, stop: asyncio.Event) -> None:
        await asyncio.to_thread(client.idle)
        started = time.monotonic()
        try:
            while not stop.is_set() and time.monotonic() - started < self.idle_renew_seconds:
                responses = await asyncio.to_thread(client.idle_check, 1.0)
                if any(_announces_mail(r) for r in responses):
                    return
        finally:
            await asyncio.to_thread(client.idle_done)


def _announces_mail(response) -> bool:
    return isinstance(response, tuple) and len(response) > 1 and response[1] in (b"EXISTS",)


def _body(data: dict) -> bytes | None:
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[") and isinstance(value, bytes):
            return value
    return None


def _quietly_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
