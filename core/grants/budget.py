"""The per-municipality, per-year budget of the micro-grant programme.

Every change of the committed amount is one conditional update of the budget
row plus one ledger entry in the same transaction, so the ledger always sums
to the budget row and no interleaving of transactions can pass the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.grants.programme import GrantProgramme
from core.kernel.errors import UserError
from core.kernel.money import format_euro
from core.store.models import GrantApplication, GrantLedgerEntry, GrantTransition
from core.store.unit_of_work import UnitOfWork

# States whose amount counts against the cap (info_requested keeps its reservation, so an
# answer to a question never fails for lack of budget).
COMMITTED_STATES = ("submitted", "info_requested", "approved", "proof_submitted", "paid")


async def remaining(uow: UnitOfWork, ags: str, year: int, programme: GrantProgramme) -> int:
    """Cents still available to the municipality in ``year`` (the cap if nothing is used)."""
    budget = await uow.grants.budget(ags, year)
    if budget is None:
        return programme.cap_cents
    return max(0, budget.cap_cents - budget.committed_cents)


async def reserve(
    uow: UnitOfWork,
    application: GrantApplication,
    cents: int,
    transition: GrantTransition,
    programme: GrantProgramme,
    now: datetime,
) -> None:
    """Commit ``cents`` of the municipality's budget or raise ``UserError`` (nothing kept)."""
    ags, year = application.municipality_ags, application.year
    await uow.grants.ensure_budget(ags, year, programme.cap_cents)
    if not await uow.grants.reserve(ags, year, cents):
        left = await remaining(uow, ags, year, programme)
        raise UserError.of(
            "grants.over_budget",
            amount=format_euro(cents),
            remaining=format_euro(left),
            year=year,
        )
    await _book(uow, application, cents, transition, now)


async def release(
    uow: UnitOfWork,
    application: GrantApplication,
    cents: int,
    transition: GrantTransition,
    now: datetime,
) -> None:
    """Give ``cents`` back to the municipality's budget (reject, withdraw, lower amount)."""
    if cents <= 0:
        return
    if not await uow.grants.release(application.municipality_ags, application.year, cents):
        raise RuntimeError(f"grant {application.id}: release of {cents} exceeds the budget row")
    await _book(uow, application, -cents, transition, now)


async def _book(
    uow: UnitOfWork,
    application: GrantApplication,
    delta: int,
    transition: GrantTransition,
    now: datetime,
) -> None:
    uow.add(
        GrantLedgerEntry(
            municipality_ags=application.municipality_ags,
            year=application.year,
            application_id=application.id,
            transition_id=transition.id,
            delta_cents=delta,
            at=now,
        )
    )
    await uow.grants.add_reserved(application.id, delta)
    application.reserved_cents += delta


@dataclass(frozen=True)
class Reconciliation:
    ags: str
    year: int
    cap_cents: int
    committed_cents: int
    ledger_cents: int
    # Applications whose ledger entries do not sum to what they hold.
    mismatched: tuple[int, ...]

    @property
    def balanced(self) -> bool:
        return (
            self.committed_cents == self.ledger_cents
            and self.committed_cents <= self.cap_cents
            and not self.mismatched
        )


async def reconcile(uow: UnitOfWork, ags: str, year: int) -> Reconciliation:
    """Check budget row, ledger and applications against each other."""
    budget = await uow.grants.budget(ags, year)
    by_application = await uow.grants.ledger_by_application(ags, year)
    applications = await uow.grants.listing(year=year)
    mismatched = tuple(
        a.id
        for a in applications
        if a.municipality_ags == ags
        and (by_application.get(a.id, 0) != a.reserved_cents or a.reserved_cents != held_amount(a))
    )
    return Reconciliation(
        ags=ags,
        year=year,
        cap_cents=budget.cap_cents if budget else 0,
        committed_cents=budget.committed_cents if budget else 0,
        ledger_cents=await uow.grants.ledger_total(ags, year),
        mismatched=mismatched,
    )


def held_amount(application: GrantApplication) -> int:
    """What an application in its state should hold in the budget."""
    state = application.state
    if state in ("submitted", "info_requested"):
        return application.requested_cents
    if state in ("approved", "proof_submitted"):
        return application.approved_cents or 0
    if state == "paid":
        return application.paid_cents or 0
    return 0
