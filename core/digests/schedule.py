"""When digests are due and what they cover.

Each reader's digests are recorded in ``digest_runs`` (one row per reader, audience and
period, unique), in the same transaction as the digest's outbox message. The next
digest covers exactly from the previous one's ``covered_until`` to now: a crash rolls
both back (nothing doubled), and the window never has gaps (nothing dropped).

Periods: a slot is the latest scheduled moment at or before now (staff: weekdays at
``staff_time``; members: daily or on ``weekly_day`` at ``member_time``), named by its
local date. A slot missed during downtime is caught up at the next tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.kernel.clock import aware
from core.store.models import DigestRun
from core.store.unit_of_work import UnitOfWork

LENGTH = {"daily": timedelta(days=1), "weekly": timedelta(days=7), "staff": timedelta(days=1)}


@dataclass(frozen=True)
class DigestSchedule:
    tz: ZoneInfo
    staff_time: time = time(7, 30)
    member_time: time = time(8, 0)
    weekly_day: int = 0  # Monday: the weekly member digest and the staff week overview


def _slot(now: datetime, tz: ZoneInfo, at: time, days: set[int]) -> datetime:
    local = aware(now).astimezone(tz)
    day = local.date()
    for _ in range(8):
        moment = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() in days and moment <= local:
            return moment.astimezone(UTC)
        day -= timedelta(days=1)
    raise ValueError("no slot in the last week")  # unreachable with a non-empty day set


def staff_slot(now: datetime, schedule: DigestSchedule) -> datetime:
    return _slot(now, schedule.tz, schedule.staff_time, {0, 1, 2, 3, 4})


def member_slot(digest: str, now: datetime, schedule: DigestSchedule) -> datetime:
    days = set(range(7)) if digest == "daily" else {schedule.weekly_day}
    return _slot(now, schedule.tz, schedule.member_time, days)


def period_name(slot: datetime, tz: ZoneInfo) -> str:
    return slot.astimezone(tz).date().isoformat()


def manual_period(now: datetime) -> str:
    return "manual:" + aware(now).astimezone(UTC).isoformat(timespec="seconds")


async def last_runs(uow: UnitOfWork, audience: str) -> dict[int, DigestRun]:
    """The latest run per member for ``audience``."""
    return await uow.digest_runs.latest(audience)


def record(
    uow: UnitOfWork,
    member_id: int,
    audience: str,
    period: str,
    since: datetime,
    now: datetime,
    items: int,
) -> DigestRun:
    run = DigestRun(
        member_id=member_id,
        audience=audience,
        period=period,
        covered_from=since,
        covered_until=now,
        items=items,
        created_at=now,
    )
    uow.add(run)
    return run
