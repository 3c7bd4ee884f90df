"""Use cases of the knowledge collection: add an entry (staff or a member's suggestion),
publish, withdraw or decline it, and find entries for a member's words."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath

from core.kernel.errors import UserError, found
from core.kernel.german_format import echoed
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.knowledge.extract import extract_text
from core.knowledge.files import content_hash
from core.knowledge.library import MB, KnowledgeLibrary
from core.knowledge.search import GOOD, Hit
from core.messaging.outbox import enqueue
from core.store.models import KnowledgeEntry, Member
from core.store.unit_of_work import UnitOfWork

# Stored kind -> the words staff and members may write for it.
KINDS = {
    "leitfaden": ("leitfaden", "guide"),
    "checkliste": ("checkliste", "checklist"),
    "vorlage": ("vorlage", "muster", "template"),
    "studie": ("studie", "study", "bericht"),
    "praxisbeispiel": ("praxisbeispiel", "beispiel", "good practice", "goodpractice"),
    "aufzeichnung": ("aufzeichnung", "recording", "video", "folien"),
    "elearning": ("e-learning", "elearning", "lernmodul", "kurs"),
}
STATUSES = ("draft", "published", "withdrawn")
LINK = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass
class NewEntry:
    title: str = ""
    summary: str = ""
    kind: str = "leitfaden"
    topics: Sequence[str] = ()
    municipality_ags: str | None = None
    link: str = ""
    file_name: str = ""
    data: bytes | None = None
    issued_on: date | None = None
    status: str = "published"
    suggested_by: int | None = None
    # Filled by ``prepare``: the file's type and text, read once.
    extracted: tuple[str, str] | None = field(default=None, repr=False)


def parse_kind(word: str) -> str:
    folded = " ".join(word.strip().lower().replace("_", " ").split())
    for kind, words in KINDS.items():
        if folded == kind or folded in words:
            return kind
    labels = ", ".join(kind_label(k) for k in KINDS)
    raise UserError.of("knowledge.kind_unknown", kind=word.strip() or "–", kinds=labels)


def kind_label(kind: str) -> str:
    return t(f"knowledge.kind.{kind}")


def parse_date(text: str) -> date | None:
    """ISO (2026-03-01), German (01.03.2026) or a year alone (2026 -> 1 January)."""
    text = text.strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 1, 1)
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
            day, month, year = (int(p) for p in text.split("."))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise UserError.of("knowledge.date_invalid", value=text) from None


def split_topics(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,|]", text) if part.strip()]


async def prepare(uow: UnitOfWork, library: KnowledgeLibrary, new: NewEntry) -> NewEntry:
    """Check an entry before anything is written: limits, format, duplicate, fields.
    Raises ``UserError`` (German, one line) for whatever is wrong."""
    if new.data is not None:
        if len(new.data) > library.max_bytes:
            raise UserError.of(
                "knowledge.file_too_large_limit",
                size=megabytes(len(new.data)),
                limit=megabytes(library.max_bytes),
            )
        if not new.data:
            raise UserError.of("knowledge.file_empty")
        twin = await uow.knowledge.by_hash(content_hash(new.data))
        if twin is not None:
            raise UserError.of("knowledge.file_duplicate", id=twin.id, title=twin.title)
        new.extracted = extract_text(new.file_name, new.data)
    if not new.title.strip() and new.file_name:
        new.title = PurePath(new.file_name).stem.replace("_", " ").replace("-", " ").strip()
    new.title = " ".join(new.title.split())
    if not new.title:
        raise UserError.of("knowledge.title_missing")
    if len(new.title) > 300:
        raise UserError.of("knowledge.title_too_long")
    if new.link and not LINK.fullmatch(new.link.strip()):
        raise UserError.of("knowledge.link_invalid", link=new.link.strip()[:80])
    if not new.link and new.data is None:
        raise UserError.of("knowledge.link_or_file")
    if new.kind not in KINDS:
        new.kind = parse_kind(new.kind)
    if new.municipality_ags and await uow.municipalities.get(new.municipality_ags) is None:
        raise UserError.of("knowledge.municipality_unknown", ags=echoed(new.municipality_ags))
    return new


async def add_entry(
    uow: UnitOfWork,
    library: KnowledgeLibrary,
    new: NewEntry,
    now: datetime,
    *,
    commit: bool = True,
) -> KnowledgeEntry:
    """Check, store the file and commit the entry: both or neither.

    The file is written first (under its hash, atomically); if the row does not commit,
    the file written by this call is removed again. Commits the unit of work; with
    ``commit=False`` (a member's command, whose transaction the caller commits) the row is
    only flushed, and a file left by a later rollback is one nobody refers to, taken again
    by whoever sends the same bytes.
    """
    new = await prepare(uow, library, new)
    vector, model = await asyncio.to_thread(
        library.index.vector, new.title, new.summary, new.topics
    )
    entry = KnowledgeEntry(
        title=new.title,
        summary=new.summary.strip(),
        kind=new.kind,
        topics=list(new.topics),
        municipality_ags=new.municipality_ags or None,
        link=new.link.strip(),
        issued_on=new.issued_on,
        status=new.status,
        suggested_by=new.suggested_by,
        vector=vector,
        vector_model=model,
        created_at=now,
        updated_at=now,
    )
    if new.data is None:
        uow.knowledge.add(entry)
        await (uow.commit() if commit else uow.flush())
        return entry
    file_type, text = new.extracted or extract_text(new.file_name, new.data)
    with library.files.kept(new.data) as sha256:
        entry.file_sha256 = sha256
        entry.file_name = PurePath(new.file_name).name[:255]
        entry.file_type = file_type
        entry.file_size = len(new.data)
        entry.text = text
        uow.knowledge.add(entry)
        await (uow.commit() if commit else uow.flush())
    return entry


async def get(uow: UnitOfWork, entry_id: int) -> KnowledgeEntry:
    return found(await uow.knowledge.get(entry_id), "knowledge.not_found", id=entry_id)


async def change_status(
    uow: UnitOfWork, entry_id: int, action: str, now: datetime
) -> KnowledgeEntry:
    """publish (draft or withdrawn -> published), withdraw (published -> withdrawn) or
    decline (a draft -> withdrawn). The member who suggested it hears the outcome."""
    entry = await get(uow, entry_id)
    allowed = {
        "publish": ("draft", "withdrawn"),
        "withdraw": ("published",),
        "decline": ("draft",),
    }[action]
    if entry.status not in allowed:
        raise UserError.of(
            f"knowledge.cannot_{action}", id=entry.id, status=t(f"knowledge.status.{entry.status}")
        )
    was_suggestion = entry.status == "draft" and entry.suggested_by is not None
    entry.status = "published" if action == "publish" else "withdrawn"
    entry.updated_at = now
    if was_suggestion:
        member = await uow.members.get(entry.suggested_by)
        if member is not None and member.erased_at is None:
            key = (
                "knowledge.suggestion_published"
                if action == "publish"
                else "knowledge.suggestion_declined"
            )
            enqueue(
                uow,
                member,
                Reply(t(key, title=entry.title, id=entry.id)),
                kind="knowledge",
                subject=t("knowledge.suggestion_subject"),
                now=now,
                dedupe_key=f"knowledge:{entry.id}:{action}",
            )
    return entry


async def find(
    uow: UnitOfWork, library: KnowledgeLibrary, text: str, now: datetime, k: int = 5
) -> list[tuple[KnowledgeEntry, Hit]]:
    """The best published entries for a member's words; the search is recorded (without
    the member) so the staff see what was looked for in vain."""
    hits = await library.index.search(uow, text, k)
    entries = await uow.knowledge.many(h.entry_id for h in hits)
    found = [(entries[h.entry_id], h) for h in hits if h.entry_id in entries]
    found = [(e, h) for e, h in found if e.status == "published"]
    best = found[0][1].score if found else 0.0
    uow.knowledge.record_search(text, best, best >= GOOD, now)
    return found


async def suggestions_of(uow: UnitOfWork, member: Member) -> list[dict]:
    """A member's suggestions for ``/daten``."""
    return [
        {
            "id": e.id,
            "title": e.title,
            "summary": e.summary,
            "kind": e.kind,
            "link": e.link,
            "file": e.file_name,
            "status": e.status,
            "created_at": e.created_at.isoformat(),
        }
        for e in await uow.knowledge.suggested_by(member.id)
    ]


async def forget_suggester(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """On erasure: published entries stay, without the name; a suggestion not yet
    published is withdrawn (its file stays referenced, so nothing is left dangling)."""
    for entry in await uow.knowledge.suggested_by(member.id):
        entry.suggested_by = None
        if entry.status == "draft":
            entry.status = "withdrawn"
            entry.updated_at = now


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}".replace(".", ",")
