"""Helpers for the grant tests: verified applicants, staff, outbox and budget checks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.grants.budget import reconcile
from core.members import accounts as members
from core.store.models import GrantApplication, GrantTransition, OutboxMessage
from core.store.unit_of_work import Database

# Before the application deadline (30 Sep), a Monday in May.
SPRING = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


async def verify(db: Database, address: str) -> None:
    async with db.uow() as uow:
        member = await uow.members.by_email(address)
        if member is None:
            member = await uow.members.by_telegram(int(address))
        await members.verify(uow, member.id, None, SPRING)
        await uow.commit()


async def add_staff(db: Database, *, email: str, telegram: int | None = None) -> int:
    async with db.uow() as uow:
        member = await members.add_member(
            uow,
            members.NewMember(
                f"Geschäftsstelle {email.split('@')[0]}",
                "network_staff",
                "12073",
                email=email,
                telegram_chat_id=telegram,
                consent=True,
            ),
            SPRING,
        )
        await uow.commit()
        return member.id


async def application(db: Database, number: int) -> GrantApplication:
    async with db.uow() as uow:
        return await uow.grants.get(number)


async def transitions(db: Database, number: int) -> list[tuple[str, str]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(GrantTransition)
            .where(GrantTransition.application_id == number)
            .order_by(GrantTransition.id)
        )
        return [(r.from_state, r.to_state) for r in rows]


async def outbox(db: Database, *, kind_prefix: str = "grant") -> list[OutboxMessage]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind.startswith(kind_prefix))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def assert_balanced(db: Database, ags: str, year: int = 2026) -> int:
    async with db.uow() as uow:
        result = await reconcile(uow, ags, year)
    assert result.balanced, result
    return result.committed_cents
