"""Delivery under faults of the Bot API: server errors, slow answers, blocked users.

The member's answer is decided by the effect's transaction; a failure to deliver it is a
delivery problem, retried through the outbox, and never reported as "not stored".
"""

from __future__ import annotations

import pytest

from core.digests.staff import delivery_section
from core.kernel.texts import t
from core.store.models import OutboxMessage
from tests.support.botapi.errors import forbidden
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

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

OFFER = "Wir teilen unser Bürgerbus-Konzept"
NOT_STORED = "nicht gespeichert"


def texts(tg, chat_id: int) -> list[str]:
    return [m.text or "" for m in tg.sent_messages(chat_id)]


async def test_a_500_on_the_answer_to_biete_delivers_the_truth_later(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    async with run_bot():
        tg.faults.fail_next("sendMessage", 1)
        tg.user_sends_command(anna.id, "biete", OFFER)
        confirmation = await tg.wait_for_message(anna.id, has_text("veröffentlicht"), timeout=10)
        await recorded_as_sent(db, "answer")
    assert len(await posts(db)) == 1
    assert not any(NOT_STORED in text for text in texts(tg, anna.id))
    assert texts(tg, anna.id) == [confirmation.text]  # nothing else, nothing twice
    [queued] = [m for m in await outbox(db) if m.kind == "answer"]
    assert queued.status == "sent" and queued.unconfirmed == 0


async def test_two_500s_in_a_row_still_answer_hilfe(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    async with run_bot():
        tg.faults.fail_next("sendMessage", 2)
        tg.user_sends_command(anna.id, "hilfe")
        await tg.wait_for_message(anna.id, has_text("/biete"), timeout=15)
        await recorded_as_sent(db, "answer")
    assert tg.faults.injected == 2
    assert len(texts(tg, anna.id)) == 1
    [queued] = [m for m in await outbox(db) if m.kind == "answer"]
    assert queued.status == "sent" and queued.attempts == 1  # one failed try in the outbox


async def test_a_failing_handler_apologises_through_the_outbox_if_need_be(db, tg, run_bot):
    anna = tg.add_user()  # not registered: the registration dialogue answers
    async with run_bot():
        tg.faults.fail_next("sendMessage", 1)
        tg.user_sends_text(anna.id, "Hallo")
        await tg.wait_for_message(anna.id, timeout=10)
        await recorded_as_sent(db, "answer")
    [queued] = [m for m in await outbox(db) if m.kind == "answer"]
    assert queued.member_id is None and queued.address == str(anna.id)
    assert queued.status == "sent"


async def test_a_slow_api_within_the_timeout_sends_each_message_once(db, tg, run_bot):
    anna = tg.add_user()
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    tg.faults.latency = 6.0  # longer than PTB's default read timeout of 5 s
    async with run_bot():
        await queue_message(db, a.id, "Ein neuer Treffer für Sie")
        tg.user_sends_command(anna.id, "hilfe")
        await eventually(lambda: _all_sent(db), timeout=30)
        tg.faults.latency = 0.0
    assert "Ein neuer Treffer für Sie" in texts(tg, anna.id)
    assert len(texts(tg, anna.id)) == 2  # the message and the answer, each once
    assert all(m.unconfirmed == 0 for m in await outbox(db))


async def _all_sent(db) -> bool:
    rows = await outbox(db)
    return bool(rows) and all(m.status == "sent" for m in rows)


async def test_a_timed_out_send_is_retried_once_and_counted(db, tg, run_bot):
    anna = tg.add_user()
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    tg.faults.latency = 1.0
    async with run_bot(read_timeout=0.3, unknown_pause=0.3):
        first = await queue_message(db, a.id, "Ein neuer Treffer für Sie")

        async def given_up() -> OutboxMessage | None:
            row = {m.id: m for m in await outbox(db)}[first]
            return row if row.status == "uncertain" else None

        row = await eventually(given_up, timeout=15)
        tg.faults.latency = 0.0
    # Each attempt reached Telegram; the retry was the only one, and it is counted.
    assert texts(tg, anna.id) == ["Ein neuer Treffer für Sie"] * 2
    assert row.unconfirmed == 1 and "TimedOut" in row.last_error


async def test_a_timed_out_answer_is_not_apologised_for(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    tg.faults.latency = 1.0
    async with run_bot(read_timeout=0.3, unknown_pause=1.5):
        tg.user_sends_command(anna.id, "hilfe")
        await tg.wait_for_message(anna.id, has_text("/biete"), timeout=5)
        tg.faults.latency = 0.0  # the retry after the pause gets its answer in time

        async def retried() -> bool:
            rows = [m for m in await outbox(db) if m.kind == "answer"]
            return bool(rows) and rows[0].status == "sent"

        await eventually(retried, timeout=10)
    [queued] = [m for m in await outbox(db) if m.kind == "answer"]
    assert queued.unconfirmed == 1  # the possible duplicate is counted
    assert not any(NOT_STORED in text for text in texts(tg, anna.id))
    assert len(texts(tg, anna.id)) == 2


async def test_an_answer_that_meets_a_403_goes_by_email(db, tg, run_bot):
    anna = tg.add_user()
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id, "anna@example.org")
    async with run_bot():
        # Anna blocks the bot while it answers her (writing to it would unblock it).
        tg.faults.fail_next("sendMessage", 1, forbidden("bot was blocked by the user"))
        tg.user_sends_command(anna.id, "hilfe")

        async def queued():
            return [m for m in await outbox(db) if m.kind == "answer"]

        [answer] = await eventually(queued)
    assert answer.channel == "email" and answer.address == "anna@example.org"
    assert answer.member_id == a.id and answer.status == "pending"
    assert tg.sent_messages(anna.id) == []
    assert (await member(db, a.id)).telegram_unreachable_at is not None


async def test_without_another_channel_the_staff_digest_names_the_member(db, tg, run_bot):
    ben = tg.add_user()
    b = await add_telegram_member(db, "Ben Wagner", "14521690", ben.id)
    async with run_bot():
        tg.block_bot(ben.id, notify=False)
        failing = await queue_message(db, b.id, "Ein neuer Treffer für Sie")

        async def unrouted():
            return {m.id: m for m in await outbox(db)}[failing].status == "unrouted"

        await eventually(unrouted)
    async with db.uow() as uow:
        now = (await outbox(db))[0].created_at
        section = await delivery_section(uow, now, now, None)
    line = t("digest.unrouted_line", id=b.id, name="Ben Wagner", count=1)
    assert line in section.lines


async def test_a_server_allowing_less_than_30_per_second_gets_few_429s(db, tg, run_bot):
    from bot.limits import SendLimits
    from tests.support.botapi import RateLimits

    chats = [tg.add_user().id for _ in range(60)]
    members = [
        await add_telegram_member(db, f"Person {n}", "12073452", chat)
        for n, chat in enumerate(chats)
    ]
    for person in members:
        await queue_message(db, person.id, f"Neuigkeit für {person.name}")
    tg.enable_rate_limits(RateLimits(enabled=True, global_per_second=10))
    async with run_bot(limits=SendLimits.telegram()) as channel:
        await eventually(lambda: _all_sent(db), timeout=60)
        lowered = channel.limiter.rate
    # Pacing at a fixed 30/s the server refuses more than one send in two (77 429s for these
    # 60 messages); adapting, only the first bursts while the rate is learnt are refused.
    assert tg.too_many_requests <= 15, tg.too_many_requests
    assert lowered < 30
    assert sorted(m.chat_id for m in tg.sent_messages()) == sorted(chats)
