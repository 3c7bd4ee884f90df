"""Micro-grants (Mikroförderung) from application to payment.

States: draft → submitted → (info_requested ↔ submitted) → approved | rejected;
approved → proof_submitted → paid; withdrawn from draft, submitted or
info_requested. Every transition is a compare-and-set on the application row,
is recorded with who, when and why, changes the budget through
``core.grants.budget`` and is told to the applicant: in the reply when they
acted themselves, otherwise through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.grants import budget as grant_budget
from core.grants.costs import LINES_MAX, CostLine
from core.grants.programme import GrantProgramme
from core.grants.views import review_choices, state_label
from core.kernel.errors import UserError, found
from core.kernel.money import format_euro
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.messaging.outbox import channel_for, enqueue
from core.municipalities.reference import label
from core.store.models import GrantApplication, GrantTransition, Member
from core.store.unit_of_work import UnitOfWork

PURPOSES = ("consulting", "networking")
STATES = (
    "draft",
    "submitted",
    "info_requested",
    "approved",
    "rejected",
    "proof_submitted",
    "paid",
    "withdrawn",
)
WITHDRAWABLE = ("draft", "submitted", "info_requested")
DECIDABLE = ("submitted",)
REJECTABLE = ("submitted", "info_requested")
TITLE_MAX = 120
DESCRIPTION_MAX = 4000
PARTNERS_MAX = 10
REASON_MAX = 2000


@dataclass(frozen=True)
class Actor:
    """Who causes a transition: a member (applicant or staff) or the command line/system."""

    member: Member | None
    label: str = ""

    @property
    def id(self) -> int | None:
        return self.member.id if self.member else None

    def is_applicant(self, application: GrantApplication) -> bool:
        return self.member is not None and self.member.id == application.applicant_id


# --- reading -------------------------------------------------------------------------


async def own(uow: UnitOfWork, member: Member, application_id: int) -> GrantApplication:
    application = await uow.grants.get(application_id)
    if application is None or application.applicant_id != member.id:
        raise UserError.of("grants.unknown", id=application_id)
    return application


async def own_in_state(
    uow: UnitOfWork, member: Member, application_id: int, state: str, wanted: str
) -> GrantApplication:
    """The member's own application, which must be in ``state`` to move on to ``wanted``."""
    application = await own(uow, member, application_id)
    if application.state != state:
        raise wrong_state(application, wanted)
    return application


async def own_draft(uow: UnitOfWork, member: Member, application_id: int) -> GrantApplication:
    application = await own(uow, member, application_id)
    if application.state != "draft":
        raise UserError.of(
            "grants.not_a_draft", id=application.id, state=state_label(application.state)
        )
    return application


async def existing(uow: UnitOfWork, application_id: int) -> GrantApplication:
    return found(await uow.grants.get(application_id), "grants.unknown", id=application_id)


# --- who may apply, when -------------------------------------------------------------


def check_may_apply(member: Member, programme: GrantProgramme, now: datetime) -> None:
    if member.verified_at is None:
        raise UserError.of("grants.not_verified")
    if not programme.applications_open(now):
        year = programme.year_of(now)
        raise UserError.of(
            "grants.deadline_passed",
            deadline=programme.application_deadline_in(year).strftime("%d.%m.%Y"),
            next_year=year + 1,
        )


async def start_draft(
    uow: UnitOfWork, member: Member, programme: GrantProgramme, now: datetime
) -> GrantApplication:
    check_may_apply(member, programme, now)
    application = GrantApplication(
        applicant_id=member.id,
        municipality_ags=member.municipality_ags,
        year=programme.year_of(now),
        state="draft",
        title="",
        description="",
        partners=[],
        cost_lines=[],
        requested_cents=0,
        reserved_cents=0,
        proof_note="",
        created_at=now,
        updated_at=now,
    )
    uow.add(application)
    await uow.flush()
    await uow.refresh(application, ["applicant", "municipality"])
    return application


# --- editing a draft -----------------------------------------------------------------


def set_purpose(application: GrantApplication, purpose: str, now: datetime) -> None:
    if purpose not in PURPOSES:
        raise UserError.of("grants.bad_purpose")
    application.purpose = purpose
    application.updated_at = now


def set_title(application: GrantApplication, text: str, now: datetime) -> None:
    title = " ".join(text.split())
    _check_length(title, 3, TITLE_MAX, "grants.title_missing", "grants.title_too_long")
    application.title = title
    application.updated_at = now


