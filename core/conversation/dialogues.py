"""Continuing a guided dialogue: the step its flow is at, as the features declared it.

A dialogue is a flow name, a step name and collected data, stored per sender, so it
survives a restart and works the same in every channel. The steps live with their
features (``core/members/dialogues.py``, ``core/exchange/dialogues.py``,
``core/grants/dialogues.py``).
"""

from __future__ import annotations

from core.kernel.context import Ctx
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.store.models import Dialogue


async def continue_dialogue(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply | list[Reply]:
    step = ctx.services.features.steps.get((dialogue.flow, dialogue.step))
    if step is None:  # a flow from an older version: start over cleanly
        await ctx.end()
        return Reply(t("common.dialogue_lost"))
    return await step(ctx, dialogue, text)
