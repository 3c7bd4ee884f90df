"""Bulk import of members and posts from CSV or JSON lines (formats in README.md).

A file is checked completely before anything is written; one bad line means
nothing is imported and the operator learns the line number and the reason.
Then the rows are written in small transactions (``WRITE_BATCH`` rows each,
computed outside the transaction), so a live service on the same SQLite file
waits for an import at most for one short batch, never for the whole file.
Rows that already exist (same email, same external id) are skipped, and posts
whose matching has not run yet are matched, so an import that stopped midway
is finished by running it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.exchange import posts as exchange
from core.exchange.match_index import MatchIndex
from core.kernel.errors import ImportFileError, UserError
from core.kernel.import_files import read_rows
from core.kernel.texts import t
from core.matching.semantic import post_text
from core.members import accounts as members
from core.store.models import Member
from core.store.unit_of_work import Database

Progress = Callable[[int], None]

# Rows per write transaction; a batch of posts with its embeddings commits in a few ms.
WRITE_BATCH = 50
# Posts matched between two looks at what other processes wrote.
MATCH_BATCH = 20


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0
    proposals: int = 0
    post_ids: list[int] = field(default_factory=list)


def _required(row: dict, key: str, line: int) -> str:
    value = row.get(key)
    if value is None or str(value).strip() == "":
        raise ImportFileError(t("importing.missing", line=line, field=key))
    return str(value).strip()


def _topics(value, line: int) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):  # CSV: "Mobilität; Senioren"
        return tuple(p.strip() for p in value.replace(",", ";").split(";") if p.strip())
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise ImportFileError(
        t("importing.bad_field", line=line, field="topics", error="Liste erwartet")
    )


def _timestamp(value, line: int) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ImportFileError(
            t("importing.bad_field", line=line, field="created_at", error="ISO 8601 erwartet")
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


async def import_members(
    db: Database, path: Path, now: datetime, progress: Progress | None = None
) -> ImportResult:
    checked, result = await _check_members(db, list(read_rows(path)))
    for start in range(0, len(checked), WRITE_BATCH):
        batch = checked[start : start + WRITE_BATCH]
        async with db.uow() as uow:
            for line, new in batch:
                if await uow.members.by_email(new.email):  # written meanwhile by someone else
                    result.skipped += 1
                    continue
                try:
                    await members.add_member(uow, new, now)
                except UserError as error:
                    raise ImportFileError(
                        t("importing.line", line=line, error=error.message)
                    ) from None
                result.created += 1
            await uow.commit()
        if progress:
            progress(len(batch))
    return result


async def _check_members(
    db: Database, rows: list[tuple[int, dict]]
) -> tuple[list[tuple[int, members.NewMember]], ImportResult]:
    """Every new member of the file, checked, in one reading transaction."""
    result = ImportResult()
    checked: list[tuple[int, members.NewMember]] = []
    async with db.uow() as uow:
        known = await uow.members.emails()
        chats: set[int] = set()
        for line, row in rows:
            email = _required(row, "email", line).lower()
            if email in known:
                result.skipped += 1
                continue
            known.add(email)
            new = members.NewMember(
                name=_required(row, "name", line),
                role=_required(row, "role", line),
                municipality_ags=_required(row, "municipality", line),
                email=email,
                telegram_chat_id=_chat_id(row.get("telegram_chat_id"), line),
            )
            try:
                new = await members.check_member(uow, new)
                if new.telegram_chat_id in chats:
                    raise UserError.of("members.telegram_taken")
            except UserError as error:
                raise ImportFileError(t("importing.line", line=line, error=error.message)) from None
            if new.telegram_chat_id is not None:
                chats.add(new.telegram_chat_id)
            checked.append((line, new))
    return checked, result


def _chat_id(value, line: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ImportFileError(
            t("importing.bad_field", line=line, field="telegram_chat_id", error="Zahl erwartet")
        ) from None


@dataclass
class _NewPost:
    line: int
    author_id: int
    email: str
    post: exchange.NewPost


async def import_posts(
    db: Database,
    index: MatchIndex,
    path: Path,
    now: datetime,
    *,
    notify: bool = False,
    progress: Progress | None = None,
    encoding: Progress | None = None,
) -> ImportResult:
    """Check the whole file, write the posts with their embeddings in small transactions,
    then match every post of the file not matched yet (requests first), a few per transaction.

    The embeddings are computed before each batch's transaction opens (``encoding`` counts
    them). Matching starts once all posts are written, so every imported post can find every
    other. With ``notify`` both sides of each new Vorschlag are asked through the outbox.
    """
    checked, external_ids, result = await _check_posts(db, list(read_rows(path)))
    for start in range(0, len(checked), WRITE_BATCH):
        batch = checked[start : start + WRITE_BATCH]
        vectors = await asyncio.to_thread(index.encode, [_text(item.post) for item in batch])
        if encoding:
            encoding(len(batch))
        async with db.uow() as uow:
            authors = await _authors(uow, batch)
            # Reads above, writes below: the write lock is held for one insert of the batch,
            # one of its embeddings and the commit.
            posts = [exchange.new_post(authors[item.author_id], item.post, now) for item in batch]
            for post in posts:
                uow.add(post)
            await uow.flush()
            for post, (key, vector) in zip(posts, vectors, strict=True):
                await index.keep(uow, post, key, vector)
                result.post_ids.append(post.id)
            await index.terms(uow, posts)  # the analysed text, so a start need not analyse
            await uow.commit()
        result.created += len(batch)
        if progress:
            progress(len(batch))
    result.proposals = await match_posts(
        db, index, result.post_ids, external_ids, now, notify=notify
    )
    return result


async def _authors(uow, batch: list[_NewPost]) -> dict[int, Member]:
    """The authors of a batch, each still a member (one may have been erased meanwhile)."""
    authors = {}
    for item in batch:
        author = authors.get(item.author_id) or await uow.members.get(item.author_id)
        if author is None or author.erased_at:
            raise ImportFileError(t("importing.unknown_author", line=item.line, email=item.email))
        authors[item.author_id] = author
    return authors


async def _check_posts(
    db: Database, rows: list[tuple[int, dict]]
) -> tuple[list[_NewPost], list[str], ImportResult]:
    """The file's new posts, checked in one reading transaction, and all its external ids."""
    result = ImportResult()
    checked: list[_NewPost] = []
    external_ids: list[str] = []
    async with db.uow() as uow:
        existing = await uow.posts.external_ids()
        authors: dict[str, Member] = {}
        for line, row in rows:
            external = str(row.get("id", "")).strip() or None
            if external:
                external_ids.append(external)
            if external and external in existing:
                result.skipped += 1
                continue
            if external:
                existing.add(external)
            email = _required(row, "author_email", line).lower()
            author = authors.get(email) or await uow.members.by_email(email)
            if author is None:
                raise ImportFileError(t("importing.unknown_author", line=line, email=email))
            authors[email] = author
            new = exchange.NewPost(
                kind=_required(row, "kind", line),
                title=_required(row, "title", line),
                body=str(row.get("body") or ""),
                topics=_topics(row.get("topics"), line),
                municipality_ags=str(row.get("municipality") or "").strip() or None,
                external_id=external,
                created_at=_timestamp(row.get("created_at"), line),
            )
            try:
                new = await exchange.check_post(uow, author, new)
            except UserError as error:
                raise ImportFileError(t("importing.line", line=line, error=error.message)) from None
            checked.append(_NewPost(line, author.id, email, new))
    return checked, external_ids, result


