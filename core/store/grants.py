"""Persistence of micro-grants: applications, transitions, budgets and the ledger.

The budget invariant rests on two conditional updates, both atomic on SQLite
(one writer at a time) and on PostgreSQL (the row lock makes a waiting
UPDATE re-check its WHERE clause against the committed row):

* a state change only happens from the expected state (compare and set), so
  two decisions on one application cannot both win;
* a reservation only happens while ``committed + amount <= cap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.models import (
    GrantApplication,
    GrantBudget,
    GrantLedgerEntry,
    GrantTransition,
    Member,
    Municipality,
)

OPEN_FOR_REVIEW = ("submitted",)


class GrantRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- applications ------------------------------------------------------------

    async def get(self, application_id: int) -> GrantApplication | None:
        stmt = (
            select(GrantApplication)
            .where(GrantApplication.id == application_id)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def for_applicant(self, member_id: int) -> Sequence[GrantApplication]:
        stmt = (
            select(GrantApplication)
            .where(GrantApplication.applicant_id == member_id)
            .order_by(GrantApplication.id.desc())
        )
        return (await self.session.scalars(stmt)).all()

    async def latest_draft(self, member_id: int) -> GrantApplication | None:
        stmt = (
            select(GrantApplication)
            .where(GrantApplication.applicant_id == member_id, GrantApplication.state == "draft")
            .order_by(GrantApplication.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def review_queue(self, states: Iterable[str] = OPEN_FOR_REVIEW):
        """Structurally weak municipalities first (staff override wins), then oldest first."""
        weak = func.coalesce(Municipality.weak_override, Municipality.structurally_weak)
        stmt = (
            select(GrantApplication)
            .join(Municipality, Municipality.ags == GrantApplication.municipality_ags)
            .where(GrantApplication.state.in_(tuple(states)))
            .order_by(weak.desc(), GrantApplication.submitted_at, GrantApplication.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def listing(
        self, *, states: Iterable[str] | None = None, year: int | None = None
    ) -> Sequence[GrantApplication]:
        stmt = select(GrantApplication).order_by(
            GrantApplication.municipality_ags, GrantApplication.year, GrantApplication.id
        )
        if states is not None:
            stmt = stmt.where(GrantApplication.state.in_(tuple(states)))
        if year is not None:
            stmt = stmt.where(GrantApplication.year == year)
        return (await self.session.scalars(stmt)).all()

    async def decided_between(self, since: datetime, until: datetime) -> int:
        """How many applications were approved or rejected in the period."""
        stmt = (
            select(func.count())
            .select_from(GrantApplication)
            .where(GrantApplication.decided_at >= since, GrantApplication.decided_at < until)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def change_state(
        self, application_id: int, from_states: Iterable[str], to_state: str, **values
    ) -> bool:
        """Compare and set: True only for the one transaction that moved the application."""
        stmt = (
            update(GrantApplication)
            .where(
                GrantApplication.id == application_id,
                GrantApplication.state.in_(tuple(from_states)),
            )
            .values(state=to_state, **values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return result.rowcount == 1

    async def add_reserved(self, application_id: int, delta_cents: int) -> None:
        await self.session.execute(
            update(GrantApplication)
            .where(GrantApplication.id == application_id)
            .values(reserved_cents=GrantApplication.reserved_cents + delta_cents)
            .execution_options(synchronize_session=False)
        )

    async def transitions(self, application_id: int) -> Sequence[GrantTransition]:
        stmt = (
            select(GrantTransition)
            .where(GrantTransition.application_id == application_id)
            .order_by(GrantTransition.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def delete_draft(self, application: GrantApplication) -> None:
        await self.session.delete(application)

    # --- budgets and ledger ------------------------------------------------------

    async def ensure_budget(self, ags: str, year: int, cap_cents: int) -> None:
        """Create the (municipality, year) row once; concurrent creators do not collide."""
        if await self.budget(ags, year) is not None:
            return  # the common case, without an insert that may wait on the row's lock
        values = {"municipality_ags": ags, "year": year, "cap_cents": cap_cents}
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(GrantBudget).values(committed_cents=0, **values)
        await self.session.execute(stmt.on_conflict_do_nothing())

    async def reserve(self, ags: str, year: int, cents: int) -> bool:
        """Add ``cents`` to the committed amount only while it stays within the cap."""
        stmt = (
            update(GrantBudget)
            .where(
                GrantBudget.municipality_ags == ags,
                GrantBudget.year == year,
                GrantBudget.committed_cents + cents <= GrantBudget.cap_cents,
            )
            .values(committed_cents=GrantBudget.committed_cents + cents)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).rowcount == 1

    async def release(self, ags: str, year: int, cents: int) -> bool:
        stmt = (
            update(GrantBudget)
            .where(
                GrantBudget.municipality_ags == ags,
                GrantBudget.year == year,
                GrantBudget.committed_cents >= cents,
            )
            .values(committed_cents=GrantBudget.committed_cents - cents)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).rowcount == 1

    async def budget(self, ags: str, year: int) -> GrantBudget | None:
        stmt = (
            select(GrantBudget)
            .where(GrantBudget.municipality_ags == ags, GrantBudget.year == year)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def budgets(self, year: int | None = None) -> Sequence[GrantBudget]:
        stmt = select(GrantBudget).order_by(GrantBudget.year, GrantBudget.municipality_ags)
        if year is not None:
            stmt = stmt.where(GrantBudget.year == year)
        return (await self.session.scalars(stmt)).all()

    async def ledger_total(self, ags: str, year: int) -> int:
        stmt = select(func.coalesce(func.sum(GrantLedgerEntry.delta_cents), 0)).where(
            GrantLedgerEntry.municipality_ags == ags, GrantLedgerEntry.year == year
        )
        return int(await self.session.scalar(stmt) or 0)

    async def ledger_by_application(self, ags: str, year: int) -> dict[int, int]:
        stmt = (
            select(GrantLedgerEntry.application_id, func.sum(GrantLedgerEntry.delta_cents))
            .where(GrantLedgerEntry.municipality_ags == ags, GrantLedgerEntry.year == year)
            .group_by(GrantLedgerEntry.application_id)
        )
        return {app_id: int(total) for app_id, total in (await self.session.execute(stmt)).all()}

    # --- people to notify ----------------------------------------------------------

    async def verified_with_drafts(self) -> Sequence[Member]:
        has_draft = select(GrantApplication.applicant_id).where(GrantApplication.state == "draft")
        stmt = (
            select(Member)
            .where(
                and_(
                    Member.id.in_(has_draft),
                    Member.verified_at.is_not(None),
                    Member.erased_at.is_(None),
                )
            )
            .order_by(Member.id)
        )
        return (await self.session.scalars(stmt)).all()
