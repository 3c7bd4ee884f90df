"""Publishing a post and answering its author: the one path of ``/biete text``, the
posting dialogue and a post's new text (``/aendern``), below both the commands and the
dialogues of the exchange."""

from __future__ import annotations

from core.exchange import posts as exchange
from core.kernel.context import Ctx
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.store.models import Member


async def publish(ctx: Ctx, new: exchange.NewPost) -> list[Reply]:
    """Create a post and match it; the author sees Vorschläge and Vielleicht passend at once."""
    author = ctx.known_member
    post = await exchange.create_post(ctx.uow, ctx.services.index, author, new, ctx.now)
    matches = await exchange.propose(
        ctx.uow, ctx.services.index, post, ctx.now, aside=_partner_notes(ctx)
    )
    kind = t(f"posts.kind.{post.kind}")
    confirmation = t("posts.created", kind=kind, title=post.title, id=post.id)
    replies = match_replies(confirmation, post.id, post.kind, matches, author)
    return await _with_notes(ctx, replies, matches, post)


async def republish(ctx: Ctx, post_id: int, text: str) -> list[Reply]:
    """Save the new text and match again; pairs proposed before are not repeated."""
    post = await exchange.edit_post(
        ctx.uow, ctx.services.index, ctx.known_member, post_id, text, ctx.now
    )
    matches = await exchange.propose(
        ctx.uow, ctx.services.index, post, ctx.now, aside=_partner_notes(ctx)
    )
    confirmation = t("posts.edited", title=post.title, id=post.id)
    if not matches:
        return [Reply(confirmation)]
    replies = match_replies(confirmation, post.id, post.kind, matches, ctx.known_member)
    return await _with_notes(ctx, replies, matches, post)


async def _with_notes(ctx: Ctx, replies: list[Reply], matches, post) -> list[Reply]:
    """Beside new Vorschläge or Vielleicht passend: what other features declared to say
    about the post (the knowledge collection: up to two fitting entries)."""
    if matches:
        notes = await _notes(ctx, post.title, post.body)
        if notes:
            replies[0].text += "\n\n" + notes
    return replies


def _partner_notes(ctx: Ctx):
    """The same notes for the other side of a new Vorschlag, about their own post."""

    async def aside(partner) -> str | None:
        return await _notes(ctx, partner.title, partner.body)

    return aside


async def _notes(ctx: Ctx, title: str, body: str) -> str | None:
    lines = []
    for note in ctx.services.features.match_notes:
        line = await note(ctx, title, body)
        if line:
            lines.append(line)
    return "\n\n".join(lines) or None


def match_replies(confirmation: str, post_id: int, kind: str, matches, member: Member):
    """The author's answer after matching: Vorschläge first, then Vielleicht passend; without
    a Vorschlag, the offer to keep watching (the post's title as a saved interest) comes last."""
    proposed = [m for m in matches if m.status == "proposed"]
    suggested = [m for m in matches if m.status == "suggested"]
    if not matches:
        text = confirmation + "\n" + t(f"posts.no_match_{kind}") + "\n" + t("posts.watch_hint")
        return [Reply(text, [_keep_watching(post_id)])]
    replies = []
    if proposed:
        replies.append(Reply(confirmation + "\n" + t("posts.matches_found", count=len(proposed))))
        replies += [exchange.proposal_reply(m, member) for m in proposed]
    if suggested:
        intro = exchange.suggestions_heading(t("match.suggestions_intro", count=len(suggested)))
        replies.append(Reply(intro if proposed else confirmation + "\n" + intro))
        replies += [exchange.suggestion_reply(m, member, name_own=False) for m in suggested]
        if not proposed:  # only "Vielleicht passend": the member may still want to keep watching
            replies.append(Reply(t("posts.watch_hint"), [_keep_watching(post_id)]))
    return replies


def _keep_watching(post_id: int) -> Choice:
    return Choice(t("posts.keep_watching"), f"/beobachten {post_id}")
