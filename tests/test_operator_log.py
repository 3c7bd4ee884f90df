"""The operator log of ``zukunftsraum run``: a line per handled item, no bodies, no addresses."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time

from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from zukunftsraum import oplog

STRANGER = "eva.roth@geheim-dorf.example"
BODY = "Vertraulich: unser Haushaltsloch beträgt 812.345 Euro"


def _capture():
    stream = io.StringIO()
    handler = oplog.configure(stream=stream)
    return stream, handler


async def test_one_line_per_mail_without_body_or_address(db, assistant, clock, tmp_path):
    world = MailWorld(db, assistant, clock, tmp_path)
    stream, handler = _capture()
    try:
        world.drop(mailclients.new_mail(STRANGER, MAIL_FROM, f"SUCHE {BODY}", BODY))
        await world.round()
    finally:
        logging.getLogger().removeHandler(handler)
    log = stream.getvalue()
    assert "incoming mail 1 from e…@geheim-dorf.example: answered" in log
    assert "email outbox: 1 of 1 claimed messages handled" in log
    assert STRANGER not in log and "Haushaltsloch" not in log and "812.345" not in log


def test_a_stray_address_is_masked():
    stream, handler = _capture()
    try:
        logging.getLogger("zr.test").info("delivery to %s failed", "anna.schmidt@prenzlau.de")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "a…@prenzlau.de" in stream.getvalue()
    assert "anna.schmidt@prenzlau.de" not in stream.getvalue()


def test_running_process_logs_the_answered_mail(tmp_path):
    """The real ``zukunftsraum run`` on files: the mail's line appears, its body never."""
    inbox = tmp_path / "mail" / "inbox" / "new"
    inbox.mkdir(parents=True)
    (inbox / "1.eml").write_bytes(mailclients.new_mail(STRANGER, MAIL_FROM, "Hallo", BODY))
    env = {
        **os.environ,
        "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}",
        "ZR_MAIL_DIR": str(tmp_path / "mail"),
        "ZR_SWEEP_SECONDS": "1",
    }
    for name in ("ZR_TELEGRAM_TOKEN", "ZR_SMTP_HOST", "ZR_IMAP_HOST"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "zukunftsraum", "db", "upgrade"], env=env, cwd=tmp_path, check=True
    )
    log_file = tmp_path / "run.log"
    with log_file.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "zukunftsraum", "run", "--verbose"],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120  # a bound on waiting, not a measurement
            while "claimed messages handled" not in log_file.read_text():
                assert process.poll() is None, log_file.read_text()
                assert time.monotonic() < deadline, log_file.read_text()
                time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=60)
    log = log_file.read_text()
    assert "incoming mail 1 from e…@geheim-dorf.example: answered" in log
    assert STRANGER not in log and "Haushaltsloch" not in log
