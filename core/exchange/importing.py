"""Bulk import of members and posts from CSV or JSON lines (formats in README.md).

A file is checked completely before anything is written; one bad line means
nothing is imported and the operator learns the line number and the reason.
Rows that already exist (same email, same external id) are skipped, so an
import can be repeated safely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.exchange import posts as exchange
from core.exchange.match_index import MatchIndex
from core.kernel.errors import ImportFileError, UserError
from core.kernel.import_files import read_rows
from core.kernel.texts import t
from core.members import accounts as members
from core.store.models import Member, Post
from core.store.unit_of_work import Database

Progress = Callable[[int], None]


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
    rows = list(read_rows(path))
    result = ImportResult()
    async with db.uow() as uow:
        known = await uow.members.emails()
        seen: set[str] = set()
        for line, row in rows:
            email = _required(row, "email", line).lower()
            if email in known or email in seen:
                result.skipped += 1
                continue
            seen.add(email)
            chat = row.get("telegram_chat_id")
            try:
                chat_id = int(chat) if chat not in (None, "") else None
                new = members.NewMember(
                    name=_required(row, "name", line),
                    role=_required(row, "role", line),
                    municipality_ags=_required(row, "municipality", line),
                    email=email,
                    telegram_chat_id=chat_id,
                )
                await members.add_member(uow, new, now)
            except ValueError:
                raise ImportFileError(
                    t(
                        "importing.bad_field",
                        line=line,
                        field="telegram_chat_id",
                        error="Zahl erwartet",
                    )
                ) from None
            except UserError as error:
                raise ImportFileError(t("importing.line", line=line, error=error.message)) from None
            result.created += 1
            if progress:
                progress(1)
        await uow.commit()
    return result


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
    """Import posts in one transaction, then match them (requests first).

    The posts' embeddings are computed in batches (``encoding`` counts them) and stored in
    the same transaction. Matching runs after the posts are committed so every imported
    post can find every other; imported proposals are not announced unless ``notify``.
    """
    rows = list(read_rows(path))
    result = ImportResult()
    created: list[Post] = []
    async with db.uow() as uow:
        existing = await uow.posts.external_ids()
        authors: dict[str, Member] = {}
        for line, row in rows:
            external = str(row.get("id", "")).strip() or None
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
                post = await exchange.create_post(uow, index, author, new, now, index_now=False)
            except UserError as error:
                raise ImportFileError(t("importing.line", line=line, error=error.message)) from None
            created.append(post)
            result.post_ids.append(post.id)
            result.created += 1
            if progress:
                progress(1)
        await index.vectors(uow, created, progress=encoding)
        await index.terms(uow, created)
        await uow.commit()
    result.proposals = await match_posts(db, index, result.post_ids, now, notify=notify)
    return result


async def match_posts(
    db: Database, index: MatchIndex, post_ids: list[int], now: datetime, *, notify: bool
) -> int:
    count = 0
    async with db.uow() as uow:
        await index.refresh(uow)
        posts = await uow.posts.many(post_ids)
        ordered = sorted(posts.values(), key=lambda p: (p.kind != "request", p.id))
        for post in ordered:
            count += len(await exchange.propose(uow, index, post, now, notify=notify))
        await uow.commit()
    return count
