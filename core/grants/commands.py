"""Grant commands of the one grammar: members apply and follow their applications,
staff review, decide and pay. ``commands()`` is declared in ``core/feature_set.py``."""

from __future__ import annotations

from core.grants import applications as grants
from core.grants import dialogues as grant_dialogues
from core.grants import views as grant_views
from core.kernel import german_format
from core.kernel.arguments import number_and_rest
from core.kernel.clock import aware
from core.kernel.context import Ctx
from core.kernel.grammar import Command
from core.kernel.money import format_euro, parse_euro
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.municipalities.reference import label

# --- members -----------------------------------------------------------------------


async def apply(ctx: Ctx, args: str) -> Reply:
    return await grant_dialogues.start(ctx, args)


async def my_applications(ctx: Ctx, args: str) -> list[Reply]:
    applications = await ctx.uow.grants.for_applicant(ctx.known_member.id)
    if not applications:
        return [Reply(t("grants.none_own"), [Choice(t("grants.choice.apply"), "/antrag")])]
    replies = [Reply(t("grants.own_intro", count=len(applications)))]
    for application in applications:
        replies.append(
            Reply(
                grant_views.status_line(application, ctx.services.tz),
                grant_views.applicant_choices(application),
                ref=f"grant:{application.id}",
            )
        )
    return replies


async def submit(ctx: Ctx, args: str) -> Reply:
    number, _ = number_and_rest(args, "grants.number_missing")
    return await grant_dialogues.submit(ctx, number)


async def withdraw(ctx: Ctx, args: str) -> Reply:
    number, reason = number_and_rest(args, "grants.number_missing")
    application = await grants.withdraw(ctx.uow, ctx.known_member, number, ctx.now, reason)
    return Reply(t("grants.withdrawn", id=application.id, title=application.title or "–"))


async def supplement(ctx: Ctx, args: str) -> Reply:
    number, text = number_and_rest(args, "grants.number_missing")
    if not text:
        return await grant_dialogues.ask_answer(ctx, number)
    return await grant_dialogues.answer(ctx, number, text)


async def proof(ctx: Ctx, args: str) -> Reply:
    number, rest = number_and_rest(args, "grants.number_missing")
    return await grant_dialogues.proof(ctx, number, rest)


# --- staff -------------------------------------------------------------------------


async def review_queue(ctx: Ctx, args: str) -> list[Reply]:
    queue = await ctx.uow.grants.review_queue()
    payable = await ctx.uow.grants.review_queue(("proof_submitted",))
    if not queue and not payable:
        return [Reply(t("grants.queue_empty"))]
    replies = [Reply(t("grants.queue_intro", count=len(queue), payable=len(payable)))]
    for application in queue:
        replies.append(
            Reply(
                _queue_text(ctx, application),
                grant_views.review_choices(application),
                ref=f"grant:{application.id}",
            )
        )
    for application in payable:
        text = t(
            "grants.payable_line",
            id=application.id,
            title=application.title,
            town=label(application.municipality),
            approved=format_euro(application.approved_cents or 0),
            proof=format_euro(application.proof_cents or 0),
            note=application.proof_note,
        )
        choice = Choice(t("grants.choice.pay"), f"/auszahlen {application.id}")
        replies.append(Reply(text, [choice], ref=f"grant:{application.id}"))
    return replies


def _queue_text(ctx: Ctx, application) -> str:
    weak = application.municipality.is_structurally_weak
    submitted = application.submitted_at
    when = german_format.day_and_time(aware(submitted).astimezone(ctx.services.tz))
    flag = t("grants.weak_flag") if weak else ""
    return t(
        "grants.queue_line", summary=grant_views.summary(application), flag=flag, submitted=when
    )


async def approve(ctx: Ctx, args: str) -> Reply:
    number, amount_text = number_and_rest(args, "grants.number_missing")
    amount = parse_euro(amount_text) if amount_text else None
    application = await grants.approve(
        ctx.uow, grant_dialogues.staff_actor(ctx), number, amount, ctx.services.grants, ctx.now
    )
    return Reply(
        t(
            "grants.staff_approved",
            id=application.id,
            amount=format_euro(application.approved_cents or 0),
        )
    )


def _with_staff_text(step: str):
    """A staff command ``NR Text`` (a reason, a question); without the text, a dialogue
    asks for it (a button sends only the number)."""

    async def handler(ctx: Ctx, args: str) -> Reply:
        number, text = number_and_rest(args, "grants.number_missing")
        if not text:
            return await grant_dialogues.ask_staff_text(ctx, step, number)
        return await grant_dialogues.STAFF_TEXT_ACTIONS[step](ctx, number, text)

    handler.__name__ = f"staff_{step}"
    return handler


reject = _with_staff_text("reason")
ask = _with_staff_text("question")


async def pay(ctx: Ctx, args: str) -> Reply:
    number, _ = number_and_rest(args, "grants.number_missing")
    application = await grants.mark_paid(ctx.uow, grant_dialogues.staff_actor(ctx), number, ctx.now)
    return Reply(
        t("grants.staff_paid", id=application.id, amount=format_euro(application.paid_cents or 0))
    )


def commands() -> list[Command]:
    return [
        Command("antrag", apply, args="[Nr]"),
        Command("antraege", my_applications),
        Command("einreichen", submit, args="NR", listed=False),
        Command("zurueckziehen", withdraw, args="NR", listed=False),
        Command("ergaenzen", supplement, args="NR [Text]", listed=False),
        Command("nachweis", proof, args="NR [Betrag Text]", listed=False),
        Command("pruefen", review_queue, staff_only=True),
        Command("bewilligen", approve, args="NR [Betrag]", staff_only=True),
        Command("ablehnen_antrag", reject, args="NR Grund", staff_only=True),
        Command("rueckfrage", ask, args="NR Text", staff_only=True),
        Command("auszahlen", pay, args="NR", staff_only=True),
    ]
