"""The members' guided dialogues: registration step by step (Telegram, the terminal; by
mail the one form of ``core/members/registration_form.py``) and the consent of invited
members, one function per step.

A dialogue is a flow name, a step name and collected data, stored per sender,
so it survives a restart and works the same in every channel.
"""

from __future__ import annotations

from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.features import DialogueStep
from core.kernel.german_format import echoed
from core.kernel.kept import kept_requests, with_kept
from core.kernel.replies import Choice, Reply, cancel_choice
from core.kernel.reply_words import SKIP_WORDS
from core.kernel.texts import t
from core.members import accounts as members
from core.members import erasure, registration_form
from core.members.registration import NO, YES, finish_registration, welcome_choices, yes_or_no
from core.members.registration_hints import folded_letters
from core.members.roles import SELF_SERVICE_ROLES, parse_role, role_label
from core.store.models import Dialogue

SEARCH_RESULTS = 8

# --- registration -----------------------------------------------------------------


def _pending(text: str | None, files: list[dict] | None = None) -> dict:
    """The input that led into a dialogue, kept so it is carried out when the dialogue ends,
    with the references of the files it came with (parked by the assistant)."""
    return with_kept({}, text, files) if text else {}


def _carry_out_pending(ctx: Ctx, dialogue: Dialogue) -> bool:
    ctx.then = kept_requests(dialogue.data)
    return bool(ctx.then)


async def start_registration(
    ctx: Ctx, pending: str | None = None, files: list[dict] | None = None
) -> Reply:
    if ctx.sender.channel == "email":  # one form to send back instead of four mails
        return await registration_form.start(ctx, pending, files)
    await ctx.begin("register", "name", _pending(pending, files))
    key = "register.intro_pending" if pending else "register.intro"
    return Reply(t(key), [cancel_choice()])


async def keep_for_later(
    ctx: Ctx, dialogue: Dialogue, pending: str, files: list[dict] | None = None
) -> Reply | None:
    """A command typed in the middle of registration or consent: kept for afterwards
    beside those before it (core/kernel/kept.py), and the dialogue goes on at the question
    it was at, instead of starting again from the first one. None for other dialogues."""
    if dialogue.flow == registration_form.FLOW:
        return await registration_form.keep(ctx, dialogue.data, pending, files)
    question = question_again(ctx, dialogue)
    if question is None:
        return None
    await ctx.begin(dialogue.flow, dialogue.step, with_kept(dialogue.data, pending, files))
    kept = t("register.kept_consent" if dialogue.flow == "consent" else "register.kept")
    return _noted(kept, question)


def question_again(ctx: Ctx, dialogue: Dialogue) -> Reply | None:
    """The question a registration or consent dialogue is at; None for other dialogues."""
    ask = _QUESTIONS.get((dialogue.flow, dialogue.step))
    return ask(ctx, dialogue.data) if ask else None


async def registration_question(ctx: Ctx) -> Reply | None:
    """The question the sender's registration (or consent) under way is at, if any."""
    dialogue = await ctx.uow.dialogues.get(ctx.sender.key)
    return question_again(ctx, dialogue) if dialogue else None


def resumed(question: Reply) -> Reply:
    """The question again, for a sender who came back to it (/start, a new chat)."""
    return _noted(t("register.resumed"), question)


def _noted(note: str, question: Reply) -> Reply:
    return Reply(note + "\n\n" + question.text, question.choices)


def _ask_name(ctx: Ctx, data: dict) -> Reply:
    return Reply(t("register.ask_name"), [cancel_choice()])


def _ask_municipality(ctx: Ctx, data: dict) -> Reply:
    towns = [ctx.services.municipalities.get(ags) for ags in data.get("candidates") or ()]
    if towns := [town for town in towns if town is not None]:  # the pick list shown last
        return _pick_municipality(towns)
    return Reply(t("register.ask_municipality", name=data["name"]), [cancel_choice()])


def _pick_municipality(towns) -> Reply:
    """The towns a search found; a single one that was only guessed is asked about."""
    choices = [Choice(town.display_name, town.ags) for town in towns]
    key = "register.confirm_municipality" if len(towns) == 1 else "register.pick_municipality"
    return Reply(t(key), [*choices, cancel_choice()])


def _ask_role(ctx: Ctx, data: dict) -> Reply:
    choices = [Choice(role_label(r), r) for r in SELF_SERVICE_ROLES]
    return Reply(t("register.ask_role", town=data["town"]), [*choices, cancel_choice()])


def _ask_email(ctx: Ctx, data: dict) -> Reply:
    return Reply(t("register.ask_email"), [Choice(t("register.skip_email"), "-")])


_GREETINGS = {"hallo", "hi", "moin", "servus", "guten", "gruss", "gruess"}
# Words of answers to other questions; a "name" made only of them is not one ("Ja, gern",
# "Nein danke", "ok"), while "Jo Weber" is.
_ANSWER_WORDS = YES | NO | {"jo", "gern", "gerne", "danke", "bitte", "okay", "nee", "klar"}


