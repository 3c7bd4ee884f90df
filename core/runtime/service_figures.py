"""The figures an operator watches, read from the database (so they are the same whichever
process is asked): outbox messages per channel and status, attempts and unconfirmed sends per
channel, inbound mails per status."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.store.unit_of_work import Database


@dataclass
class QueueFigures:
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    attempts: dict[str, int] = field(default_factory=dict)  # failed attempts, per channel
    unconfirmed: dict[str, int] = field(default_factory=dict)  # sends of unknown outcome
    inbound: dict[str, int] = field(default_factory=dict)  # per status


async def database_reachable(db: Database) -> bool:
    return await db.ping()


async def queue_figures(db: Database) -> QueueFigures:
    figures = QueueFigures()
    async with db.uow() as uow:
        for channel, status, count, attempts, unconfirmed in await uow.outbox.figures():
            figures.outbox[(channel, status)] = count
            figures.attempts[channel] = figures.attempts.get(channel, 0) + attempts
            figures.unconfirmed[channel] = figures.unconfirmed.get(channel, 0) + unconfirmed
        figures.inbound = await uow.inbound.status_counts()
    return figures
