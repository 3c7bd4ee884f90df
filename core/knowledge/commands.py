"""Knowledge commands of the one grammar: members search, fetch files and suggest
entries; staff publish or decline suggestions. ``commands()`` is declared in
``core/knowledge/feature.py``."""

from __future__ import annotations

from pathlib import PurePath

from core.kernel import arguments
from core.kernel.context import Ctx
from core.kernel.errors import UserError
from core.kernel.german_format import echoed
from core.kernel.grammar import Command
from core.kernel.replies import Attachment, Choice, IncomingFile, Reply
from core.kernel.texts import t
from core.knowledge import entries
from core.knowledge.files import clean_name
from core.knowledge.library import MB
from core.knowledge.search import GOOD, Hit
from core.municipalities.reference import label
from core.store.models import KnowledgeEntry

SHOWN = 5
QUERY_MAX = 200
SUMMARY_SHOWN = 300
FILES_MAX = 5  # files taken from one message; more are named as not taken
NAMES_SHOWN = 5  # of the files not taken, named; the rest are counted


def _entry_id(args: str) -> int:
    return arguments.number(args, "knowledge.number_missing", "knowledge.not_found")


def reason(hit: Hit) -> str:
    if hit.shared:
        return t("knowledge.reason_words", words=", ".join(hit.shared))
    return t("knowledge.reason_similar")


def entry_text(number: int | None, entry: KnowledgeEntry, why: str) -> str:
    """One hit; ``number`` None where the channel numbers the items itself (email)."""
    summary = entry.summary.strip()
    if len(summary) > SUMMARY_SHOWN:
        summary = summary[: SUMMARY_SHOWN - 1].rsplit(" ", 1)[0] + " …"
    details = [summary] if summary else []
    if entry.link:
        details.append(t("knowledge.item_link", link=entry.link))
    return t(
        "knowledge.item",
        title=entry.title if number is None else f"{number}. {entry.title}",
        kind=entries.kind_label(entry.kind),
        date=t("knowledge.item_date", date=entry.issued_on.strftime("%d.%m.%Y"))
        if entry.issued_on
        else "",
        town=t("knowledge.item_town", town=label(entry.municipality)) if entry.municipality else "",
        details="\n".join(details),
        reason=why,
    )


async def search(ctx: Ctx, args: str) -> list[Reply]:
    query = " ".join(args.split())
    if not query:
        return [Reply(t("knowledge.query_empty"))]
    if len(query) > QUERY_MAX:
        raise UserError.of("knowledge.query_too_long")
    found = await entries.find(ctx.uow, ctx.services.knowledge, query, ctx.now, SHOWN)
    if not found:
        return [Reply(t("knowledge.none", query=query))]
    replies = [Reply(t("knowledge.intro", query=query))]
    email = ctx.sender.channel == "email"
    attached: set[int] = set()
    if email and found[0][1].score >= GOOD:
        # A mail round trip per choice is slow: the best hit's file comes right away.
        files = _file_attachments(ctx, found[0][0])
        replies[0].attachments += files
        attached |= {found[0][0].id} if files else set()
    for number, (entry, hit) in enumerate(found, start=1):
        choices = []
        if entry.file_sha256 and entry.id not in attached:
            choices.append(
                Choice(t("knowledge.choice_file", number=number), f"/wissen_datei {entry.id}")
            )
        # A mail numbers its items itself ("1) …"): the hit's own number would repeat it.
        text = entry_text(None if email else number, entry, reason(hit))
        replies.append(Reply(text, choices, ref=f"knowledge:{entry.id}"))
    return replies


def _file_attachments(ctx: Ctx, entry: KnowledgeEntry) -> list[Attachment]:
    """The entry's file if it fits the channel's limit (else none)."""
    library = ctx.services.knowledge
    if not entry.file_sha256 or entry.file_size > library.send_limit(ctx.sender.channel):
        return []
    data = library.files.read(entry.file_sha256)
    if data is None:
        return []
    return [Attachment(entry.file_name or f"wissen-{entry.id}", entry.file_type, data)]


