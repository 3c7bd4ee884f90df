"""Persistence of the service's processes and of the outbox leases they hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import OutboxMessage, ServiceProcess


class ProcessRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, process: ServiceProcess) -> ServiceProcess:
        self.session.add(process)
        await self.session.flush()
        return process

    async def get(self, process_id: int) -> ServiceProcess | None:
        return await self.session.get(ServiceProcess, process_id)

    async def beat(self, process_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ServiceProcess)
            .where(ServiceProcess.id == process_id)
            .values(heartbeat_at=now, ended_at=None)
        )

    async def running_beside(self, me: ServiceProcess) -> Sequence[ServiceProcess]:
        """The other processes of ``me``'s host and role that have not ended."""
        stmt = select(ServiceProcess).where(
            ServiceProcess.host == me.host,
            ServiceProcess.role == me.role,
            ServiceProcess.ended_at.is_(None),
            ServiceProcess.id != me.id,
        )
        return (await self.session.scalars(stmt)).all()

    async def silent_since(self, before: datetime) -> Sequence[ServiceProcess]:
        """Processes not ended whose last heartbeat is older than ``before``."""
        stmt = select(ServiceProcess).where(
            ServiceProcess.ended_at.is_(None), ServiceProcess.heartbeat_at < before
        )
        return (await self.session.scalars(stmt)).all()

    async def free_leases(self, owner_ids: Sequence[int], *, unconfirmed: bool) -> int:
        """Messages these processes were sending become pending again; with
        ``unconfirmed`` each counts as possibly sent. Returns how many."""
        if not owner_ids:
            return 0
        values: dict = {"status": "pending", "claimed_by": None, "claimed_until": None}
        if unconfirmed:
            values["unconfirmed"] = OutboxMessage.unconfirmed + 1
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by.in_(owner_ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0
