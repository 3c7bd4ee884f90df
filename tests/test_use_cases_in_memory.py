"""Use cases that once held their own SQL, run against a unit of work kept in memory:
delivery bookkeeping, storing and retrying incoming mail, taking over a dead process's
leases. The repositories are plain dictionaries, so these tests need no database and take
milliseconds; the scenario tests (test_delivery.py, test_email_*.py) run the same use cases
through the real store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from core.conversation import inbound_mail
from core.messaging import delivery
from core.runtime import processes
from core.store.models import InboundMail, Member, OutboxMessage, ServiceProcess

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class FakeOutbox:
    def __init__(self, messages: Sequence[OutboxMessage] = ()) -> None:
        self.rows = {m.id: m for m in messages}

    async def get(self, message_id: int) -> OutboxMessage | None:
        return self.rows.get(message_id)

    async def due(self, channel: str, now: datetime, limit: int) -> list[OutboxMessage]:
        due = [
            m
            for m in self.rows.values()
            if m.channel == channel
            and m.not_before <= now
            and (m.status == "pending" or (m.status == "sending" and m.claimed_until < now))
        ]
        return sorted(due, key=lambda m: (m.not_before, m.id))[:limit]


class FakeMembers:
    def __init__(self, members: Sequence[Member] = ()) -> None:
        self.rows = {m.id: m for m in members}

    async def get(self, member_id: int) -> Member | None:
        return self.rows.get(member_id)


class FakeInbound:
    def __init__(self, mails: Sequence[InboundMail] = ()) -> None:
        self.rows = {m.id: m for m in mails}

    async def get(self, inbound_id: int) -> InboundMail | None:
        return self.rows.get(inbound_id)

    async def kept(
        self, folder: str, uidvalidity: int, uids: Collection[int]
    ) -> dict[int, tuple[int, str]]:
        return {
            m.uid: (m.id, m.status)
            for m in self.rows.values()
            if m.folder == folder and m.uidvalidity == uidvalidity and m.uid in uids
        }

    async def add_many(self, rows: Sequence[dict]) -> dict[int, int]:
        added = {}
        for row in rows:
            mail = InboundMail(id=len(self.rows) + 1, attempts=0, **row)
            self.rows[mail.id] = mail
            added[mail.uid] = mail.id
        return added


class FakeProcesses:
    def __init__(self, processes: Sequence[ServiceProcess], leases: dict[int, int]) -> None:
        self.rows = {p.id: p for p in processes}
        self.leases = dict(leases)  # owner id -> messages it is sending
        self.freed: list[tuple[list[int], bool]] = []

    async def get(self, process_id: int) -> ServiceProcess | None:
        return self.rows.get(process_id)

    async def silent_since(self, before: datetime) -> list[ServiceProcess]:
        return [p for p in self.rows.values() if p.ended_at is None and p.heartbeat_at < before]

    async def running_beside(self, me: ServiceProcess) -> list[ServiceProcess]:
        return [
            p
            for p in self.rows.values()
            if (p.host, p.role) == (me.host, me.role) and p.ended_at is None and p.id != me.id
        ]

    async def free_leases(self, owner_ids: Sequence[int], *, unconfirmed: bool) -> int:
        self.freed.append((list(owner_ids), unconfirmed))
        return sum(self.leases.pop(owner, 0) for owner in owner_ids)


class FakeUnitOfWork:
    """The repositories a use case reaches, each a dictionary; nothing is committed."""

    def __init__(self, **repos: object) -> None:
        self.outbox = repos.get("outbox", FakeOutbox())
        self.members = repos.get("members", FakeMembers())
        self.inbound = repos.get("inbound", FakeInbound())
        self.processes = repos.get("processes")


def _message(message_id: int = 1, **values) -> OutboxMessage:
    defaults = dict(
        channel="telegram",
        address="100",
        kind="notice",
        status="sending",
        attempts=0,
        unconfirmed=0,
        not_before=NOW - timedelta(minutes=1),
        claimed_until=NOW + timedelta(minutes=1),
        claimed_by=7,
        meta={},
        member_id=None,
    )
    return OutboxMessage(id=message_id, **{**defaults, **values})


def _member(**values) -> Member:
    defaults = dict(
        id=3,
        name="Anna Berger",
        email="anna@example.org",
        telegram_chat_id=100,
        preferred_channel="auto",
        email_suspended_at=None,
        telegram_unreachable_at=None,
        erased_at=None,
    )
    return Member(**{**defaults, **values})


# --- delivery bookkeeping ----------------------------------------------------------------


async def test_claim_leases_the_due_messages_of_the_channel_oldest_first():
    later = _message(1, status="pending", not_before=NOW - timedelta(seconds=5))
    earlier = _message(2, status="pending", not_before=NOW - timedelta(seconds=50))
    leased_elsewhere = _message(3, status="sending", claimed_until=NOW + timedelta(minutes=1))
    other_channel = _message(4, status="pending", channel="email")
    uow = FakeUnitOfWork(outbox=FakeOutbox([later, earlier, leased_elsewhere, other_channel]))

    claimed = await delivery.claim(uow, "telegram", NOW, owner=11)

    assert [m.id for m in claimed] == [2, 1]
    assert all(m.status == "sending" and m.claimed_by == 11 for m in claimed)
    assert all(m.claimed_until == NOW + delivery.LEASE for m in claimed)
    assert leased_elsewhere.claimed_by == 7 and other_channel.status == "pending"


async def test_a_failed_attempt_is_retried_with_growing_pauses_then_given_up():
    message = _message()
    uow = FakeUnitOfWork(outbox=FakeOutbox([message]))

    assert await delivery.mark_retry(uow, 1, NOW, "timeout")
    assert (message.status, message.attempts, message.claimed_by) == ("pending", 1, None)
    assert message.not_before == NOW + delivery.BACKOFF_BASE
    assert await delivery.mark_retry(uow, 1, NOW, "timeout")
    assert message.not_before == NOW + 2 * delivery.BACKOFF_BASE

    message.attempts = delivery.MAX_ATTEMPTS - 1
    assert not await delivery.mark_retry(uow, 1, NOW, "x" * 500)
    assert message.status == "failed"
    assert len(message.last_error) == 300


async def test_an_answer_a_member_waits_for_is_retried_sooner():
    message = _message(kind="answer")
    uow = FakeUnitOfWork(outbox=FakeOutbox([message]))
    await delivery.mark_retry(uow, 1, NOW, "timeout")
    assert message.not_before == NOW + delivery.ANSWER_BACKOFF_BASE


async def test_an_unknown_outcome_is_retried_once_then_left_uncertain():
    message = _message()
    uow = FakeUnitOfWork(outbox=FakeOutbox([message]))
    assert await delivery.mark_unknown(uow, 1, NOW, "no answer")
    assert (message.status, message.unconfirmed) == ("pending", 1)
    assert not await delivery.mark_unknown(uow, 1, NOW, "no answer")
    assert message.status == "uncertain"


async def test_a_dead_telegram_chat_reroutes_the_message_to_the_members_email():
    member = _member()
    message = _message(member_id=member.id, attempts=3)
    uow = FakeUnitOfWork(outbox=FakeOutbox([message]), members=FakeMembers([member]))

    assert await delivery.mark_unreachable(uow, 1, NOW, "bot blocked") == "email"

    assert member.telegram_unreachable_at == NOW
    assert (message.channel, message.address, message.status) == (
        "email",
        "anna@example.org",
        "pending",
    )
    assert message.attempts == 0 and message.meta == {"rerouted_from": "telegram"}


async def test_a_dead_address_without_another_channel_leaves_the_message_unrouted():
    member = _member(email=None)
    message = _message(member_id=member.id)
    uow = FakeUnitOfWork(outbox=FakeOutbox([message]), members=FakeMembers([member]))
    assert await delivery.mark_unreachable(uow, 1, NOW, "bot blocked") == "unrouted"
    assert message.status == "unrouted"


async def test_a_dead_address_of_no_member_fails_the_message():
    uow = FakeUnitOfWork(outbox=FakeOutbox([_message()]))
    assert await delivery.mark_unreachable(uow, 1, NOW, "bot blocked") == "failed"


# --- incoming mail -------------------------------------------------------------------------


async def test_a_server_message_is_stored_once_and_long_headers_are_cut():
    uow = FakeUnitOfWork()
    folder = "INBOX/" + "x" * 300
    mails = [(5, "<a@x>", b"one"), (6, "<" + "b" * 400 + ">", b"two"), (5, "<a@x>", b"one")]

    first = await inbound_mail.store_many(uow, folder=folder, uidvalidity=1, mails=mails, now=NOW)
    again = await inbound_mail.store_many(uow, folder=folder, uidvalidity=1, mails=mails, now=NOW)

    assert first == again == {5: (1, "new"), 6: (2, "new")}
    assert len(uow.inbound.rows) == 2
    stored = uow.inbound.rows[2]
    assert len(stored.folder) == 200 and len(stored.message_id) == 300


async def test_only_a_mail_set_aside_as_failed_can_be_retried():
    failed = InboundMail(id=1, status="failed", attempts=5, processed_at=NOW)
    done = InboundMail(id=2, status="done", attempts=0, processed_at=NOW)
    uow = FakeUnitOfWork(inbound=FakeInbound([failed, done]))

    assert await inbound_mail.retry(uow, 1)
    assert (failed.status, failed.attempts, failed.processed_at) == ("new", 0, None)
    assert not await inbound_mail.retry(uow, 2)
    assert not await inbound_mail.retry(uow, 99)
    assert done.status == "done"


# --- processes and their leases ------------------------------------------------------------


def _process(process_id: int, beat_ago: timedelta, **values) -> ServiceProcess:
    defaults = dict(role="dispatch", host="a", pid=100 + process_id, ended_at=None)
    return ServiceProcess(
        id=process_id,
        started_at=NOW - timedelta(hours=1),
        heartbeat_at=NOW - beat_ago,
        **{**defaults, **values},
    )


async def test_a_silent_process_is_ended_and_its_sends_count_as_unconfirmed():
    silent = _process(1, timedelta(seconds=60))
    alive = _process(2, timedelta(seconds=2))
    repo = FakeProcesses([silent, alive], leases={1: 4, 2: 3})
    uow = FakeUnitOfWork(processes=repo)

    assert await processes.take_over_silent(uow, NOW, timedelta(seconds=15)) == 4

    assert silent.ended_at == NOW and alive.ended_at is None
    assert repo.freed == [([1], True)]


async def test_a_clean_stop_hands_back_the_leases_without_counting_them():
    me = _process(1, timedelta(0))
    repo = FakeProcesses([me], leases={1: 2})
    uow = FakeUnitOfWork(processes=repo)
    assert await processes.end(uow, 1, NOW) == 2
    assert repo.freed == [([1], False)] and me.ended_at == NOW


async def test_only_the_gone_predecessors_on_the_same_host_are_ended():
    me = _process(1, timedelta(0))
    gone = _process(2, timedelta(0))
    running = _process(3, timedelta(0))
    elsewhere = _process(4, timedelta(0), host="b")
    repo = FakeProcesses([me, gone, running, elsewhere], leases={2: 1, 4: 5})
    uow = FakeUnitOfWork(processes=repo)

    returned = await processes.release_predecessors(uow, me, NOW, lambda p: p.pid != 103)

    assert returned == 1
    assert [p.id for p in (me, gone, running, elsewhere) if p.ended_at] == [2]
