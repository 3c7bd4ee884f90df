"""``zukunftsraum run`` against mail that used to stop its inbox, and the operators' commands.

A real process on a real SQLite file with the Maildir inbox (no servers configured): mails are
dropped into ``ZR_MAIL_DIR/inbox/new`` and the answers read from ``ZR_MAIL_DIR/outbox/new``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.maildir import delivered
from tests.support.waiting import wait_until

ANNA = "anna.schmidt@prenzlau.example"
BEA = "bea.berg@templin.example"
MAIL_FROM = "assistent@zukunftsraum.localhost"


def _drop(inbox: Path, name: str, raw: bytes) -> None:
    (inbox / "tmp").mkdir(parents=True, exist_ok=True)
    (inbox / "new").mkdir(parents=True, exist_ok=True)
    (inbox / "tmp" / name).write_bytes(raw)
    os.replace(inbox / "tmp" / name, inbox / "new" / name)


def test_run_survives_8bit_and_unreadable_mail_and_operators_see_it(cli, tmp_path):
    for name, email, ags in (("Anna Schmidt", ANNA, "12073452"), ("Bea Berg", BEA, "12073572")):
        added = cli(
            "members",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--municipality",
            ags,
            "--role",
            "volunteer",
        )
        assert added.returncode == 0, added.stderr
    mail = tmp_path / "mail"
    inbox, outbox = mail / "inbox", mail / "outbox" / "new"
    # The mail that stopped the inbox for good: raw 8-bit bytes in the Subject.
    _drop(
        inbox,
        "1.poison",
        (
            f"From: {ANNA}\r\nTo: {MAIL_FROM}\r\nSubject: MEINE Gr\xfc\xdfe\r\n"
            "Message-ID: <p1@prenzlau.example>\r\n\r\nHallo\r\n"
        ).encode("latin-1"),
    )
    _drop(inbox, "2.garbage", b"\x00\x01 no mail at all")
    _drop(
        inbox,
        "3.clean",
        (
            f"From: {BEA}\r\nTo: {MAIL_FROM}\r\nSubject: HILFE\r\n"
            "Message-ID: <c1@templin.example>\r\n\r\nHallo\r\n"
        ).encode(),
    )
    env = {
        **os.environ,
        "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}",
        "ZR_MAIL_DIR": str(mail),
        "ZR_SWEEP_SECONDS": "3600",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "zukunftsraum", "run"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: not list((inbox / "new").iterdir()), what="the inbox to drain")
        wait_until(lambda: outbox.exists() and len(list(outbox.iterdir())) == 2, what="two answers")
    finally:
        service.terminate()
        _, stderr = service.communicate(timeout=30)
    answers = [p.read_bytes() for p in delivered(outbox)]
    assert any(b"To: " + ANNA.encode() in a for a in answers)
    assert any(b"To: " + BEA.encode() in a for a in answers)
    for answer in answers:
        head = answer.split(b"\r\n\r\n", 1)[0]
        assert head.isascii() and b"\x00" not in head
    log = stderr.decode(errors="replace")
    assert "Traceback" not in log
    assert log.count("set aside") == 1  # the unreadable mail: one line

    listed = cli("mail", "failed")
    assert listed.returncode == 0, listed.stderr
    assert "unreadable" in listed.stdout and "Eingehend" in listed.stdout
    rows = [
        json.loads(line) for line in cli("mail", "failed", "--format", "json").stdout.splitlines()
    ]
    (mail_id,) = [str(r["id"]) for r in rows if "unreadable" in (r["error"] or "")]
    retried = cli("mail", "retry", mail_id)
    assert retried.returncode == 0 and mail_id in retried.stdout
    assert "Keine zurückgestellten" in cli("mail", "failed").stdout
    again = cli("mail", "retry", mail_id)
    assert again.returncode == 2 and "keine zurückgestellte" in again.stderr
    assert cli("mail", "retry", "999", "--outbox").returncode == 2
