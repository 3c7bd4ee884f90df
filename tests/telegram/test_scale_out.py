"""Two real ``zukunftsraum run`` processes on one PostgreSQL database (DESIGN §3): the outbox
is shared, the singleton roles are elected, and the holder of the Telegram polling and IMAP
intake roles is killed with -9 halfway.

The size here is kept small for CI (ZR_SCALE_MESSAGES, ZR_SCALE_MAILS override it); the full
2,000 messages and 200 mails run in benchmarks/bench_scale_out.py with the same scenario.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import database_url
from tests.support import scale_out

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(
        database_url().startswith("sqlite"),
        reason="several processes need PostgreSQL (SQLite: one process)",
    ),
]

MESSAGES = int(os.environ.get("ZR_SCALE_MESSAGES", "300"))
MAILS = int(os.environ.get("ZR_SCALE_MAILS", "40"))


async def test_two_processes_share_the_work_and_survive_a_kill(db, tg, dovecot, smtp, tmp_path):
    seen = await scale_out.run(
        db, tg, dovecot, smtp, tmp_path, messages=MESSAGES, mails=MAILS, chats=MESSAGES // 4
    )
    # Before the kill: the first process holds the singleton roles, the second none of them.
    assert scale_out.POLLING in seen.roles_before["a"]
    assert not {r for r in seen.roles_before["b"] if r != "scheduler"} & {
        scale_out.POLLING,
        *[r for r in seen.roles_before["a"] if r.startswith("imap:")],
    }
    # After: the second took over polling and intake within the bound.
    assert scale_out.POLLING in seen.roles_after
    assert any(r.startswith("imap:") for r in seen.roles_after)
    assert seen.takeover_seconds <= 30, seen.takeover_seconds
    logs = seen.logs["b"]
    assert "Rolle übernommen: telegram-polling" in logs and "Traceback" not in logs

    # Outgoing: nothing lost; a second copy only of what the killed process held in its hands
    # (sent but not recorded when it died), and each such message is counted as unconfirmed.
    assert seen.lost == 0
    assert seen.duplicates <= seen.held_at_kill and seen.duplicates <= seen.unconfirmed
    assert set(seen.outbox_status) == {"sent"}, seen.outbox_status
    # Incoming: every mail stored once and processed once, each stranger answered once (an
    # answer can be sent twice only if the killed process held it at the kill).
    assert seen.inbound_rows == MAILS and seen.inbound_distinct == MAILS
    assert seen.inbound_status == {"done": MAILS}, seen.inbound_status
    assert set(seen.answers) == seen.strangers
    assert sum(seen.answers.values()) - MAILS <= seen.held_at_kill + seen.unconfirmed
    # The offer was posted through the first process, the request through the second.
    assert seen.offer_by == "a" and seen.request_by == "b" and seen.matched
    # The surviving process's metrics show the work.
    assert re.search(
        r'^zr_outbox_messages\{channel="telegram",status="sent"\} \d', seen.metrics, re.M
    )
    assert re.search(r"^zr_match_duration_seconds_count [1-9]", seen.metrics, re.M)
    print(
        f"\n{MESSAGES} messages, {MAILS} mails: takeover {seen.takeover_seconds:.1f} s, "
        f"held at kill {seen.held_at_kill}, duplicates {seen.duplicates}, "
        f"unconfirmed {seen.unconfirmed}, {seen.elapsed:.0f} s"
    )
