"""Outbox delivery bookkeeping shared by every channel dispatcher."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.kernel.replies import Reply
from core.members.accounts import NewMember, add_member
from core.messaging import delivery
from core.messaging.outbox import enqueue
from core.runtime import processes
from core.store.models import OutboxMessage, ServiceProcess


async def _member_with_message(db, clock, **fields):
    async with db.uow() as uow:
        member = await add_member(
            uow, NewMember("Anna Schmidt", "mayor", "12073452", consent=True, **fields), clock()
        )
        message = enqueue(uow, member, Reply("Hallo"), kind="test", now=clock())
        await uow.commit()
    return member, message


async def test_claim_lease_and_sent(db, clock):
    _, message = await _member_with_message(db, clock, telegram_chat_id=42)
    assert message.channel == "telegram" and message.address == "42"
    async with db.uow() as uow:
        claimed = await delivery.claim(uow, "telegram", clock())
        await uow.commit()
    assert [m.id for m in claimed] == [message.id]
    async with db.uow() as uow:  # leased: nobody else gets it
        assert await delivery.claim(uow, "telegram", clock()) == []
    clock.advance(minutes=3)  # the lease ran out (crashed dispatcher): claimable again
    async with db.uow() as uow:
        assert len(await delivery.claim(uow, "telegram", clock())) == 1
        await delivery.mark_sent(uow, message.id, clock(), external_id="7")
        await uow.commit()
    clock.advance(minutes=10)
    async with db.uow() as uow:
        assert await delivery.claim(uow, "telegram", clock()) == []


async def test_retry_backoff_then_give_up(db, clock):
    _, message = await _member_with_message(db, clock, email="a@example.org")
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        async with db.uow() as uow:
            claimed = await delivery.claim(uow, "email", clock())
            assert len(claimed) == 1, attempt
            kept = await delivery.mark_retry(uow, message.id, clock(), "timeout")
            await uow.commit()
        assert kept == (attempt < delivery.MAX_ATTEMPTS)
        async with db.uow() as uow:  # not due before its backoff
            assert await delivery.claim(uow, "email", clock()) == []
        clock.advance(hours=7)
    async with db.uow() as uow:
        stored = await uow.session.scalar(select(OutboxMessage))
        assert stored.status == "failed" and stored.attempts == delivery.MAX_ATTEMPTS


async def test_unreachable_telegram_falls_back_to_email(db, clock):
    member, message = await _member_with_message(
        db, clock, telegram_chat_id=42, email="a@example.org"
    )
    async with db.uow() as uow:
        await delivery.claim(uow, "telegram", clock())
        await delivery.mark_unreachable(uow, message.id, clock(), "bot was blocked")
        await uow.commit()
    async with db.uow() as uow:
        member = await uow.members.get(member.id)
        assert member.telegram_unreachable_at is not None
        again = enqueue(uow, member, Reply("Noch einmal"), kind="test", now=clock())
        assert again.channel == "email"


async def test_events_are_processed_once(db, clock):
    async with db.uow() as uow:
        assert await delivery.first_time(uow, "telegram", "1001", clock())
        await uow.commit()
    async with db.uow() as uow:
        assert not await delivery.first_time(uow, "telegram", "1001", clock())


async def test_reply_tokens_are_unguessable_and_bound(db, clock):
    member, _ = await _member_with_message(db, clock, email="a@example.org")
    async with db.uow() as uow:
        first = await delivery.reply_token(uow, member.id, "match:1", clock())
        second = await delivery.reply_token(uow, member.id, "match:1", clock())
        await uow.commit()
    assert first != second and len(first) >= 20
    async with db.uow() as uow:
        token = await delivery.resolve_reply_token(uow, first)
        assert token.member_id == member.id and token.ref == "match:1"
        assert await delivery.resolve_reply_token(uow, "nope") is None
        # Case-sensitive: a token with its case changed is another (unknown) token.
        assert await delivery.resolve_reply_token(uow, first.swapcase()) is None
        assert await delivery.resolve_reply_token(uow, first.upper()) is None


async def test_a_timed_out_send_is_retried_once_then_left_uncertain(db, clock):
    _, message = await _member_with_message(db, clock, telegram_chat_id=42)
    async with db.uow() as uow:
        await delivery.claim(uow, "telegram", clock())
        assert await delivery.mark_unknown(uow, message.id, clock(), "TimedOut") is True
        await uow.commit()
    async with db.uow() as uow:
        assert await delivery.claim(uow, "telegram", clock()) == []  # not before the pause
    clock.advance(seconds=31)
    async with db.uow() as uow:
        assert len(await delivery.claim(uow, "telegram", clock())) == 1
        assert await delivery.mark_unknown(uow, message.id, clock(), "TimedOut") is False
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.session.get(OutboxMessage, message.id)
        assert stored.status == "uncertain" and stored.unconfirmed == 1
        assert stored.attempts == 0  # an unknown outcome is no failed attempt


async def _claimed_by(db, clock, owner: int) -> OutboxMessage:
    async with db.uow() as uow:
        [claimed] = await delivery.claim(uow, "telegram", clock(), owner=owner)
        await uow.commit()
    return claimed


async def test_a_restarted_process_takes_back_its_dead_predecessors_leases(db, clock):
    await _member_with_message(db, clock, telegram_chat_id=42)
    async with db.uow() as uow:
        dead = await processes.register(uow, "run", "host-a", 111, clock())
        other_host = await processes.register(uow, "run", "host-b", 111, clock())
        await uow.commit()
    await _claimed_by(db, clock, dead.id)
    clock.advance(seconds=1)
    async with db.uow() as uow:
        me = await processes.register(uow, "run", "host-a", 222, clock())
        released = await processes.release_predecessors(uow, me, clock(), lambda p: p.pid == 111)
        await uow.commit()
    assert released == 1
    async with db.uow() as uow:  # at once, not after the lease ran out
        [again] = await delivery.claim(uow, "telegram", clock(), owner=me.id)
        assert again.unconfirmed == 1  # it may have been sent just before the kill: counted
        assert (await uow.session.get(ServiceProcess, dead.id)).ended_at is not None
        assert (await uow.session.get(ServiceProcess, other_host.id)).ended_at is None


async def test_leases_of_a_silent_process_are_taken_over_after_seconds(db, clock):
    await _member_with_message(db, clock, telegram_chat_id=42)
    async with db.uow() as uow:
        silent = await processes.register(uow, "run", "host-a", 111, clock())
        alive = await processes.register(uow, "run", "host-b", 222, clock())
        await uow.commit()
    await _claimed_by(db, clock, silent.id)
    takeover = timedelta(seconds=15)
    clock.advance(seconds=10)
    async with db.uow() as uow:
        await processes.beat(uow, alive.id, clock())
        assert await processes.take_over_silent(uow, clock(), takeover) == 0
        await uow.commit()
    clock.advance(seconds=6)
    async with db.uow() as uow:
        await processes.beat(uow, alive.id, clock())
        assert await processes.take_over_silent(uow, clock(), takeover) == 1
        await uow.commit()
    async with db.uow() as uow:
        assert len(await delivery.claim(uow, "telegram", clock(), owner=alive.id)) == 1
        assert (await uow.session.get(ServiceProcess, alive.id)).ended_at is None
    async with db.uow() as uow:  # it only hung: once it beats again, it is watched again
        await processes.beat(uow, silent.id, clock())
        await uow.commit()
    async with db.uow() as uow:
        assert (await uow.session.get(ServiceProcess, silent.id)).ended_at is None


async def test_a_clean_end_hands_back_leases_uncounted(db, clock):
    await _member_with_message(db, clock, telegram_chat_id=42)
    async with db.uow() as uow:
        me = await processes.register(uow, "run", "host-a", 111, clock())
        await uow.commit()
    await _claimed_by(db, clock, me.id)
    async with db.uow() as uow:
        assert await processes.end(uow, me.id, clock()) == 1
        await uow.commit()
    async with db.uow() as uow:
        [again] = await delivery.claim(uow, "telegram", clock())
        assert again.unconfirmed == 0
