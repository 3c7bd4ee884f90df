"""The exchange's guided dialogues: a post asked for step by step (title, description)
and a post's new text, one function per step."""

from __future__ import annotations

from core.exchange import posts as exchange
from core.exchange.publishing import publish, republish
from core.kernel.context import Ctx
from core.kernel.features import DialogueStep
from core.kernel.replies import Choice, Reply, cancel_choice
from core.kernel.reply_words import SKIP_WORDS
from core.kernel.texts import t
from core.store.models import Dialogue


async def start_post(ctx: Ctx, kind: str) -> Reply:
    await ctx.begin("post", "title", {"kind": kind})
    return Reply(t(f"posts.ask_title_{kind}"), [cancel_choice()])


async def _post_title(ctx: Ctx, dialogue: Dialogue, text: str) -> Reply:
    # A long or multi-line answer already holds the description; keep it as the body.
    title, body = exchange.split_text(exchange.check_text(text))
    await ctx.begin("post", "body", {**dialogue.data, "title": title, "body": body})
    return Reply(t("posts.ask_body"), [Choice(t("posts.no_body"), "-"), cancel_choice()])


async def _post_body(ctx: Ctx, dialogue: Dialogue, text: str) -> list[Reply]:
    body = "" if text.strip().lower() in SKIP_WORDS else text.strip()
    data = dialogue.data
    body = "\n\n".join(part for part in (data.get("body", ""), body) if part)
    await ctx.end()
    # The same path as "/biete text".
    return await publish(ctx, exchange.NewPost(kind=data["kind"], title=data["title"], body=body))


async def start_edit(ctx: Ctx, post_id: int) -> Reply:
    await ctx.begin("edit", "text", {"post": post_id})
    return Reply(t("posts.ask_edit"), [cancel_choice()])


async def _edit_text(ctx: Ctx, dialogue: Dialogue, text: str) -> list[Reply]:
    await ctx.end()
    return await republish(ctx, int(dialogue.data["post"]), text)  # as "/aendern NR text"


# Declared by the exchange feature in core/feature_set.py.
EXCHANGE_STEPS: dict[tuple[str, str], DialogueStep] = {
    ("post", "title"): _post_title,
    ("post", "body"): _post_body,
    ("edit", "text"): _edit_text,
}