def set_description(application: GrantApplication, text: str, now: datetime) -> None:
    description = text.strip()
    _check_length(
        description,
        10,
        DESCRIPTION_MAX,
        "grants.description_missing",
        "grants.description_too_long",
    )
    application.description = description
    application.updated_at = now


def _check_length(text: str, shortest: int, longest: int, missing: str, too_long: str) -> None:
    if len(text) < shortest:
        raise UserError.of(missing)
    if len(text) > longest:
        raise UserError.of(too_long, max=longest)


def add_partner(application: GrantApplication, ags: str, name: str, now: datetime) -> None:
    partners = list(application.partners or [])
    if ags == application.municipality_ags:
        raise UserError.of("grants.partner_is_own")
    if any(p["ags"] == ags for p in partners):
        return
    if len(partners) >= PARTNERS_MAX:
        raise UserError.of("grants.partners_too_many", max=PARTNERS_MAX)
    application.partners = [*partners, {"ags": ags, "name": name}]
    application.updated_at = now


def clear_partners(application: GrantApplication, now: datetime) -> None:
    application.partners = []
    application.updated_at = now


def set_costs(
    application: GrantApplication, lines: list[CostLine], available_cents: int, now: datetime
) -> None:
    """Replace the cost plan; the total must fit what the municipality has left."""
    if len(lines) > LINES_MAX:
        raise UserError.of("grants.cost_too_many", max=LINES_MAX)
    total = sum(line.amount_cents for line in lines)
    if total > available_cents:
        raise UserError.of(
            "grants.over_budget",
            amount=format_euro(total),
            remaining=format_euro(available_cents),
            year=application.year,
        )
    application.cost_lines = [line.to_json() for line in lines]
    application.requested_cents = total
    application.updated_at = now


def missing_fields(application: GrantApplication) -> list[str]:
    missing = []
    if application.purpose not in PURPOSES:
        missing.append("purpose")
    if not application.title:
        missing.append("title")
    if not application.description:
        missing.append("description")
    if not application.cost_lines or application.requested_cents <= 0:
        missing.append("costs")
    return missing


# --- transitions ---------------------------------------------------------------------


async def _move(
    uow: UnitOfWork,
    application: GrantApplication,
    from_states: tuple[str, ...],
    to_state: str,
    actor: Actor,
    now: datetime,
    *,
    reason: str = "",
    amount_cents: int | None = None,
    **values,
) -> GrantTransition:
    """Compare and set the state, then record the transition; the loser of a race gets the
    same German answer as someone acting on a stale screen."""
    previous = application.state
    if previous not in from_states or not await uow.grants.change_state(
        application.id, from_states, to_state, updated_at=now, **values
    ):
        current = await uow.grants.get(application.id)
        raise wrong_state(current or application, to_state)
    # From here on this transaction holds the row (row lock / SQLite's write lock), so what
    # the application holds in the budget is read fresh, never from an earlier snapshot.
    await uow.refresh(application)
    transition = GrantTransition(
        application_id=application.id,
        from_state=previous,
        to_state=to_state,
        actor_id=actor.id,
        actor_label=actor.label[:100],
        reason=reason,
        amount_cents=amount_cents,
        at=now,
    )
    uow.add(transition)
    await uow.flush()
    return transition


def wrong_state(application: GrantApplication, wanted: str) -> UserError:
    state = state_label(application.state)
    if wanted in ("approved", "rejected", "info_requested") and application.state in (
        "approved",
        "rejected",
        "proof_submitted",
        "paid",
        "withdrawn",
    ):
        return UserError.of("grants.already_decided", id=application.id, state=state)
    return UserError.of("grants.wrong_state", id=application.id, state=state)


async def submit(
    uow: UnitOfWork,
    member: Member,
    application_id: int,
    programme: GrantProgramme,
    now: datetime,
) -> GrantApplication:
    application = await own_in_state(uow, member, application_id, "draft", "submitted")
    check_may_apply(member, programme, now)
    missing = missing_fields(application)
    if missing:
        fields = ", ".join(t(f"grants.field.{name}") for name in missing)
        raise UserError.of("grants.incomplete", fields=fields)
    year = programme.year_of(now)
    # An optimistic look first, so a hopeless submission takes no write lock; the
    # conditional update in ``grant_budget.reserve`` stays the authority.
    left = await grant_budget.remaining(uow, application.municipality_ags, year, programme)
    if application.requested_cents > left:
        raise UserError.of(
            "grants.over_budget",
            amount=format_euro(application.requested_cents),
            remaining=format_euro(left),
            year=year,
        )
    transition = await _move(
        uow,
        application,
        ("draft",),
        "submitted",
        Actor(member),
        now,
        amount_cents=application.requested_cents,
        year=year,
        submitted_at=now,
    )
    await grant_budget.reserve(
        uow, application, application.requested_cents, transition, programme, now
    )
    await _notify_staff(uow, application, transition, "grants.staff_new", now, review=True)
    return application


