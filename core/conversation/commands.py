"""The conversation's own commands: starting, help and leaving a dialogue, there before
anyone is a member. The other features' commands are in their packages (for example
``core/members/commands.py``, ``core/exchange/commands.py``), joined in ``core/feature_set.py``.
"""

from __future__ import annotations

from core.exchange import posts as exchange
from core.kernel.context import Ctx
from core.kernel.grammar import Command
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members.commands import link_with_code
from core.members.dialogues import ask_consent, start_registration
from core.members.registration import welcome_choices


async def start(ctx: Ctx, args: str) -> Reply:
    if args:
        return await link_with_code(ctx, args)
    if ctx.member is None:
        return await start_registration(ctx)
    if ctx.member.consent_at is None:  # invited: nothing happens before the consent
        return await ask_consent(ctx)
    return await greeting(ctx)


async def greeting(ctx: Ctx) -> Reply:
    """Welcome a known member and point at proposals that wait for an answer."""
    member = ctx.known_member
    pending = len(await exchange.awaiting_answer(ctx.uow, member))
    key = "welcome.back_pending" if pending else "welcome.back"
    choices = welcome_choices()
    if pending:
        choices.insert(0, Choice(t("welcome.choice_matches"), "/treffer"))
    return Reply(t(key, name=member.name, pending=pending), choices)


async def help_(ctx: Ctx, args: str) -> Reply:
    staff = bool(ctx.member and ctx.member.is_staff)
    style = "word" if ctx.sender.channel == "email" else "slash"
    return Reply(
        t("help.intro")
        + "\n\n"
        + ctx.services.features.grammar.help_text(
            staff=staff, style=style, channel=ctx.sender.channel
        )
    )


async def cancel(ctx: Ctx, args: str) -> Reply:
    await ctx.end()
    return Reply(t("common.cancelled"))


def commands() -> tuple[Command, ...]:
    """Starting, asking for help and leaving a dialogue: there before anyone is a member."""
    return (
        Command("start", start, args="[Code]", needs_member=False),
        Command("hilfe", help_, aliases=("help",), needs_member=False, reads_only=True),
        Command("abbrechen", cancel, aliases=("stop",), needs_member=False),
    )
