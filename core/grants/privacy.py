"""Grant records and the member's rights: export (Art. 15) and erasure (Art. 17 DSGVO).

Accounting law (§ 147 AO, § 257 HGB) requires grant records to be kept for years, so erasure
removes the person, not the record: the application stays linked to the member row, which
``members.erase`` turns into a pseudonym.
"""

from __future__ import annotations

from datetime import datetime

from core.grants.applications import WITHDRAWABLE, Actor, withdraw_as
from core.kernel.clock import aware
from core.kernel.texts import t
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork


async def erase_for(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """Before a member's data is erased: drafts go, pending applications are withdrawn,
    and decided ones keep what accounting needs (municipality, purpose, title, amounts,
    dates, invoices) while the applicant's own prose is removed. The applicant stays
    linked to the member row, which ``members.erase`` turns into a pseudonym."""
    system = Actor(None, "Datenlöschung")
    for application in await uow.grants.for_applicant(member.id):
        if application.state == "draft":
            await uow.grants.delete_draft(application)
            continue
        if application.state in WITHDRAWABLE:
            await withdraw_as(uow, application, system, now, t("grants.erased_reason"))
        application.description = ""
        for transition in await uow.grants.transitions(application.id):
            if transition.actor_id == member.id and transition.to_state != "proof_submitted":
                transition.reason = ""
    await uow.flush()


async def export_for(uow: UnitOfWork, member: Member) -> list[dict]:
    """A member's applications with their history, for ``/daten`` (DSGVO Art. 15)."""

    def ts(value: datetime | None) -> str | None:
        return aware(value).isoformat() if value else None

    result = []
    for application in await uow.grants.for_applicant(member.id):
        history = [
            {
                "from": tr.from_state,
                "to": tr.to_state,
                "at": ts(tr.at),
                "reason": tr.reason,
                "amount_cents": tr.amount_cents,
            }
            for tr in await uow.grants.transitions(application.id)
        ]
        result.append(
            {
                "id": application.id,
                "municipality": application.municipality_ags,
                "year": application.year,
                "state": application.state,
                "purpose": application.purpose,
                "title": application.title,
                "description": application.description,
                "partners": application.partners,
                "cost_lines": application.cost_lines,
                "requested_cents": application.requested_cents,
                "approved_cents": application.approved_cents,
                "paid_cents": application.paid_cents,
                "created_at": ts(application.created_at),
                "transitions": history,
            }
        )
    return result
