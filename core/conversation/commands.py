"""The command table and its handlers: the grammar every channel speaks.

Handlers translate between a member's words and the use cases in
``core.members.accounts`` and ``core.exchange.posts``; they return channel-neutral replies.
"""

from __future__ import annotations

from core.conversation import dialogues
from core.exchange import interests
from core.exchange import posts as exchange
from core.kernel import paging
from core.kernel.arguments import number
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.grammar import Command
from core.kernel.replies import Attachment, Choice, Reply
from core.kernel.texts import t
from core.knowledge import related as knowledge_related
from core.members import accounts as members
from core.members import erasure
from core.members.roles import role_label
from core.municipalities.reference import label
from core.store.models import Member

# --- start, help, cancel ----------------------------------------------------------


async def start(ctx: Ctx, args: str) -> Reply:
    if args:
        return await _link_with_code(ctx, args)
    if ctx.member is None:
        return await dialogues.start_registration(ctx)
    return await greeting(ctx)


async def greeting(ctx: Ctx) -> Reply:
    """Welcome a known member and point at proposals that wait for an answer."""
    member = ctx.known_member
    pending = len(await exchange.awaiting_answer(ctx.uow, member))
    key = "welcome.back_pending" if pending else "welcome.back"
    choices = dialogues.welcome_choices()
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


# --- posts ------------------------------------------------------------------------


async def publish(ctx: Ctx, new: exchange.NewPost) -> list[Reply]:
    """Create a post and match it; the author sees Vorschläge and Vielleicht passend at once."""
    author = ctx.known_member
    post = await exchange.create_post(ctx.uow, ctx.services.index, author, new, ctx.now)
    matches = await exchange.propose(ctx.uow, ctx.services.index, post, ctx.now)
    kind = t(f"posts.kind.{post.kind}")
    confirmation = t("posts.created", kind=kind, title=post.title, id=post.id)
    replies = match_replies(confirmation, post.id, post.kind, matches, author)
    return await _with_knowledge(ctx, replies, matches, post)


async def _with_knowledge(ctx: Ctx, replies: list[Reply], matches, post) -> list[Reply]:
    """Beside new Vorschläge or Vielleicht passend: up to two fitting knowledge entries."""
    if matches:
        library = ctx.services.knowledge
        line = await knowledge_related.beside_matches(ctx.uow, library, post.title, post.body)
        if line:
            replies[0].text += "\n\n" + line
    return replies


def match_replies(confirmation: str, post_id: int, kind: str, matches, member: Member):
    """The author's answer after matching: Vorschläge first, then Vielleicht passend; without
    a Vorschlag, the offer to keep watching (the post's title as a saved interest)."""
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
        intro = t("posts.suggestions_found", count=len(suggested))
        if proposed:
            replies.append(Reply(intro))
        else:  # only "Vielleicht passend": the member may still want to keep watching
            text = confirmation + "\n" + intro + "\n" + t("posts.watch_hint")
            replies.append(Reply(text, [_keep_watching(post_id)]))
        replies += [exchange.suggestion_reply(m, member) for m in suggested]
    return replies


def _keep_watching(post_id: int) -> Choice:
    return Choice(t("posts.keep_watching"), f"/beobachten {post_id}")


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
        return [Reply(t("posts.none"), dialogues.welcome_choices()[:2])]
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


async def republish(ctx: Ctx, post_id: int, text: str) -> list[Reply]:
    """Save the new text and match again; pairs proposed before are not repeated."""
    post = await exchange.edit_post(
        ctx.uow, ctx.services.index, ctx.known_member, post_id, text, ctx.now
    )
    matches = await exchange.propose(ctx.uow, ctx.services.index, post, ctx.now)
    confirmation = t("posts.edited", title=post.title, id=post.id)
    if not matches:
        return [Reply(confirmation)]
    replies = match_replies(confirmation, post.id, post.kind, matches, ctx.known_member)
    return await _with_knowledge(ctx, replies, matches, post)


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
        replies.append(Reply(_intro("match.suggestions_intro", total["maybe"], shown.number)))
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
    return await exchange.answer(ctx.uow, ctx.known_member, number(args), True, ctx.now)


async def decline(ctx: Ctx, args: str) -> Reply:
    return await exchange.answer(ctx.uow, ctx.known_member, number(args), False, ctx.now)


async def ask_contact(ctx: Ctx, args: str) -> Reply:
    return await exchange.request_contact(ctx.uow, ctx.known_member, number(args), ctx.now)


# --- settings, linking, privacy ---------------------------------------------------

DIGEST_WORDS = {"keine": "none", "taeglich": "daily", "woechentlich": "weekly"}
CHANNEL_WORDS = {"automatisch": "auto", "telegram": "telegram", "email": "email", "e-mail": "email"}


