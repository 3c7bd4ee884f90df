"""The members' commands: settings, linking a second channel, the data export and
erasure; for staff the members waiting for verification. Declared by the members feature
in ``core/feature_set.py``."""

from __future__ import annotations

from core.kernel.arguments import number
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.grammar import Command
from core.kernel.replies import Attachment, Choice, Reply
from core.kernel.texts import t
from core.members import accounts as members
from core.members import erasure
from core.members.dialogues import ask_consent
from core.members.registration import welcome_choices
from core.members.roles import role_label
from core.municipalities.reference import label

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
        return await link_with_code(ctx, args)
    if ctx.member is None:
        return Reply(t("link.need_code"))
    code = await members.issue_code(ctx.uow, ctx.member, "link", ctx.now)
    deep = members.deep_link(ctx.services.bot_username, code)
    return Reply(t("link.code", code=code, link=deep))


async def link_with_code(ctx: Ctx, code: str) -> Reply:
    """Join this channel to the member the one-time code was issued to (also ``/start``)."""
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
        reply = await ask_consent(ctx)
        reply.text = t("link.done_welcome", name=member.name) + "\n\n" + reply.text
        return reply
    return Reply(t("link.done", name=member.name), welcome_choices())


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


def commands() -> tuple[Command, ...]:
    return (
        Command("einstellungen", settings),
        Command("verknuepfen", link, args="[Code]", needs_member=False),
        Command("daten", export),
        Command("loeschen", erasure.erase),
        Command("abbestellen", unsubscribe, channels=("email", "terminal")),
        Command("mitglieder", unverified, staff_only=True),
        Command("verifizieren", verify, args="NR", staff_only=True),
    )