async def send_file(ctx: Ctx, args: str) -> Reply:
    entry = await entries.get(ctx.uow, _entry_id(args))
    # Staff look at a suggestion's file before they publish it.
    staff = ctx.member is not None and ctx.member.is_staff
    if entry.status != "published" and not (staff and entry.status == "draft"):
        raise UserError.of("knowledge.not_published", id=entry.id)
    link = t("knowledge.file_link", link=entry.link) if entry.link else ""
    if not entry.file_sha256:
        return Reply(t("knowledge.file_none", title=entry.title, link=link))
    library = ctx.services.knowledge
    if entry.file_size > library.send_limit(ctx.sender.channel):
        size = f"{entry.file_size / MB:.1f}".replace(".", ",")
        more = link or t("knowledge.file_ask_staff")
        return Reply(t("knowledge.file_too_large", title=entry.title, size=size, link=more))
    attachments = _file_attachments(ctx, entry)
    if not attachments:
        return Reply(t("knowledge.file_missing", title=entry.title))
    return Reply(t("knowledge.file_sent", title=entry.title), attachments=attachments)


async def suggest(ctx: Ctx, args: str) -> Reply:
    """``/wissen_vorschlagen Titel | Link | kurze Beschreibung``: a draft for the staff,
    with the files sent along (a mail's attachments, a Telegram document) if any."""
    if "|" not in args and "\n" in args.strip():
        # A mail's subject names it and the body describes it: "Titel\nBeschreibung".
        first, more = args.strip().split("\n", 1)
        args = f"{first} | {' '.join(more.split())}"
    parts = [p.strip() for p in args.split("|")]
    if not args.strip() and not ctx.files:
        return Reply(t("knowledge.suggest_usage"))
    title = parts[0]
    rest = parts[1:]
    link = next((p for p in rest if entries.LINK.fullmatch(p)), "")
    if not link:
        found = entries.LINK.search(args)
        link = found.group(0) if found else ""
        title = title.replace(link, "").strip() if link else title
    summary = " ".join(p for p in rest if p and p != link)
    if ctx.files:
        return await _suggest_files(ctx, title, link, summary)
    new = entries.NewEntry(
        title=title,
        summary=summary,
        kind="praxisbeispiel",
        link=link,
        municipality_ags=ctx.known_member.municipality_ags,
        status="draft",
        suggested_by=ctx.known_member.id,
    )
    if not link:
        return Reply(t("knowledge.link_or_file") + "\n\n" + t("knowledge.suggest_usage"))
    entry = await entries.add_entry(ctx.uow, ctx.services.knowledge, new, ctx.now, commit=False)
    return Reply(t("knowledge.suggested", title=entry.title, id=entry.id))


async def _suggest_files(ctx: Ctx, title: str, link: str, summary: str) -> Reply:
    """One suggestion per file sent along (at most ``FILES_MAX``), answered in one summary;
    a file that cannot be taken is named with the reason, and the others are still
    suggested. The title given names a single file, or heads each title of several."""
    library = ctx.services.knowledge
    limit = library.receive_limit(ctx.sender.channel)
    taken, refused = screen_files(ctx)
    lines: list[str] = []
    added: list[KnowledgeEntry] = []
    for file in taken:
        name = clean_name(file.filename, file.content_type)
        if not file.complete:
            lines.append(t("knowledge.suggest_file_failed", name=name, reason=t(
                "knowledge.file_cut", limit=entries.megabytes(limit))))  # fmt: skip
            continue
        new = entries.NewEntry(
            title=_file_title(title, name, len(taken)),
            summary=summary,
            kind="praxisbeispiel",
            link=link,
            file_name=name,
            data=file.data,
            municipality_ags=ctx.known_member.municipality_ags,
            status="draft",
            suggested_by=ctx.known_member.id,
        )
        try:
            entry = await entries.add_entry(ctx.uow, library, new, ctx.now, commit=False)
        except UserError as error:
            lines.append(t("knowledge.suggest_file_failed", name=name, reason=error.message))
            continue
        added.append(entry)
    lines += refused
    if len(added) == 1:
        lines.insert(0, t("knowledge.suggested", title=added[0].title, id=added[0].id))
    elif added:
        items = ", ".join(f"„{e.title}“ (Nr. {e.id})" for e in added)
        lines.insert(0, t("knowledge.suggested_many", count=len(added), items=items))
    else:
        lines.append(t("knowledge.suggest_usage"))
    return Reply("\n\n".join(lines))


