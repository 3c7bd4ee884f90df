"""The figures an operator watches, read from the database (so they are the same whichever
process is asked): outbox messages per channel and status, attempts and unconfirmed sends per
channel, inbound mails per status."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from core.store.models import InboundMail, OutboxMessage
from core.store.unit_of_work import Database


@dataclass
class QueueFigures:
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    attempts: dict[str, int] = field(default_factory=dict)  # failed attempts, per channel
    unconfirmed: dict[str, int] = field(default_factory=dict)  # sends of unknown outcome
    inbound: dict[str, int] = field(default_factory=dict)  # per status


async def database_reachable(db: Database) -> bool:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return True


async def queue_figures(db: Database) -> QueueFigures:
    figures = QueueFigures()
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.status,
                func.count(),
                func.coalesce(func.sum(OutboxMessage.attempts), 0),
                func.coalesce(func.sum(OutboxMessage.unconfirmed), 0),
            ).group_by(OutboxMessage.channel, OutboxMessage.status)
        )
        for channel, status, count, attempts, unconfirmed in rows:
            figures.outbox[(channel, status)] = count
            figures.attempts[channel] = figures.attempts.get(channel, 0) + int(attempts)
            figures.unconfirmed[channel] = figures.unconfirmed.get(channel, 0) + int(unconfirmed)
        inbound = await uow.session.execute(
            select(InboundMail.status, func.count()).group_by(InboundMail.status)
        )
        figures.inbound = {status: count for status, count in inbound}
    return figures