async def withdraw(
    uow: UnitOfWork, member: Member, application_id: int, now: datetime, reason: str = ""
) -> GrantApplication:
    application = await own(uow, member, application_id)
    return await withdraw_as(uow, application, Actor(member), now, reason)


async def withdraw_as(
    uow: UnitOfWork, application: GrantApplication, actor: Actor, now: datetime, reason: str
) -> GrantApplication:
    transition = await _move(uow, application, WITHDRAWABLE, "withdrawn", actor, now, reason=reason)
    await grant_budget.release(uow, application, application.reserved_cents, transition, now)
    if transition.from_state != "draft":
        await _notify_staff(uow, application, transition, "grants.staff_withdrawn", now)
    return application


async def request_info(
    uow: UnitOfWork, actor: Actor, application_id: int, question: str, now: datetime
) -> GrantApplication:
    application = await existing(uow, application_id)
    question = _reason(question, "grants.question_missing")
    transition = await _move(
        uow, application, DECIDABLE, "info_requested", actor, now, reason=question
    )
    reply = Reply(
        t("grants.info_requested", id=application.id, title=application.title, question=question),
        [Choice(t("grants.choice.answer"), f"/ergaenzen {application.id}")],
        ref=f"grant:{application.id}",
    )
    message = _notify_applicant(uow, application, transition, actor, reply, now)
    if message is not None:
        await _await_answer(uow, application, message.channel, message.address, now)
    return application


async def _await_answer(
    uow: UnitOfWork, application: GrantApplication, channel: str, address: str, now: datetime
) -> None:
    """Let a plain reply (an email answer, a Telegram message) count as the answer, unless
    the applicant is in the middle of another dialogue."""
    from core.store.models import Dialogue

    key = f"{channel}:{address}"
    if await uow.dialogues.get(key) is None:
        uow.dialogues.add(
            Dialogue(
                key=key,
                flow="grant_answer",
                step="answer",
                data={"application": application.id},
                updated_at=now,
            )
        )


async def answer_info(
    uow: UnitOfWork, member: Member, application_id: int, text: str, now: datetime
) -> GrantApplication:
    application = await own(uow, member, application_id)
    answer = _reason(text, "grants.answer_missing")
    if application.state != "info_requested":
        raise wrong_state(application, "submitted")
    transition = await _move(
        uow, application, ("info_requested",), "submitted", Actor(member), now, reason=answer
    )
    await _notify_staff(uow, application, transition, "grants.staff_answered", now, review=True)
    return application


async def approve(
    uow: UnitOfWork,
    actor: Actor,
    application_id: int,
    amount_cents: int | None,
    programme: GrantProgramme,
    now: datetime,
    reason: str = "",
) -> GrantApplication:
    application = await existing(uow, application_id)
    if application.state not in DECIDABLE:
        raise wrong_state(application, "approved")
    requested = application.requested_cents
    amount = requested if amount_cents is None else amount_cents
    if amount <= 0:
        raise UserError.of("money.not_positive")
    if amount > requested:
        raise UserError.of(
            "grants.approve_above_request",
            amount=format_euro(amount),
            requested=format_euro(requested),
        )
    transition = await _move(
        uow,
        application,
        DECIDABLE,
        "approved",
        actor,
        now,
        reason=reason,
        amount_cents=amount,
        approved_cents=amount,
        decided_at=now,
    )
    held = application.reserved_cents
    await grant_budget.release(uow, application, held - amount, transition, now)
    key = "grants.approved" if amount == requested else "grants.approved_lower"
    reply = Reply(
        t(
            key,
            id=application.id,
            title=application.title,
            amount=format_euro(amount),
            requested=format_euro(requested),
            deadline=programme.invoice_deadline_in(application.year).strftime("%d.%m.%Y"),
        ),
        [Choice(t("grants.choice.proof"), f"/nachweis {application.id}")],
        ref=f"grant:{application.id}",
    )
    _notify_applicant(uow, application, transition, actor, reply, now)
    return application