def _not_a_name(name: str) -> bool:
    """An answer to another question, a choice's number or a greeting given where the
    name is asked."""
    words = folded_letters(name).split()
    return (
        not any(c.isalpha() for c in name)
        or name.lower() in SKIP_WORDS
        or all(w in _ANSWER_WORDS for w in words)
        or (bool(words) and words[0] in _GREETINGS)
    )


async def _register_name(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    name = members.check_name(text)
    if _not_a_name(name):
        raise UserError.of("register.name_unclear", text=echoed(name))
    data = {**dialogue.data, "name": name}
    await ctx.begin("register", "municipality", data)
    return _ask_municipality(ctx, data)


async def _register_municipality(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    query = text.strip()
    index = ctx.services.municipalities
    data = {k: v for k, v in dialogue.data.items() if k != "candidates"}
    guessed = dialogue.data.get("candidates") or []
    if not query:  # only invisible characters: the question again, not "Zu „“ …"
        return _ask_municipality(ctx, dialogue.data)
    answer = yes_or_no(query) if len(guessed) == 1 else None
    if answer is False:  # "Nein" to the one town guessed: the question again
        await ctx.begin("register", "municipality", data)
        return _ask_municipality(ctx, data)
    town = index.get(guessed[0] if answer else query)
    if town is None:
        hits = index.search(query, limit=SEARCH_RESULTS)
        if not hits:
            key = "municipality_not_found" + ("_postcode" if query.isdecimal() else "")
            raise UserError.of(f"register.{key}", query=echoed(query))
        if len(hits) > 1 or not index.named_by(query, hits[0]):
            # Asked, not taken: "ok." must not register a member in Ottendorf-Okrilla. Kept,
            # so the list can be shown again after a command in between.
            candidates = [h.ags for h in hits]
            await ctx.begin("register", "municipality", {**data, "candidates": candidates})
            return _pick_municipality(hits)
        town = hits[0]
    data = {**data, "ags": town.canonical_ags, "town": town.display_name}
    await ctx.begin("register", "role", data)
    return _ask_role(ctx, data)


async def _register_role(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    role = parse_role(text)
    if role not in SELF_SERVICE_ROLES:
        choices = [Choice(role_label(r), r) for r in SELF_SERVICE_ROLES]
        return Reply(t("register.bad_role"), choices)
    data = {**dialogue.data, "role": role}
    if ctx.sender.email is None:
        await ctx.begin("register", "email", data)
        return _ask_email(ctx, data)
    await ctx.begin("register", "consent", data)
    return _consent_question()


async def _register_email(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    email = None if text.strip().lower() in SKIP_WORDS else members.normalise_email(text)
    if email and await ctx.uow.members.by_email(email):
        raise UserError.of("register.email_known", email=email)
    await ctx.begin("register", "consent", {**dialogue.data, "email": email})
    return _consent_question()


def _consent_question(unclear: bool = False) -> Reply:
    question = t("register.consent")
    return Reply(
        t("register.consent_unclear") + "\n\n" + question if unclear else question,
        [Choice(t("register.consent_yes"), "ja"), Choice(t("register.consent_no"), "nein")],
    )


# The question each step of registration and consent asks, to ask it again.
_QUESTIONS = {
    ("register", "name"): _ask_name,
    ("register", "municipality"): _ask_municipality,
    ("register", "role"): _ask_role,
    ("register", "email"): _ask_email,
    ("register", "consent"): lambda ctx, data: _consent_question(),
    ("consent", "consent"): lambda ctx, data: _consent_question(),
}


async def _unless_consent(ctx: Ctx, text: str) -> Reply | None:
    """The answer to a refused or unclear consent question; None when the member agreed."""
    answer = yes_or_no(text)
    if answer is False:
        await ctx.end()
        return Reply(t("register.consent_refused"))
    return None if answer else _consent_question(unclear=True)


async def _register_consent(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    if (refused := await _unless_consent(ctx, text)) is not None:
        return refused
    return await finish_registration(ctx, dialogue.data)


# --- consent for invited members --------------------------------------------------


async def ask_consent(
    ctx: Ctx, pending: str | None = None, files: list[dict] | None = None
) -> Reply:
    await ctx.begin("consent", "consent", _pending(pending, files))
    question = _consent_question()
    return _noted(t("register.kept_consent"), question) if pending else question


async def _consent(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    if (refused := await _unless_consent(ctx, text)) is not None:
        return refused
    assert ctx.member is not None
    ctx.member.consent_at = ctx.now
    await ctx.end()
    if _carry_out_pending(ctx, dialogue):
        return Reply(t("register.consent_thanks_pending", name=ctx.member.name))
    return Reply(t("register.consent_thanks", name=ctx.member.name), welcome_choices())


# Declared by the members feature in core/feature_set.py.
MEMBER_STEPS: dict[tuple[str, str], DialogueStep] = {
    ("register", "name"): _register_name,
    ("register", "municipality"): _register_municipality,
    ("register", "role"): _register_role,
    ("register", "email"): _register_email,
    ("register", "consent"): _register_consent,
    ("consent", "consent"): _consent,
    (registration_form.FLOW, "form"): registration_form.form_step,
    (erasure.FLOW, erasure.STEP): erasure.answer,
}
