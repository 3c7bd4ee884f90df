"""Finishing a registration, whichever way the data came: the guided steps of the chat or
the one form by mail (core/members/registration_form.py)."""

from __future__ import annotations

from core.kernel.context import Ctx
from core.kernel.kept import kept_requests
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members import accounts as members
from core.members.registration_hints import folded_letters

YES = {"ja", "j", "yes", "y", "ok", "einverstanden", "zustimmen", "ich stimme zu"}
NO = {"nein", "n", "no"}
# First words of an agreeing or a refusing answer ("Ja, gern", "Ja, ich stimme zu", the
# label of the button typed out); a refusing word anywhere makes an answer unclear.
_YES_FIRST = {"ja", "jo", "jawohl", "yes", "ok", "okay", "einverstanden", "gern", "gerne"}
_NO_FIRST = {"nein", "no", "ne", "nee"}
_REFUSING = {"nein", "nicht", "kein", "keine", "no"}


def yes_or_no(text: str) -> bool | None:
    """True for an agreeing answer, False for a refusing one, None when it is unclear: one
    reading for every yes-or-no question of registration (consent in the chat and in the
    mail form's line, a municipality that was only guessed)."""
    phrase = folded_letters(text)
    if phrase in YES:
        return True
    if phrase in NO:
        return False
    words = phrase.split()
    if not words:
        return None
    if words[0] in _NO_FIRST:
        return False
    if words[0] in _YES_FIRST and not _REFUSING & set(words[1:]):
        return True
    return None


async def finish_registration(ctx: Ctx, data: dict) -> Reply:
    """Register with the collected data (consent given); what the person asked for before is
    carried out right after this reply."""
    member = await members.add_member(
        ctx.uow,
        members.NewMember(
            name=data["name"],
            role=data["role"],
            municipality_ags=data["ags"],
            email=data.get("email") or ctx.sender.email,
            telegram_chat_id=ctx.sender.telegram_chat_id,
            consent=True,
        ),
        ctx.now,
    )
    ctx.member = member
    await ctx.end()
    ctx.then = kept_requests(data)
    if ctx.then:
        return Reply(t("register.done_pending", name=member.name, town=data["town"]))
    return Reply(t("register.done", name=member.name, town=data["town"]), welcome_choices())


def welcome_choices() -> list[Choice]:
    return [
        Choice(t("welcome.choice_offer"), "/biete"),
        Choice(t("welcome.choice_request"), "/suche"),
        Choice(t("welcome.choice_help"), "/hilfe"),
    ]