async def reject(
    uow: UnitOfWork, actor: Actor, application_id: int, reason: str, now: datetime
) -> GrantApplication:
    application = await existing(uow, application_id)
    if application.state not in REJECTABLE:
        raise wrong_state(application, "rejected")
    reason = _reason(reason, "grants.reason_missing")
    transition = await _move(
        uow, application, REJECTABLE, "rejected", actor, now, reason=reason, decided_at=now
    )
    await grant_budget.release(uow, application, application.reserved_cents, transition, now)
    reply = Reply(
        t("grants.rejected", id=application.id, title=application.title, reason=reason),
        ref=f"grant:{application.id}",
    )
    _notify_applicant(uow, application, transition, actor, reply, now)
    return application


async def submit_proof(
    uow: UnitOfWork,
    member: Member,
    application_id: int,
    proof_cents: int,
    note: str,
    programme: GrantProgramme,
    now: datetime,
) -> GrantApplication:
    application = await own_in_state(uow, member, application_id, "approved", "proof_submitted")
    if not programme.invoices_open(application.year, now):
        deadline = programme.invoice_deadline_in(application.year).strftime("%d.%m.%Y")
        raise UserError.of("grants.invoice_deadline_passed", deadline=deadline)
    note = _reason(note, "grants.proof_note_missing")
    transition = await _move(
        uow,
        application,
        ("approved",),
        "proof_submitted",
        Actor(member),
        now,
        reason=note,
        amount_cents=proof_cents,
        proof_cents=proof_cents,
        proof_note=note,
    )
    await _notify_staff(uow, application, transition, "grants.staff_proof", now, pay=True)
    return application


async def mark_paid(
    uow: UnitOfWork, actor: Actor, application_id: int, now: datetime
) -> GrantApplication:
    """Pay what the invoices show, at most the approved amount; the rest goes back."""
    application = await existing(uow, application_id)
    if application.state != "proof_submitted":
        raise wrong_state(application, "paid")
    paid = min(application.approved_cents or 0, application.proof_cents or 0)
    transition = await _move(
        uow,
        application,
        ("proof_submitted",),
        "paid",
        actor,
        now,
        amount_cents=paid,
        paid_cents=paid,
    )
    held = application.reserved_cents
    await grant_budget.release(uow, application, held - paid, transition, now)
    reply = Reply(
        t("grants.paid", id=application.id, title=application.title, amount=format_euro(paid)),
        ref=f"grant:{application.id}",
    )
    _notify_applicant(uow, application, transition, actor, reply, now)
    return application


def _reason(text: str, missing_key: str) -> str:
    text = (text or "").strip()
    if len(text) < 3:
        raise UserError.of(missing_key)
    if len(text) > REASON_MAX:
        raise UserError.of("grants.reason_too_long", max=REASON_MAX)
    return text


# --- notifications -------------------------------------------------------------------


def _notify_applicant(
    uow: UnitOfWork,
    application: GrantApplication,
    transition: GrantTransition,
    actor: Actor,
    reply: Reply,
    now: datetime,
):
    """Tell the applicant what someone else decided; their own actions are answered directly."""
    if actor.is_applicant(application):
        return None
    return enqueue(
        uow,
        application.applicant,
        reply,
        kind=f"grant_{transition.to_state}",
        subject=t("grants.subject", id=application.id),
        now=now,
        dedupe_key=f"grant:{application.id}:transition:{transition.id}",
    )


async def _notify_staff(
    uow: UnitOfWork,
    application: GrantApplication,
    transition: GrantTransition,
    key: str,
    now: datetime,
    *,
    review: bool = False,
    pay: bool = False,
) -> None:
    text = t(
        key,
        id=application.id,
        title=application.title,
        town=label(application.municipality),
        applicant=application.applicant.name,
        amount=format_euro(application.requested_cents),
        reason=transition.reason,
    )
    choices = review_choices(application) if review else []
    if pay:
        choices = [Choice(t("grants.choice.pay"), f"/auszahlen {application.id}")]
    for staff in await uow.members.staff():
        if staff.id == transition.actor_id or channel_for(staff) is None:
            continue
        enqueue(
            uow,
            staff,
            Reply(text, choices, ref=f"grant:{application.id}"),
            kind="grant_staff",
            subject=t("grants.subject_staff", id=application.id),
            now=now,
            dedupe_key=f"grant:{application.id}:transition:{transition.id}:staff:{staff.id}",
        )
