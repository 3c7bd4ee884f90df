"""Guided grant dialogues: the application (chat steps or the email form), the answer to
a question from staff, the proof of spending, and staff's reasons and questions.

Steps keep only the application's number in the dialogue; everything entered is saved
on the draft at once, so a restart or a detour (``/hilfe``) loses nothing: ``/antrag``
resumes at the first missing field.
"""

from __future__ import annotations

import re

from core.grants import applications as grants
from core.grants import budget as grant_budget
from core.grants import costs as grant_costs
from core.grants import form as grant_form
from core.grants import views as grant_views
from core.kernel import german_format
from core.kernel.arguments import MAX_DIGITS
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.grammar import fold
from core.kernel.money import AMOUNT, CURRENCY, format_euro, parse_euro
from core.kernel.replies import Choice, Reply, cancel_choice
from core.kernel.texts import t
from core.municipalities.directory import Municipality
from core.municipalities.reference import label
from core.store.models import Dialogue, GrantApplication, Member

DONE_WORDS = {"fertig", "keine", "kein", "nein", "-", "weiter", "ohne", "ende", "done"}
YES_WORDS = {"ja", "j", "yes", "ok", "einreichen", "absenden", "abschicken"}
RESET_WORDS = {"neu", "zuruecksetzen", "loeschen"}
# The number a member may type, then word stems that name the purpose.
PURPOSE_WORDS = {
    "consulting": ("1", "berat", "moder", "consult"),
    "networking": ("2", "vernetz", "reise", "fahrt", "netzwerk", "network"),
}
PARTNER_CANDIDATES = 6
_AMOUNT_FIRST = re.compile(
    rf"^\s*(?P<amount>{AMOUNT})\s*{CURRENCY}?\s*[,;:]?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def _done() -> Choice:
    return Choice(t("grants.choice.done"), "fertig")


# --- starting and resuming -----------------------------------------------------------


async def start(ctx: Ctx, args: str) -> Reply:
    """``/antrag`` [number | filled form]: begin, resume a draft, or take an email form."""
    member = ctx.known_member
    programme = ctx.services.grants
    grants.check_may_apply(member, programme, ctx.now)
    if grant_form.looks_like_form(args):
        return await _apply_form(ctx, None, args)
    if args.strip().isdecimal() and len(args.strip()) <= MAX_DIGITS:
        application = await grants.own_draft(ctx.uow, member, int(args.strip()))
    else:
        application = await ctx.uow.grants.latest_draft(member.id)
    if ctx.sender.channel == "email":
        return await _send_form(ctx, application)
    if application is None:
        await ctx.begin("grant", "purpose", {"application": None})
        intro = t("grants.intro", **await _budget_values(ctx, member))
        return Reply(intro + "\n\n" + t("grants.ask_purpose"), _purpose_choices())
    resumed = await _next_step(ctx, application, {})
    resumed.text = t("grants.resuming", id=application.id) + "\n\n" + resumed.text
    return resumed


async def _budget_values(ctx: Ctx, member: Member) -> dict:
    programme = ctx.services.grants
    year = programme.year_of(ctx.now)
    left = await grant_budget.remaining(ctx.uow, member.municipality_ags, year, programme)
    return {
        "town": label(member.municipality),
        "year": year,
        "remaining": format_euro(left),
        "cap": format_euro(programme.cap_cents),
        "rate": format_euro(programme.max_day_rate_cents),
        "deadline": german_format.day(programme.application_deadline_in(year)),
    }


def _purpose_choices() -> list[Choice]:
    return [
        Choice(t("grants.purpose.consulting"), "beratung"),
        Choice(t("grants.purpose.networking"), "vernetzung"),
        cancel_choice(),
    ]


async def _next_step(ctx: Ctx, application: GrantApplication, data: dict) -> Reply:
    """Ask for the first field still missing; the summary when nothing is."""
    data = {**data, "application": application.id}
    if application.purpose is None:
        await ctx.begin("grant", "purpose", data)
        return Reply(t("grants.ask_purpose"), _purpose_choices())
    if not application.title:
        await ctx.begin("grant", "title", data)
        return Reply(t("grants.ask_title"), [cancel_choice()])
    if not application.description:
        await ctx.begin("grant", "description", data)
        return Reply(t("grants.ask_description"), [cancel_choice()])
    if not application.cost_lines and not application.partners and not data.get("partners_done"):
        await ctx.begin("grant", "partners", data)
        return Reply(t("grants.ask_partners"), [_done(), cancel_choice()])
    if not application.cost_lines:
        await ctx.begin("grant", "costs", data)
        values = await _budget_values(ctx, ctx.known_member)
        return Reply(t("grants.ask_costs", **values), [cancel_choice()])
    await ctx.begin("grant", "summary", data)
    return summary_reply(application, ctx.sender.channel)


def summary_reply(application: GrantApplication, channel: str) -> Reply:
    key = "grants.confirm_email" if channel == "email" else "grants.confirm"
    return Reply(
        grant_views.summary(application) + "\n\n" + t(key),
        [
            Choice(t("grants.choice.submit"), f"/einreichen {application.id}"),
            *change_choices(),
            Choice(t("grants.choice.keep_draft"), "/abbrechen"),
            Choice(t("grants.choice.discard"), f"/zurueckziehen {application.id}"),
        ],
        ref=f"grant:{application.id}",
    )


async def _draft(ctx: Ctx, dialogue: Dialogue) -> GrantApplication:
    """The dialogue's draft, created on the first real answer."""
    number = dialogue.data.get("application")
    if number is None:
        application = await grants.start_draft(
            ctx.uow, ctx.known_member, ctx.services.grants, ctx.now
        )
        dialogue.data = {**dialogue.data, "application": application.id}
        return application
    return await grants.own_draft(ctx.uow, ctx.known_member, int(number))


# --- the chat steps ------------------------------------------------------------------


def parse_purpose(text: str) -> str | None:
    """ "Beratung", "Externe Beratung oder Moderation", "2", "Reise" -> the purpose key."""
    words = re.findall(r"\w+", fold(text))
    for purpose, stems in PURPOSE_WORDS.items():
        if words[:1] == [stems[0]] or any(w.startswith(stems[1:]) for w in words):
            return purpose
    return None


async def _purpose(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    purpose = parse_purpose(text)
    if purpose is None:
        return Reply(t("grants.bad_purpose") + "\n\n" + t("grants.ask_purpose"), _purpose_choices())
    application = await _draft(ctx, dialogue)
    grants.set_purpose(application, purpose, ctx.now)
    return await _next_step(ctx, application, dialogue.data)


async def _title(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application = await _draft(ctx, dialogue)
    grants.set_title(application, text, ctx.now)
    return await _next_step(ctx, application, dialogue.data)


async def _description(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application = await _draft(ctx, dialogue)
    grants.set_description(application, text, ctx.now)
    return await _next_step(ctx, application, dialogue.data)


def resolve_municipality(ctx: Ctx, query: str) -> Municipality | list[Municipality]:
    """One municipality, or the candidates to choose from; ``UserError`` when none."""
    index = ctx.services.municipalities
    query = query.strip()
    found = index.get(query)
    if found is not None:
        return found
    hits = index.search(query, limit=PARTNER_CANDIDATES)
    if not hits:
        raise UserError.of("grants.partner_not_found", query=german_format.echoed(query))
    if len(hits) == 1:
        return hits[0]
    # "Görlitz" means the town, not "Landkreis Görlitz": an exact name match decides.
    exact = [h for h in hits if fold(h.short_name) == fold(query)]
    return exact[0] if len(exact) == 1 else hits


async def _partners(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application = await _draft(ctx, dialogue)
    if fold(text).strip(" .!") in DONE_WORDS:
        return await _next_step(ctx, application, {**dialogue.data, "partners_done": True})
    if fold(text).strip(" .!") in RESET_WORDS:
        grants.clear_partners(application, ctx.now)
        return await back_to(ctx, application, "partners", dialogue.data)
    found = resolve_municipality(ctx, text)
    if isinstance(found, list):
        choices = [Choice(m.display_name, m.ags) for m in found]
        return Reply(t("grants.pick_partner"), [*choices, _done()])
    grants.add_partner(application, found.canonical_ags, found.display_name, ctx.now)
    names = ", ".join(p["name"] for p in application.partners)
    await ctx.begin("grant", "partners", dialogue.data)
    return Reply(t("grants.partner_added", partners=names), [_done(), cancel_choice()])


async def _costs(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application = await _draft(ctx, dialogue)
    word = fold(text).strip(" .!")
    programme = ctx.services.grants
    if word in DONE_WORDS:
        if not application.cost_lines:
            raise UserError.of("grants.cost_none")
        await ctx.begin("grant", "summary", dialogue.data)
        return summary_reply(application, ctx.sender.channel)
    if word in RESET_WORDS:
        lines = []
    else:
        parsed = grant_costs.parse_lines(text, programme.max_day_rate_cents)
        lines = grant_views.costs(application) + parsed
    left = await grant_budget.remaining(
        ctx.uow, application.municipality_ags, programme.year_of(ctx.now), programme
    )
    grants.set_costs(application, lines, left, ctx.now)
    await ctx.begin("grant", "costs", dialogue.data)
    listed = "\n".join(f"• {line.describe()}" for line in lines) or t("grants.none")
    return Reply(
        t(
            "grants.costs_so_far",
            lines=listed,
            total=format_euro(application.requested_cents),
            remaining=format_euro(left - application.requested_cents),
        ),
        [_done(), Choice(t("grants.choice.reset_costs"), "neu"), cancel_choice()],
    )


async def _summary(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application = await _draft(ctx, dialogue)
    word = fold(text).strip(" .!")
    if word in YES_WORDS:
        return await submit(ctx, application.id)
    if word in BACK_STEPS:
        return await back_to(ctx, application, BACK_STEPS[word], dialogue.data)
    return summary_reply(application, ctx.sender.channel)


# --- from the summary back to a step -------------------------------------------------

# The word of a "change" choice and the step it leads back to; after the step the
# dialogue returns to the summary, because every other field is filled.
BACK_STEPS = {"kosten": "costs", "partner": "partners", "zweck": "purpose"}
BACK_STEPS |= {"titel": "title", "beschreibung": "description"}


def change_choices() -> list[Choice]:
    return [
        Choice(t(f"grants.choice.change_{step}"), word)
        for word, step in BACK_STEPS.items()
        if step in ("costs", "partners", "purpose")
    ]


async def back_to(ctx: Ctx, application: GrantApplication, step: str, data: dict) -> Reply:
    await ctx.begin("grant", step, {**data, "application": application.id})
    if step == "purpose":
        return Reply(t("grants.ask_purpose"), _purpose_choices())
    if step == "partners":
        names = ", ".join(p["name"] for p in application.partners or []) or t("grants.none")
        reset = Choice(t("grants.choice.reset_partners"), "neu")
        return Reply(t("grants.change_partners", partners=names), [_done(), reset, cancel_choice()])
    if step == "costs":
        return await _costs_plan(ctx, application)
    return Reply(t(f"grants.ask_{step}"), [cancel_choice()])


async def _costs_plan(ctx: Ctx, application: GrantApplication) -> Reply:
    programme = ctx.services.grants
    left = await grant_budget.remaining(
        ctx.uow, application.municipality_ags, programme.year_of(ctx.now), programme
    )
    lines = grant_views.costs(application)
    listed = "\n".join(f"• {line.describe()}" for line in lines) or t("grants.none")
    return Reply(
        t(
            "grants.costs_so_far",
            lines=listed,
            total=format_euro(application.requested_cents or 0),
            remaining=format_euro(left - (application.requested_cents or 0)),
        ),
        [_done(), Choice(t("grants.choice.reset_costs"), "neu"), cancel_choice()],
    )


async def _over_budget(ctx: Ctx, application_id: int) -> Reply | None:
    """The refusal of a draft the budget cannot take, with the ways back; None when it fits.

    A read-only look: the submission itself checks again under its lock."""
    application = await grants.own(ctx.uow, ctx.known_member, application_id)
    if application.state != "draft" or grants.missing_fields(application):
        return None
    programme = ctx.services.grants
    year = programme.year_of(ctx.now)
    left = await grant_budget.remaining(ctx.uow, application.municipality_ags, year, programme)
    if application.requested_cents <= left:
        return None
    await ctx.begin("grant", "summary", {"application": application.id})
    refusal = t(
        "grants.over_budget",
        amount=format_euro(application.requested_cents),
        remaining=format_euro(left),
        year=year,
    )
    keep = Choice(t("grants.choice.keep_draft"), "/abbrechen")
    return Reply(f"{refusal} {t('grants.change_what')}", [*change_choices(), keep])


async def submit(ctx: Ctx, application_id: int) -> Reply:
    refused = await _over_budget(ctx, application_id)
    if refused is not None:
        return refused
    application = await grants.submit(
        ctx.uow, ctx.known_member, application_id, ctx.services.grants, ctx.now
    )
    await ctx.end()
    return Reply(
        t(
            "grants.submitted",
            id=application.id,
            title=application.title,
            amount=format_euro(application.requested_cents),
        ),
        ref=f"grant:{application.id}",
    )


# --- the email form ------------------------------------------------------------------


async def _send_form(ctx: Ctx, application: GrantApplication | None) -> Reply:
    data = {"application": application.id if application else None}
    await ctx.begin("grant", "form", data)
    values = await _budget_values(ctx, ctx.known_member)
    return Reply(
        t("grants.form_intro", **values) + "\n\n" + grant_form.render(application),
        ref=f"grant:{application.id}" if application else None,
    )


async def _form(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    return await _apply_form(ctx, dialogue, text)


async def _apply_form(ctx: Ctx, dialogue: Dialogue | None, text: str) -> Reply:
    fields = grant_form.parse(text)
    if not fields:
        raise UserError.of("grants.form_unreadable")
    if dialogue is not None:
        application = await _draft(ctx, dialogue)
    else:  # "/antrag" with the form in the same message: fill the open draft, if any
        member = ctx.known_member
        application = await ctx.uow.grants.latest_draft(member.id)
        if application is None:
            application = await grants.start_draft(ctx.uow, member, ctx.services.grants, ctx.now)
    now = ctx.now
    if "purpose" in fields:
        purpose = parse_purpose(fields["purpose"])
        if purpose is None:
            raise UserError.of("grants.bad_purpose")
        grants.set_purpose(application, purpose, now)
    if "title" in fields:
        grants.set_title(application, fields["title"], now)
    if "description" in fields:
        grants.set_description(application, fields["description"], now)
    if "partners" in fields and fold(fields["partners"]).strip(" .") not in DONE_WORDS:
        application.partners = []
        for name in re.split(r"[,;\n]+", fields["partners"]):
            if name.strip():
                found = resolve_municipality(ctx, name)
                if isinstance(found, list):
                    options = "; ".join(f"{m.display_name} ({m.ags})" for m in found)
                    raise UserError.of(
                        "grants.partner_ambiguous", query=name.strip(), options=options
                    )
                grants.add_partner(application, found.canonical_ags, found.display_name, now)
    if "costs" in fields:
        programme = ctx.services.grants
        lines = grant_costs.parse_lines(fields["costs"], programme.max_day_rate_cents)
        left = await grant_budget.remaining(
            ctx.uow, application.municipality_ags, programme.year_of(now), programme
        )
        grants.set_costs(application, lines, left, now)
    missing = grants.missing_fields(application)
    if missing:
        names = ", ".join(t(f"grants.field.{name}") for name in missing)
        raise UserError.of("grants.incomplete", fields=names)
    await ctx.begin("grant", "summary", {"application": application.id})
    return summary_reply(application, ctx.sender.channel)


# --- answering a question, proving the spending ---------------------------------------


async def answer(ctx: Ctx, application_id: int, text: str) -> Reply:
    application = await grants.answer_info(ctx.uow, ctx.known_member, application_id, text, ctx.now)
    await ctx.end()
    return Reply(t("grants.answer_sent", id=application.id), ref=f"grant:{application.id}")


async def ask_answer(ctx: Ctx, application_id: int) -> Reply:
    application = await grants.own_in_state(
        ctx.uow, ctx.known_member, application_id, "info_requested", "submitted"
    )
    await ctx.begin("grant_answer", "answer", {"application": application.id})
    return Reply(t("grants.ask_answer", id=application.id), [cancel_choice()])


async def _answer(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    return await answer(ctx, int(dialogue.data["application"]), text)


def split_amount(text: str) -> tuple[int, str] | None:
    """ "1.450,00 € Rechnung 4711" -> (145000, "Rechnung 4711"); None without a leading amount."""
    match = _AMOUNT_FIRST.match(text)
    if match is None:
        return None
    return parse_euro(match.group("amount")), match.group("rest").strip()


async def proof(ctx: Ctx, application_id: int, rest: str) -> Reply:
    application = await grants.own_in_state(
        ctx.uow, ctx.known_member, application_id, "approved", "proof_submitted"
    )
    found = split_amount(rest) if rest.strip() else None
    if found is None or not found[1]:
        data = {"application": application.id}
        if found is not None:
            await ctx.begin("grant_proof", "note", {**data, "amount": found[0]})
            return Reply(t("grants.ask_proof_note"), [cancel_choice()])
        await ctx.begin("grant_proof", "amount", data)
        return Reply(
            t(
                "grants.ask_proof_amount",
                id=application.id,
                approved=format_euro(application.approved_cents or 0),
            ),
            [cancel_choice()],
        )
    return await _submit_proof(ctx, application.id, *found)


async def _submit_proof(ctx: Ctx, application_id: int, amount: int, note: str) -> Reply:
    application = await grants.submit_proof(
        ctx.uow, ctx.known_member, application_id, amount, note, ctx.services.grants, ctx.now
    )
    await ctx.end()
    paid = min(amount, application.approved_cents or 0)
    return Reply(
        t(
            "grants.proof_sent",
            id=application.id,
            amount=format_euro(amount),
            paid=format_euro(paid),
        ),
        ref=f"grant:{application.id}",
    )


async def _proof_amount(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    amount = parse_euro(text)
    await ctx.begin("grant_proof", "note", {**dialogue.data, "amount": amount})
    return Reply(t("grants.ask_proof_note"), [cancel_choice()])


async def _proof_note(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    application_id, amount = int(dialogue.data["application"]), int(dialogue.data["amount"])
    return await _submit_proof(ctx, application_id, amount, text)


# --- staff: a reason or a question typed after pressing the button ---------------------


def staff_actor(ctx: Ctx) -> grants.Actor:
    return grants.Actor(ctx.known_member, ctx.known_member.name)


async def ask_staff_text(ctx: Ctx, step: str, application_id: int) -> Reply:
    application = await grants.existing(ctx.uow, application_id)
    allowed = grants.REJECTABLE if step == "reason" else grants.DECIDABLE
    if application.state not in allowed:
        raise grants.wrong_state(application, "rejected" if step == "reason" else "info_requested")
    await ctx.begin("grant_staff", step, {"application": application.id})
    return Reply(
        t(f"grants.ask_staff_{step}", id=application.id, title=application.title), [cancel_choice()]
    )


async def reject_with(ctx: Ctx, number: int, reason: str) -> Reply:
    """``/ablehnen_antrag NR Grund``, or the reason typed after pressing the button."""
    application = await grants.reject(ctx.uow, staff_actor(ctx), number, reason, ctx.now)
    return Reply(t("grants.staff_rejected", id=application.id))


async def ask_with(ctx: Ctx, number: int, question: str) -> Reply:
    """``/rueckfrage NR Text``, or the question typed after pressing the button."""
    application = await grants.request_info(ctx.uow, staff_actor(ctx), number, question, ctx.now)
    return Reply(t("grants.staff_asked", id=application.id))


STAFF_TEXT_ACTIONS = {"reason": reject_with, "question": ask_with}


async def _staff_text(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    await ctx.end()
    act = STAFF_TEXT_ACTIONS[dialogue.step]
    return await act(ctx, int(dialogue.data["application"]), text)


# The grant dialogues' steps, declared by the grants feature (core/feature_set.py).
STEPS = {
    ("grant", "purpose"): _purpose,
    ("grant", "title"): _title,
    ("grant", "description"): _description,
    ("grant", "partners"): _partners,
    ("grant", "costs"): _costs,
    ("grant", "summary"): _summary,
    ("grant", "form"): _form,
    ("grant_answer", "answer"): _answer,
    ("grant_proof", "amount"): _proof_amount,
    ("grant_proof", "note"): _proof_note,
    ("grant_staff", "reason"): _staff_text,
    ("grant_staff", "question"): _staff_text,
}
