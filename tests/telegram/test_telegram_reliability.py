"""What must not go wrong: refused webhooks, duplicates, blocked users, 429s, bad updates,
failing handlers."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from bot.limits import SendLimits
from core.conversation.assistant import Assistant
from core.feature_set import all_features
from core.kernel.grammar import Command, Grammar
from tests.telegram.conftest import running
from tests.telegram.helpers import (
    add_telegram_member,
    eventually,
    has_text,
    member,
    outbox,
    posts,
    queue_message,
    recorded_as_sent,
)

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

# PTB formats RetryAfter with the deprecated int form of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

OFFER = "Wir teilen unser Bürgerbus-Konzept"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_refuses_requests_without_the_secret(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    port = _free_port()
    webhook = {
        "webhook_url": f"http://127.0.0.1:{port}/telegram",
        "webhook_secret": "geheim-123",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
    }
    async with run_bot(**webhook):
        assert tg.webhook.secret_token == "geheim-123"
        forged = tg.user_sends_command(anna.id, "biete", OFFER)
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))
        forged = forged | {"update_id": forged["update_id"] + 1000}
        assert await tg.post_to_webhook(forged, secret_token=None) == 403
        assert await tg.post_to_webhook(forged, secret_token="falsch") == 403
        tg.user_sends_command(anna.id, "meine")
        await tg.wait_for_message(anna.id, has_text("Ihre Beiträge (1)"))
    assert len(await posts(db)) == 1
    statuses = {d.update_id: d.status for d in tg.webhook_deliveries}
    assert [s for u, s in statuses.items() if u != forged["update_id"]] == [200, 200]


NOT_UPDATES = [
    b"{broken",
    b"\xff\xfe not text",
    b"[1, 2, 3]",
    b'"just a string"',
    b"{}",
    b'{"update_id": "seven"}',
    b'{"update_id": 7, "message": {"text": "no chat, no date"}}',
]


async def test_webhook_answers_400_with_one_line_to_a_body_that_is_not_an_update(
    db, tg, run_bot, caplog
):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    webhook = {
        "webhook_url": url,
        "webhook_secret": "geheim-123",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
    }
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": "geheim-123",
    }
    caplog.set_level(logging.DEBUG)
    async with run_bot(**webhook), httpx.AsyncClient() as client:
        caplog.clear()
        for body in NOT_UPDATES:
            answer = await client.post(url, content=body, headers=headers)
            assert answer.status_code == 400, body
        refusals = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(refusals) == len(NOT_UPDATES)
        assert all(r.exc_info is None and "not an update" in r.getMessage() for r in refusals)
        assert not any("Traceback" in r.getMessage() for r in caplog.records)
        # The webhook goes on serving real updates.
        tg.user_sends_command(anna.id, "biete", OFFER)
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))
    assert len(await posts(db)) == 1


async def test_a_redelivered_update_is_processed_once(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    async with run_bot():
        update = tg.user_sends_command(anna.id, "biete", OFFER)
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))
        tg.redeliver(update)
        tg.user_sends_command(anna.id, "meine")
        await tg.wait_for_message(anna.id, has_text("Ihre Beiträge"))
    assert len(await posts(db)) == 1
    assert [m.text for m in tg.sent_messages(anna.id)].count(tg.sent_messages(anna.id)[0].text) == 1


async def test_a_blocked_bot_marks_the_member_unreachable(db, tg, run_bot):
    anna, ben = tg.add_user(), tg.add_user()
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id, "anna@example.org")
    b = await add_telegram_member(db, "Ben Wagner", "14521690", ben.id)
    async with run_bot():
        tg.block_bot(anna.id, notify=False)  # Telegram answers 403 from now on
        failing = await queue_message(db, a.id, "Ein neuer Treffer für Sie")
        tg.block_bot(ben.id)  # the my_chat_member notice, before any message fails

        async def rerouted():
            return {m.id: m for m in await outbox(db)}[failing].channel == "email"

        async def ben_unreachable():
            return (await member(db, b.id)).telegram_unreachable_at

        await eventually(rerouted)
        await eventually(ben_unreachable)
    # The message that met the 403 is not lost: it waits for the email dispatcher.
    stored = {m.id: m for m in await outbox(db)}[failing]
    assert stored.status == "pending" and stored.address == "anna@example.org"
    assert stored.attempts == 0 and "blocked" in stored.last_error
    assert stored.meta["rerouted_from"] == "telegram"
    assert (await member(db, a.id)).telegram_unreachable_at is not None
    # Anna's next message goes to her email instead; nothing more is sent to the chat.
    later = await queue_message(db, a.id, "Noch ein Treffer")
    assert {m.id: m for m in await outbox(db)}[later].channel == "email"
    assert tg.sent_messages(anna.id) == []


async def test_a_429_in_one_chat_does_not_stall_another(db, tg, run_bot):
    anna, ben = tg.add_user(), tg.add_user()
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    b = await add_telegram_member(db, "Ben Wagner", "14521690", ben.id)
    # Telegram enforces one message per second per chat; our side is told it may send
    # faster, so Anna's second message runs into a 429.
    tg.enable_rate_limits()
    for number in (1, 2, 3):
        await queue_message(db, a.id, f"Nachricht {number} an Anna")
    await queue_message(db, b.id, "Nachricht an Ben")
    async with run_bot(limits=SendLimits.unlimited()):
        to_ben = await tg.wait_for_message(ben.id, has_text("an Ben"))
        to_anna = [await tg.wait_for_message(anna.id, timeout=15) for _ in range(3)]
        await recorded_as_sent(db)

    assert tg.too_many_requests >= 1
    assert [m.text for m in to_anna] == [f"Nachricht {n} an Anna" for n in (1, 2, 3)]
    assert to_ben.received_at < to_anna[1].received_at  # Ben did not wait for Anna's retry
    assert {m.status for m in await outbox(db)} == {"sent"}
    assert all(m.attempts == 0 for m in await outbox(db))  # a 429 is no failed attempt


BAD_UPDATE = {
    "message": {
        "message_id": 999,
        "date": 1721162577,
        "chat": {"id": 0, "type": "private", "first_name": "Anna"},
        # A gift as older clients describe it: without gift_id, which PTB requires.
        "unique_gift": {"gift": {"base_name": "n", "name": "n", "number": 1}, "origin": "resale"},
    }
}


async def test_an_undecodable_update_is_skipped_and_intake_goes_on(db, tg, run_bot, caplog):
    anna, ben = tg.add_user(), tg.add_user()
    tg.user_sends_command(anna.id, "hilfe")
    bad = {
        "message": BAD_UPDATE["message"] | {"chat": BAD_UPDATE["message"]["chat"] | {"id": anna.id}}
    }
    bad = tg.inject_update(bad)
    tg.user_sends_command(ben.id, "hilfe")
    with caplog.at_level(logging.WARNING):
        async with run_bot():
            await tg.wait_for_message(anna.id, has_text("/biete"))
            await tg.wait_for_message(ben.id, has_text("/biete"))
            tg.user_sends_command(anna.id, "hilfe")  # and later updates, too
            await tg.wait_for_message(anna.id, has_text("/biete"))
    assert f"skipped update {bad['update_id']} (message)" in caplog.text
    assert tg.pending_updates == 0


async def _fail(ctx, args: str):
    raise RuntimeError(f"database exploded while storing {args!r}")


async def test_a_failing_handler_gets_an_apology_and_the_bot_goes_on(db, services, tg, caplog):
    grammar = Grammar(
        [*GRAMMAR.commands, Command("kaputt", _fail, listed=False, needs_member=False)]
    )
    assistant = Assistant(db, services, grammar)
    anna = tg.add_user()
    with caplog.at_level(logging.INFO):
        async with running(tg, assistant):
            failing = tg.user_sends_command(anna.id, "kaputt", "Geheimer Inhalt")
            await tg.wait_for_message(anna.id, has_text("Entschuldigung"))
            tg.user_sends_command(anna.id, "hilfe")
            await tg.wait_for_message(anna.id, has_text("/biete"))
    assert f"update {failing['update_id']} failed: builtins.RuntimeError" in caplog.text
    assert "Geheimer Inhalt" not in caplog.text and tg.token not in caplog.text


async def test_a_broadcast_is_counted_in_the_operator_log(db, tg, run_bot, caplog):
    """The Telegram dispatcher of ``zukunftsraum run`` logs a running count of a large send
    and its end: kind, counts and outbox ids, never a chat id or a text."""
    caplog.set_level(logging.INFO, logger="core.messaging.progress")
    ids = []
    for n in range(110):
        user = tg.add_user()
        added = await add_telegram_member(db, f"Mitglied {n}", "12073452", user.id)
        ids.append(await queue_message(db, added.id, f"Rundbrief {n}"))

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "core.messaging.progress"]

    async def done():
        return any("broadcast done" in line for line in lines())

    # A send that met a network error under load is tried again soon (not after 30 s).
    async with run_bot(limits=SendLimits.unlimited(), unknown_pause=0.2):
        await eventually(done, timeout=90)
    sent = sum(1 for m in await outbox(db) if m.status == "sent")
    assert lines()[-1] == (
        f"telegram test broadcast done: {sent} delivered, {110 - sent} failed "
        f"(outbox ids {ids[0]}-{ids[-1]})"
    )
    assert sent >= 100  # nearly all of them went out on the first or the second try
    running = lines()[:-1]
    assert all(" of 110 delivered, " in line for line in running)
    assert not any("Rundbrief" in line for line in lines())
