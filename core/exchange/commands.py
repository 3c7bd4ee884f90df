"""The exchange's commands: Biete/Suche, one's own posts, proposals and their answers,
saved interests. Declared by the exchange feature in ``core/feature_set.py``; the steps of
its dialogues are in ``core/exchange/dialogues.py``."""

from __future__ import annotations

from core.exchange import dialogues, interests
from core.exchange import posts as exchange
from core.exchange.publishing import publish, republish
from core.kernel import paging
from core.kernel.arguments import number
from core.kernel.context import Ctx
from core.kernel.grammar import Command
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.members.registration import welcome_choices


async def set_interests(ctx: Ctx, args: str) -> Reply:
    return await interests.set_or_show(ctx.uow, ctx.known_member, args, ctx.now)


async def watch(ctx: Ctx, args: str) -> Reply:
    """Keep watching for a post: its title joins the member's saved interests."""
    post = await exchange.own_post(ctx.uow, ctx.known_member, number(args))
    return await interests.add(ctx.uow, ctx.known_member, post.title, ctx.now)


async def _post_command(ctx: Ctx, args: str, kind: str) -> Reply | list[Reply]:
    if not args.strip():
        return await dialogues.start_post(ctx, kind)
    title, body = exchange.split_text(exchange.check_text(args))
    return await publish(ctx, exchange.NewPost(kind=kind, title=title, body=body))


async def offer(ctx: Ctx, args: str) -> Reply | list[Reply]:
    return await _post_command(ctx, args, "offer")


async def request(ctx: Ctx, args: str) -> Reply | list[Reply]:
    return await _post_command(ctx, args, "request")


async def my_posts(ctx: Ctx, args: str) -> list[Reply]:
    posts = [p for p in await ctx.uow.posts.by_author(ctx.known_member.id) if p.status != "closed"]
    if not posts:
        return [Reply(t("posts.none"), welcome_choices()[:2])]
    shown = paging.page(posts, paging.page_number(args))
    replies = [Reply(_intro("posts.list_intro", len(posts), shown.number))]
    for post in shown.items:
        line = exchange.post_line(post, ctx.services.tz)
        replies.append(Reply(line, exchange.post_choices(post), ref=f"post:{post.id}"))
    more = shown.more("meine")
    return [*replies, more] if more else replies


def _intro(key: str, count: int, page_number: int) -> str:
    """A list's heading; from the second page on it says which page this is."""
    text = t(key, count=count)
    if page_number == 1:
        return text
    return f"{text.rstrip(':')}, {t('paging.page_of', number=page_number)}:"


async def edit(ctx: Ctx, args: str) -> Reply | list[Reply]:
    post_id = number(args)
    text = args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else ""
    if not text.strip():
        await exchange.own_post(ctx.uow, ctx.known_member, post_id)
        return await dialogues.start_edit(ctx, post_id)
    return await republish(ctx, post_id, text)


def _status_action(action: str):
    async def handler(ctx: Ctx, args: str) -> Reply:
        post = await exchange.change_status(
            ctx.uow, ctx.services.index, ctx.known_member, number(args), action, ctx.now
        )
        return Reply(t(f"posts.done.{action}", title=post.title))

    handler.__name__ = f"post_{action}"
    return handler


# --- matches ----------------------------------------------------------------------


async def my_matches(ctx: Ctx, args: str) -> list[Reply]:
    member = ctx.known_member
    statuses = ("proposed", "suggested", "accepted")
    matches = await ctx.uow.matches.for_member(member.id, statuses)
    open_ = exchange.unanswered(matches, member)
    maybe = exchange.suggestions(matches, member)
    accepted = [m for m in matches if m.status == "accepted"]
    if not open_ and not maybe and not accepted:
        return [Reply(t("match.none"))]
    # One list in pages: open proposals, then suggestions, then made contacts.
    entries = [("open", m) for m in open_] + [("maybe", m) for m in maybe]
    entries += [("accepted", m) for m in accepted]
    shown = paging.page(entries, paging.page_number(args))
    on_page = {kind: [m for k, m in shown.items if k == kind] for kind in ("open", "maybe")}
    open_, maybe = on_page["open"], on_page["maybe"]
    total = {kind: sum(1 for k, _ in entries if k == kind) for kind in ("open", "maybe")}
    replies: list[Reply] = []
    if open_:
        replies.append(Reply(_intro("match.open_intro", total["open"], shown.number)))
        replies += [exchange.proposal_reply(m, member) for m in open_]
    if maybe:
        heading = _intro("match.suggestions_intro", total["maybe"], shown.number)
        replies.append(Reply(exchange.suggestions_heading(heading)))
        replies += [exchange.suggestion_reply(m, member) for m in maybe]
    accepted = [m for k, m in shown.items if k == "accepted"]
    more = shown.more("treffer")
    if accepted:
        lines = []
        for m in accepted:
            other = m.request.author if m.offer.author_id == member.id else m.offer.author
            lines.append(
                t(
                    "match.accepted_line",
                    offer=m.offer.title,
                    request=m.request.title,
                    contact=exchange.contact_lines(other),
                )
            )
        replies.append(Reply(t("match.accepted_intro") + "\n\n" + "\n\n".join(lines)))
    return [*replies, more] if more else replies


async def accept(ctx: Ctx, args: str) -> Reply:
    match_id = number(args, unknown="match.unknown")
    return await exchange.answer(ctx.uow, ctx.known_member, match_id, True, ctx.now)


async def decline(ctx: Ctx, args: str) -> Reply:
    match_id = number(args, unknown="match.unknown")
    return await exchange.answer(ctx.uow, ctx.known_member, match_id, False, ctx.now)


async def ask_contact(ctx: Ctx, args: str) -> Reply:
    match_id = number(args, unknown="match.unknown")
    return await exchange.request_contact(ctx.uow, ctx.known_member, match_id, ctx.now)


def commands() -> tuple[Command, ...]:
    status = [
        Command(cmd, _status_action(action), args="NR", listed=False)
        for action, cmd in exchange.ACTION_COMMANDS.items()
    ]
    return (
        Command("biete", offer, aliases=("angebot",), args="[Text]"),
        Command("suche", request, aliases=("gesuch",), args="[Text]"),
        Command("meine", my_posts, args="[Seite]"),
        Command("aendern", edit, aliases=("bearbeiten",), args="NR [Text]"),
        Command("treffer", my_matches, args="[Seite]"),
        Command("interessen", set_interests, args="[Stichworte]"),
        Command("annehmen", accept, aliases=("ja",), args="NR", listed=False),
        Command("ablehnen", decline, aliases=("nein",), args="NR", listed=False),
        Command("anfragen", ask_contact, args="NR", listed=False),
        Command("beobachten", watch, args="NR", listed=False),
        *status,
    )
