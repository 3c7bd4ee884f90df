"""Guided dialogues, one function per step.

A dialogue is a flow name, a step name and collected data, stored per sender,
so it survives a restart and works the same in every channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.conversation import registration_form
from core.conversation.registration import NO, YES, finish_registration, welcome_choices
from core.exchange import posts as exchange
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members import accounts as members
from core.members import erasure
from core.members.roles import SELF_SERVICE_ROLES, parse_role, role_label
from core.store.models import Dialogue

SEARCH_RESULTS = 8
SKIP = {"-", "ueberspringen", "überspringen", "weiter", "ohne"}

Step = Callable[[Ctx, Dialogue, str], Awaitable["Reply | list[Reply]"]]


def _cancel_choice() -> Choice:
    return Choice(t("common.cancel"), "/abbrechen")


# --- registration -----------------------------------------------------------------


def _pending(text: str | None) -> dict:
    """The input that led into a dialogue, kept so it is carried out when the dialogue ends."""
    return {"pending": text} if text else {}


def _carry_out_pending(ctx: Ctx, dialogue: Dialogue) -> str | None:
    ctx.then = dialogue.data.get("pending")
    return ctx.then


async def start_registration(ctx: Ctx, pending: str | None = None) -> Reply:
    if ctx.sender.channel == "email":  # one form to send back instead of four mails
        return await registration_form.start(ctx, pending)
    await ctx.begin("register", "name", _pending(pending))
    key = "register.intro_pending" if pending else "register.intro"
    return Reply(t(key), [_cancel_choice()])


async def _register_name(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    name = members.check_name(text)
    await ctx.begin("register", "municipality", {**dialogue.data, "name": name})
    return Reply(t("register.ask_municipality", name=name), [_cancel_choice()])


async def _register_municipality(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    query = text.strip()
    town = ctx.services.municipalities.get(query)
    if town is None:
        hits = ctx.services.municipalities.search(query, limit=SEARCH_RESULTS)
        if not hits:
            raise UserError.of("register.municipality_not_found", query=query[:60])
        if len(hits) > 1:
            choices = [Choice(h.display_name, h.ags) for h in hits]
            return Reply(t("register.pick_municipality"), [*choices, _cancel_choice()])
        town = hits[0]
    data = {**dialogue.data, "ags": town.canonical_ags, "town": town.display_name}
    await ctx.begin("register", "role", data)
    choices = [Choice(role_label(r), r) for r in SELF_SERVICE_ROLES]
    return Reply(t("register.ask_role", town=town.display_name), [*choices, _cancel_choice()])


async def _register_role(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    role = parse_role(text)
    if role not in SELF_SERVICE_ROLES:
        choices = [Choice(role_label(r), r) for r in SELF_SERVICE_ROLES]
        return Reply(t("register.bad_role"), choices)
    data = {**dialogue.data, "role": role}
    if ctx.sender.email is None:
        await ctx.begin("register", "email", data)
        return Reply(t("register.ask_email"), [Choice(t("register.skip_email"), "-")])
    await ctx.begin("register", "consent", data)
    return _consent_question()


async def _register_email(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    email = None if text.strip().lower() in SKIP else members.normalise_email(text)
    if email and await ctx.uow.members.by_email(email):
        raise UserError.of("register.email_known", email=email)
    await ctx.begin("register", "consent", {**dialogue.data, "email": email})
    return _consent_question()


def _consent_question() -> Reply:
    return Reply(
        t("register.consent"),
        [Choice(t("register.consent_yes"), "ja"), Choice(t("register.consent_no"), "nein")],
    )


async def _unless_consent(ctx: Ctx, text: str) -> Reply | None:
    """The answer to a refused or unclear consent question; None when the member agreed."""
    answer = text.strip().lower()
    if answer in NO:
        await ctx.end()
        return Reply(t("register.consent_refused"))
    return None if answer in YES else _consent_question()


async def _register_consent(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    if (refused := await _unless_consent(ctx, text)) is not None:
        return refused
    return await finish_registration(ctx, dialogue.data)


# --- consent for invited members --------------------------------------------------


async def ask_consent(ctx: Ctx, pending: str | None = None) -> Reply:
    await ctx.begin("consent", "consent", _pending(pending))
    return _consent_question()


async def _consent(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    if (refused := await _unless_consent(ctx, text)) is not None:
        return refused
    assert ctx.member is not None
    ctx.member.consent_at = ctx.now
    await ctx.end()
    if _carry_out_pending(ctx, dialogue):
        return Reply(t("register.consent_thanks_pending", name=ctx.member.name))
    return Reply(t("register.consent_thanks", name=ctx.member.name), welcome_choices())


# --- posting ----------------------------------------------------------------------


async def start_post(ctx: Ctx, kind: str) -> Reply:
    await ctx.begin("post", "title", {"kind": kind})
    return Reply(t(f"posts.ask_title_{kind}"), [_cancel_choice()])


async def _post_title(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    # A long or multi-line answer already holds the description; keep it as the body.
    title, body = exchange.split_text(exchange.check_text(text))
    await ctx.begin("post", "body", {**dialogue.data, "title": title, "body": body})
    return Reply(t("posts.ask_body"), [Choice(t("posts.no_body"), "-"), _cancel_choice()])


async def _post_body(ctx: Ctx, dialogue: Dialogue, text: str) -> list[Reply]:
    from core.conversation.commands import publish  # the same path as "/biete text"

    body = "" if text.strip().lower() in SKIP else text.strip()
    data = dialogue.data
    body = "\n\n".join(part for part in (data.get("body", ""), body) if part)
    await ctx.end()
    return await publish(ctx, exchange.NewPost(kind=data["kind"], title=data["title"], body=body))


async def start_edit(ctx: Ctx, post_id: int) -> Reply:
    await ctx.begin("edit", "text", {"post": post_id})
    return Reply(t("posts.ask_edit"), [_cancel_choice()])


async def _edit_text(ctx: Ctx, dialogue: Dialogue, text: str) -> list[Reply]:
    from core.conversation.commands import republish  # the same path as "/aendern NR text"

    await ctx.end()
    return await republish(ctx, int(dialogue.data["post"]), text)


# The steps of the conversation's own dialogues, declared by their features in
# core/feature_set.py like every other feature's steps.
MEMBER_STEPS: dict[tuple[str, str], Step] = {
    ("register", "name"): _register_name,
    ("register", "municipality"): _register_municipality,
    ("register", "role"): _register_role,
    ("register", "email"): _register_email,
    ("register", "consent"): _register_consent,
    ("consent", "consent"): _consent,
    (registration_form.FLOW, "form"): registration_form.form_step,
}

EXCHANGE_STEPS: dict[tuple[str, str], Step] = {
    ("post", "title"): _post_title,
    ("post", "body"): _post_body,
    ("edit", "text"): _edit_text,
    (erasure.FLOW, erasure.STEP): erasure.answer,
}


async def continue_dialogue(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply | list[Reply]:
    step = ctx.services.features.steps.get((dialogue.flow, dialogue.step))
    if step is None:  # a flow from an older version: start over cleanly
        await ctx.end()
        return Reply(t("common.dialogue_lost"))
    return await step(ctx, dialogue, text)
