"""``/loeschen``: erasing a member's data always takes two steps.

The question carries a one-time token in its "yes" choice and keeps it in the member's
dialogue; only that choice, answered while the question is still open, erases. Typing
``/loeschen bestaetigen`` (or "LÖSCHEN BESTÄTIGEN" by mail) without having been asked, or
answering an older question, asks again.
"""

from __future__ import annotations

import secrets

from core.kernel.context import Ctx
from core.kernel.replies import Choice, Reply, cancel_choice
from core.kernel.texts import t
from core.members import accounts as members
from core.store.models import Dialogue

FLOW = "erase"
STEP = "confirm"
CONFIRM_WORD = "bestaetigen"


async def erase(ctx: Ctx, args: str) -> Reply:
    dialogue = await ctx.uow.dialogues.get(ctx.sender.key)
    if not _confirms(dialogue, args):
        return await _ask(ctx)
    await ctx.end()
    await members.erase(
        ctx.uow, ctx.member, ctx.now, ctx.services.tz, ctx.services.features.privacy
    )
    ctx.member = None
    return Reply(t("privacy.erased"))


async def answer(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    """Anything but the offered choices while the question is open: ask again."""
    return _question(dialogue.data["token"])


def _confirms(dialogue: Dialogue | None, args: str) -> bool:
    words = args.split()
    if len(words) != 2 or words[0].lower() != CONFIRM_WORD:
        return False
    if dialogue is None or (dialogue.flow, dialogue.step) != (FLOW, STEP):
        return False
    return secrets.compare_digest(words[1], str(dialogue.data.get("token", "")))


async def _ask(ctx: Ctx) -> Reply:
    token = secrets.token_hex(4)
    await ctx.begin(FLOW, STEP, {"token": token})
    return _question(token)


def _question(token: str) -> Reply:
    return Reply(
        t("privacy.erase_confirm"),
        [
            Choice(t("privacy.erase_yes"), f"/loeschen {CONFIRM_WORD} {token}"),
            cancel_choice(),
        ],
    )
