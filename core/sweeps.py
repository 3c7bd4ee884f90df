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
        except Exception as error:  # one sweep's failure must not stop the others or the loop
            _log_once(name, error)
            report.failed.append(name)
        else:
            _FAILING.pop(name, None)
    return report


# The error each failing sweep last logged: a sweep that keeps failing the same way every
# tick is logged once (one line), again only when the error changes or after it recovered.
_FAILING: dict[str, str] = {}


def _log_once(name: str, error: Exception) -> None:
    text = f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]
    if _FAILING.get(name) == text:
        log.debug("sweep %s still failing: %s", name, text)
        return
    _FAILING[name] = text
    log.error("sweep %s failed, tried again every tick: %s", name, text)