async def settings(ctx: Ctx, args: str) -> Reply:
    member = ctx.known_member
    words = [w.lower().replace("ä", "ae").replace("ö", "oe") for w in args.split()]
    if len(words) >= 2 and words[0] in ("zusammenfassung", "digest"):
        members.set_digest(member, DIGEST_WORDS.get(words[1], words[1]))
    elif len(words) >= 2 and words[0] in ("kanal", "channel"):
        members.set_channel(member, CHANNEL_WORDS.get(words[1], words[1]))
    elif words:
        raise UserError.of("settings.unknown")
    text = t(
        "settings.current",
        digest=t(f"settings.digest.{member.digest}"),
        channel=t(f"settings.channel.{member.preferred_channel}"),
    )
    choices = [
        Choice(t(f"settings.set_digest.{key}"), f"/einstellungen zusammenfassung {word}")
        for word, key in DIGEST_WORDS.items()
        if key != member.digest
    ]
    if member.telegram_chat_id and member.email:
        choices += [
            Choice(t(f"settings.set_channel.{key}"), f"/einstellungen kanal {key}")
            for key in ("auto", "telegram", "email")
            if key != member.preferred_channel
        ]
    return Reply(text, choices)


async def unsubscribe(ctx: Ctx, args: str) -> Reply:
    members.set_digest(ctx.known_member, "none")
    return Reply(t("settings.unsubscribed"))


async def link(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        return await _link_with_code(ctx, args)
    if ctx.member is None:
        return Reply(t("link.need_code"))
    code = await members.issue_code(ctx.uow, ctx.member, "link", ctx.now)
    deep = members.deep_link(ctx.services.bot_username, code)
    return Reply(t("link.code", code=code, link=deep))


async def _link_with_code(ctx: Ctx, code: str) -> Reply:
    member = await members.redeem_code(ctx.uow, code.split()[0], ctx.now)
    if ctx.member is not None and ctx.member.id != member.id:
        raise UserError.of("link.already_other")
    if ctx.sender.channel == "telegram":
        await members.link_telegram(ctx.uow, member, int(ctx.sender.address))
    else:
        await members.link_email(ctx.uow, member, ctx.sender.address)
    ctx.member = member
    await ctx.end()
    if member.consent_at is None:
        reply = await dialogues.ask_consent(ctx)
        reply.text = t("link.done_welcome", name=member.name) + "\n\n" + reply.text
        return reply
    return Reply(t("link.done", name=member.name), dialogues.welcome_choices())


async def export(ctx: Ctx, args: str) -> Reply:
    data = await members.export_data(ctx.uow, ctx.known_member, ctx.services.features.privacy)
    day = ctx.now.astimezone(ctx.services.tz).date().isoformat()
    attachment = Attachment(f"zukunftsraum-daten-{day}.json", "application/json", data)
    return Reply(t("privacy.export"), attachments=[attachment])


# --- staff -----------------------------------------------------------------------


async def unverified(ctx: Ctx, args: str) -> list[Reply]:
    pending = [
        m for m in await ctx.uow.members.list(unverified_only=True) if m.id != ctx.known_member.id
    ]
    if not pending:
        return [Reply(t("staff.none_unverified"))]
    replies = [Reply(t("staff.unverified_intro", count=len(pending)))]
    for member in pending[:20]:
        line = t(
            "staff.member_line",
            id=member.id,
            name=member.name,
            role=role_label(member.role),
            town=label(member.municipality),
        )
        replies.append(Reply(line, [Choice(t("staff.verify"), f"/verifizieren {member.id}")]))
    return replies


async def verify(ctx: Ctx, args: str) -> Reply:
    if number(args) == ctx.known_member.id:
        raise UserError.of("staff.not_yourself")
    member = await members.verify(ctx.uow, number(args), ctx.known_member.id, ctx.now)
    return Reply(t("staff.verified", name=member.name))


def conversation_commands() -> tuple[Command, ...]:
    """Starting, asking for help and leaving a dialogue: there before anyone is a member."""
    return (
        Command("start", start, args="[Code]", needs_member=False),
        Command("hilfe", help_, aliases=("help",), needs_member=False, reads_only=True),
        Command("abbrechen", cancel, aliases=("stop",), needs_member=False),
    )


def exchange_commands() -> tuple[Command, ...]:
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


def member_commands() -> tuple[Command, ...]:
    return (
        Command("einstellungen", settings),
        Command("verknuepfen", link, args="[Code]", needs_member=False),
        Command("daten", export),
        Command("loeschen", erasure.erase),
        Command("abbestellen", unsubscribe, channels=("email", "terminal")),
        Command("mitglieder", unverified, staff_only=True),
        Command("verifizieren", verify, args="NR", staff_only=True),
    )
