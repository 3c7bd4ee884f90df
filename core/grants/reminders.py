"""Deadline reminders of the micro-grant programme, as an idempotent sweep.

The scheduler calls ``sweep_grant_reminders`` on every tick; what was already
queued is recognised by its outbox dedupe key, so a sweep may run as often as
it likes (and after downtime it sends only the most urgent reminder that is due).
"""

from __future__ import annotations

from datetime import date, datetime

from core.grants.programme import GrantProgramme
from core.kernel import german_format
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.messaging.outbox import enqueue
from core.store.models import Member
from core.store.unit_of_work import UnitOfWork


def due_offset(today: date, deadline: date, offsets: tuple[int, ...]) -> int | None:
    """The smallest reminder offset whose day has come, while the deadline has not passed."""
    days_left = (deadline - today).days
    if days_left < 0:
        return None
    due = [offset for offset in offsets if days_left <= offset]
    return min(due) if due else None


async def sweep_grant_reminders(uow: UnitOfWork, now: datetime, programme: GrantProgramme) -> int:
    """Queue the reminders that are due; returns how many were queued. The caller commits."""
    today = programme.local_date(now)
    return await _draft_reminders(uow, now, today, programme) + await _invoice_reminders(
        uow, now, today, programme
    )


async def _draft_reminders(
    uow: UnitOfWork, now: datetime, today: date, programme: GrantProgramme
) -> int:
    deadline = programme.application_deadline_in(today.year)
    offset = due_offset(today, deadline, programme.reminder_days)
    if offset is None:
        return 0
    text = t(
        "grants.reminder_deadline",
        deadline=german_format.day(deadline),
        days=(deadline - today).days,
    )
    reply = Reply(text, [Choice(t("grants.choice.continue"), "/antrag")])
    due = [
        (member, reply, f"grant:deadline:{today.year}:{offset}:member:{member.id}")
        for member in await uow.grants.verified_with_drafts()
    ]
    return await _queue_new(uow, due, now)


async def _invoice_reminders(
    uow: UnitOfWork, now: datetime, today: date, programme: GrantProgramme
) -> int:
    due = []
    for application in await uow.grants.listing(states=("approved",)):
        deadline = programme.invoice_deadline_in(application.year)
        offset = due_offset(today, deadline, programme.reminder_days)
        if offset is None or application.applicant.erased_at is not None:
            continue
        reply = Reply(
            t(
                "grants.reminder_invoice",
                id=application.id,
                title=application.title,
                deadline=german_format.day(deadline),
                days=(deadline - today).days,
            ),
            [Choice(t("grants.choice.proof"), f"/nachweis {application.id}")],
            ref=f"grant:{application.id}",
        )
        due.append((application.applicant, reply, f"grant:{application.id}:invoice:{offset}"))
    return await _queue_new(uow, due, now)


async def _queue_new(uow: UnitOfWork, due: list[tuple[Member, Reply, str]], now) -> int:
    """Queue the reminders whose dedupe key is not in the outbox yet (one lookup for all)."""
    sent = await uow.outbox.existing_keys([key for _, _, key in due])
    queued = 0
    for member, reply, key in due:
        if key in sent:
            continue
        message = enqueue(
            uow,
            member,
            reply,
            kind="grant_reminder",
            subject=t("grants.subject_reminder"),
            now=now,
            dedupe_key=key,
        )
        queued += message is not None
    return queued
