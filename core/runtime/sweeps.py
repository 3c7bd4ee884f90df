"""Every scheduled job, as idempotent sweeps over the database ("send what is due").

``run_sweeps`` is what one scheduler tick does: the sweeps the features declare
(``core/feature_set.py``). Each sweep runs in its own transaction,
so one failing sweep neither blocks nor rolls back the others; its error is logged
and it is tried again when next due. That is the next tick, unless the sweep declares
``every``: then it runs only once that long has passed since the start of its previous
run in this process (``last_runs``, kept by the ticker), and at the first tick after a
restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.digests.schedule import DigestSchedule
from core.kernel import telemetry
from core.kernel.context import Services
from core.kernel.features import SweepContext
from core.store.unit_of_work import Database

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    now: datetime
    counts: dict[str, object] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


async def run_sweeps(
    db: Database,
    services: Services,
    schedule: DigestSchedule,
    last_runs: dict[str, datetime] | None = None,
) -> SweepReport:
    """Every sweep the features declare, each in its own transaction; with ``last_runs``
    (sweep name -> start of its previous run, updated here) a sweep with an interval runs
    only when due. Without it every sweep runs now."""
    now = services.clock()
    report = SweepReport(now)
    ctx = SweepContext(
        now=now,
        schedule=schedule,
        index=services.index,
        grants=services.grants,
        features=services.features,
        knowledge=services.knowledge,
    )
    for sweep in services.features.sweeps:
        if last_runs is not None and sweep.every is not None:
            previous = last_runs.get(sweep.name)
            if previous is not None and now - previous < sweep.every:
                continue
            # Counted from the attempt, so a failing sweep also waits for its interval.
            last_runs[sweep.name] = now
        try:
            with telemetry.timed("sweep_seconds", sweep=sweep.name):
                async with db.uow() as uow:
                    report.counts[sweep.name] = await sweep.run(uow, ctx)
                    await uow.commit()
        except Exception as error:  # one sweep's failure must not stop the others or the loop
            _log_once(sweep.name, error)
            report.failed.append(sweep.name)
        else:
            _FAILING.pop(sweep.name, None)
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
    log.error("sweep %s failed, tried again when next due: %s", name, text)
