"""``zukunftsraum run`` killed with -9 in the middle of a broadcast, then started again."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from core.store.models import ServiceProcess
from tests.support.service import ServiceUnderTest, service_env
from tests.telegram.helpers import add_telegram_member, eventually, outbox, queue_message

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_a_restart_after_kill_takes_back_the_dead_leases_at_once(db, tg, tmp_path):
    chats = [tg.add_user().id for _ in range(40)]
    members = [
        await add_telegram_member(db, f"Person {n}", "12073452", chat)
        for n, chat in enumerate(chats)
    ]
    for round_ in range(3):
        for person in members:
            await queue_message(db, person.id, f"Runde {round_} für {person.name}")
    tg.faults.latency = 0.2  # sends stay in flight for a while, as on a busy day
    url = db.engine.url.render_as_string(hide_password=False)
    service = ServiceUnderTest(tmp_path, service_env(url, tg, tmp_path))
    await service.start()
    try:
        await tg.wait_until(lambda: len(tg.sent_messages()) >= 30, timeout=60)
        await service.kill()
        held = [m for m in await outbox(db) if m.status == "sending"]
        assert held, "nothing was leased at the kill"
        async with db.uow() as uow:
            [dead] = (await uow.session.scalars(select(ServiceProcess))).all()
        assert {m.claimed_by for m in held} == {dead.id}

        await service.start()

        async def all_sent():
            rows = await outbox(db)
            return all(m.status == "sent" for m in rows)

        # Well before the two-minute lease could run out.
        await eventually(all_sent, timeout=60)
    finally:
        await service.stop()
    taken_back = re.search(r"wieder aufgenommen: (\d+)", service.output())
    assert taken_back and int(taken_back.group(1)) == len(held), service.output()
    delivered = Counter(m.text for m in tg.sent_messages())
    assert set(delivered) == {m.text for m in await outbox(db)}  # nothing lost
    twice = sum(n - 1 for n in delivered.values())
    assert twice <= len(held)  # duplicates only among what was in the dead process's hands
    counted = sum(m.unconfirmed for m in await outbox(db))
    assert counted == len(held) and twice <= counted
    async with db.uow() as uow:
        ended = {p.id: p.ended_at for p in (await uow.session.scalars(select(ServiceProcess)))}
    assert ended[dead.id] is not None
