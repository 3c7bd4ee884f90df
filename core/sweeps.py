"""Every scheduled job, as idempotent sweeps over the database ("send what is due").

``run_sweeps`` is what one scheduler tick does. Each sweep runs in its own transaction,
so one failing sweep neither blocks nor rolls back the others; its error is logged
and the next tick tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.clock import Clock
from core.digest_runs import DigestSchedule
from core.match_index import MatchIndex
from core.member_digest import sweep_member_digests
from core.post_expiry import sweep_expiry
from core.reminders import sweep_reminders
from core.staff_digest import sweep_staff_digests
from core.store import Database

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    now: datetime
    counts: dict[str, object] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


async def run_sweeps(
    db: Database, index: MatchIndex, schedule: DigestSchedule, clock: Clock
) -> SweepReport:
    now = clock()
    report = SweepReport(now)
    jobs = {
        "reminders": lambda uow: sweep_reminders(uow, now, schedule.tz),
        "expiry": lambda uow: sweep_expiry(uow, now, schedule.tz),
        "staff_digest": lambda uow: sweep_staff_digests(uow, now, schedule),
        "member_digest": lambda uow: sweep_member_digests(uow, index, now, schedule),
    }
    for name, job in jobs.items():
        try:
            async with db.uow() as uow:
                report.counts[name] = await job(uow)
                await uow.commit()
        except Exception:  # one sweep's failure must not stop the others or the loop
            log.exception("sweep %s failed; it runs again at the next tick", name)
            report.failed.append(name)
    return report