def screen_files(ctx: Ctx) -> tuple[list[IncomingFile], list[str]]:
    """The limits of one message's files, checked before anything is stored: at most
    ``FILES_MAX`` files, none larger than the channel takes. Returns the files that pass
    (a file the channel read only in part among them, reported where it is suggested)
    and a line for each file refused. A stranger's files are checked so too, before they
    are kept for after the registration."""
    limit = ctx.services.knowledge.receive_limit(ctx.sender.channel)
    taken, left = list(ctx.files[:FILES_MAX]), ctx.files[FILES_MAX:]
    passed: list[IncomingFile] = []
    lines: list[str] = []
    for file in taken:
        if file.complete and len(file.data) > limit:
            reason = t(
                "knowledge.file_too_large_limit",
                size=entries.megabytes(len(file.data)),
                limit=entries.megabytes(limit),
            )
            name = clean_name(file.filename, file.content_type)
            lines.append(t("knowledge.suggest_file_failed", name=name, reason=reason))
        else:
            passed.append(file)
    if left:
        # A few names, each shortened: the answer goes to strangers too, and hundreds of
        # long attachment names would make it tens of kilobytes.
        names = ", ".join(
            f"„{echoed(clean_name(f.filename, f.content_type))}“" for f in left[:NAMES_SHOWN]
        )
        if len(left) > NAMES_SHOWN:
            names += " " + t("knowledge.files_not_taken_more", count=len(left) - NAMES_SHOWN)
        lines.append(t("knowledge.files_not_taken", max=FILES_MAX, count=len(left), names=names))
    return passed, lines


def _file_title(title: str, name: str, files: int) -> str:
    """The subject's title for a single file; with several, "Titel (Dateiname)"; without a
    title the file name (``entries.prepare``)."""
    if files == 1 or not title:
        return title
    return f"{title} ({PurePath(name).stem})"


# --- staff -------------------------------------------------------------------------


async def pending(ctx: Ctx, args: str) -> list[Reply]:
    drafts = [e for e in await ctx.uow.knowledge.listing(("draft",)) if e.suggested_by]
    if not drafts:
        return [Reply(t("knowledge.pending_none"))]
    replies = [Reply(t("knowledge.pending_intro", count=len(drafts)))]
    authors = {e.suggested_by: await ctx.uow.members.get(e.suggested_by) for e in drafts}
    for entry in drafts:
        author = authors.get(entry.suggested_by)
        details = [d for d in (entry.summary, entry.link) if d]
        if entry.file_sha256:
            size = entries.megabytes(entry.file_size)
            details.append(t("knowledge.pending_file", name=entry.file_name, size=size))
        text = t(
            "knowledge.pending_line",
            id=entry.id,
            title=entry.title,
            kind=entries.kind_label(entry.kind),
            details="\n".join(details),
            name=author.name if author else "–",
        )
        choices = [
            Choice(t("knowledge.choice_publish"), f"/wissen_freigeben {entry.id}"),
            Choice(t("knowledge.choice_decline"), f"/wissen_ablehnen {entry.id}"),
        ]
        if entry.file_sha256:
            choices.append(Choice(t("knowledge.choice_look"), f"/wissen_datei {entry.id}"))
        replies.append(Reply(text, choices, ref=f"knowledge:{entry.id}"))
    return replies


def _status_action(action: str, done_key: str):
    async def handler(ctx: Ctx, args: str) -> Reply:
        entry = await entries.change_status(
            ctx.uow,
            _entry_id(args),
            action,
            ctx.now,
        )
        return Reply(t(done_key, id=entry.id, title=entry.title))

    handler.__name__ = f"knowledge_{action}"
    return handler


def commands() -> list[Command]:
    return [
        Command("wissen", search, args="[Stichworte]"),
        Command("wissen_datei", send_file, args="NR", listed=False),
        Command(
            "wissen_vorschlagen",
            suggest,
            args="[Titel | Link | Beschreibung]",
            takes_files=True,
            check_files=screen_files,
        ),
        Command("wissen_offen", pending, staff_only=True),
        Command(
            "wissen_freigeben",
            _status_action("publish", "knowledge.published"),
            args="NR",
            staff_only=True,
        ),
        Command(
            "wissen_ablehnen",
            _status_action("decline", "knowledge.declined"),
            args="NR",
            staff_only=True,
        ),
    ]