def _text(new: exchange.NewPost) -> str:
    return post_text(new.title, new.body, exchange.clean_topics(new.topics))


async def match_posts(
    db: Database,
    index: MatchIndex,
    post_ids: list[int],
    external_ids: list[str],
    now: datetime,
    *,
    notify: bool,
) -> int:
    """Match the given posts that were never matched, requests first, a few per transaction."""
    async with db.uow() as uow:
        waiting = await uow.posts.unmatched(post_ids, external_ids)
        order = [p.id for p in sorted(waiting, key=lambda p: (p.kind != "request", p.id))]
    count = 0
    for start in range(0, len(order), MATCH_BATCH):
        async with db.uow() as uow:  # what other processes wrote meanwhile
            await index.refresh(uow)
            await uow.commit()  # and what the refresh computed and stored, if anything
        # One transaction per post: ranking is CPU work done before the first write, so the
        # write lock is held only for the post's few proposals.
        for post_id in order[start : start + MATCH_BATCH]:
            async with db.uow() as uow:
                post = await uow.posts.get(post_id)
                if post is None or post.matched_at is not None:  # matched meanwhile
                    continue
                created = await exchange.propose(uow, index, post, now, notify=notify)
                count += len(created)
                if notify:  # the imported post's author has no chat reply to read them in
                    for match in created:
                        if match.status == "proposed":
                            exchange.announce_proposal(uow, match, post.author, now)
                await uow.commit()
    return count
