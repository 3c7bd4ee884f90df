"""Real mail servers for tests: Dovecot (IMAP) and aiosmtpd (SMTP), on free local ports.

Dovecot comes from Debian's ``dovecot-imapd`` package; each test session starts its own
unprivileged-port instance with a config in a temporary directory (plain authentication,
users from a passwd-file, Maildir storage in the same directory) and stops it at the end.
Without the ``dovecot`` binary the tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from tests.support.shared import unavailable

IMAP_USER = "assistent"
IMAP_PASSWORD = "geheim-nur-fuer-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"Dovecot did not start on port {port}:\n{text}")


def require_dovecot() -> str:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary:
        return binary
    unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    raise AssertionError("unreachable: unavailable() skips or fails")


def _mail_owner() -> tuple[int, int, str, str]:
    """The system user that owns the mail files. Dovecot never serves mail as root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    for name in ("dovecot", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid, name, grp.getgrgid(entry.pw_gid).gr_name
    raise RuntimeError("no unprivileged user for Dovecot's mail files")


CONFIG_23 = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen
    host: str = "127.0.0.1"
    user: str = IMAP_USER
    password: str = IMAP_PASSWORD

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        client.select_folder("INBOX")
        return client

    def append(self, raw: bytes) -> None:
        client = self.client()
        try:
            client.append("INBOX", raw)
        finally:
            client.logout()

    def flags(self) -> dict[int, tuple]:
        client = self.client()
        try:
            uids = client.search(["ALL"])
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}
        finally:
            client.logout()

    def stop(self) -> None:
        """End the server and every connection it serves (as a crash or restart does)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def dovecot_root() -> Path:
    """A directory Dovecot's unprivileged processes can reach (pytest's tmp dirs are 0700)."""
    root = Path(tempfile.mkdtemp(prefix="zr-dovecot-"))
    os.chmod(root, 0o777)
    return root


def start_dovecot(root: Path, port: int | None = None) -> Dovecot:
    binary = require_dovecot()
    uid, gid, user, group = _mail_owner()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for path in (root, root / "mail", root / "home", root / "state"):
        os.chmod(path, 0o777)  # the mail owner may be another user than the test runner
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
    port = port or free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG_23.format(root=root, port=port, uid=uid, gid=gid, user=user, group=group)
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() ends every Dovecot process
    )
    try:
        _wait_for_port(port, process, root / "dovecot.log")
    except RuntimeError:
        process.kill()
        raise
    return Dovecot(root=root, port=port, process=process)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it


@dataclass
class SinkHandler:
    """aiosmtpd handler that keeps every message; some recipients are refused for good."""

    messages: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.arrived:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = self._controller()

    def _controller(self) -> Controller:
        return Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def restart(self) -> None:
        """Drop every connection (as a server restart does) and listen again."""
        self.controller.stop()
        self.controller = self._controller()
        self.controller.start()

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.messages)
