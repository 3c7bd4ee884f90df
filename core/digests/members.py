"""The member digest: new posts that fit a member's open posts and interests.

Fit is the matching engine's: the candidates for each of the member's open posts (and
for their interest keywords, in both directions) restricted to posts created in the
digest's window. Nothing is sent when nothing is new; the run is recorded anyway so
the next window starts where this one ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.digests.schedule import (
    LENGTH,
    DigestSchedule,
    last_runs,
    manual_period,
    member_slot,
    period_name,
    record,
)
from core.exchange.match_index import MatchIndex
from core.exchange.posts import body_lines, place
from core.kernel.clock import aware
from core.kernel.paging import PAGE_SIZE
from core.kernel.replies import Reply
from core.kernel.texts import t
from core.knowledge import related
from core.knowledge.library import KnowledgeLibrary
from core.matching import PostDoc
from core.messaging.outbox import enqueue
from core.store.models import KnowledgeEntry, Member, Post
from core.store.unit_of_work import UnitOfWork

CANDIDATES = 50  # per query; the window filter comes after ranking
SHOWN = PAGE_SIZE  # like every long list: a few, then how many more


def _interest_docs(member: Member, keywords: str) -> list[PostDoc]:
    town = member.municipality
    topics = tuple(w.strip() for w in keywords.split(",") if w.strip())
    return [
        PostDoc(
            id=-member.id,
            kind=kind,
            title=keywords,
            body="",
            topics=topics,
            municipality_ags=member.municipality_ags,
            kreis_ags=town.kreis_ags if town else None,
            land=town.land if town else None,
            lat=town.lat if town else None,
            lon=town.lon if town else None,
        )
        for kind in ("offer", "request")
    ]


# A digest lists what might interest a member; an introduction asks two people to
# commit. So the digest uses the engine's lower bar (Vielleicht passend).


@dataclass(frozen=True)
class ReaderInputs:
    """What a reader's digest is built from: their open posts and saved interests."""

    own_open: Sequence[Post] = ()
    keywords: str = ""

    @property
    def empty(self) -> bool:
        return not self.own_open and not self.keywords


async def reader_inputs(uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, ReaderInputs]:
    """The inputs of many readers in two queries instead of several per reader: a weekly
    slot of a few thousand readers must not keep the event loop busy for many seconds."""
    own = await uow.posts.open_by_authors(member_ids)
    keywords = await uow.interests.keywords_for(member_ids)
    return {
        member_id: ReaderInputs(tuple(own.get(member_id, ())), keywords.get(member_id, ""))
        for member_id in member_ids
    }


async def fitting_posts(
    uow: UnitOfWork,
    index: MatchIndex,
    member: Member,
    since: datetime,
    until: datetime,
    inputs: ReaderInputs,
) -> list[tuple[Post, str]]:
    """New open posts of others in [since, until) that fit, with why, best first."""
    found: dict[int, tuple[float, str]] = {}
    for own in inputs.own_open:
        for candidate in await index.candidates(uow, own, k=CANDIDATES, exclude=()):
            why = t("digest.fits_post", title=own.title, reason=candidate.reason)
            found.setdefault(candidate.post_id, (candidate.score, why))
    if inputs.keywords:
        for doc in _interest_docs(member, inputs.keywords):
            for candidate in index.engine.candidates(doc, k=CANDIDATES):
                why = t("digest.fits_interest", reason=candidate.reason)
                found.setdefault(candidate.post_id, (candidate.score, why))
    if not found:
        return []
    posts = await uow.posts.many(found)
    settled_posts, connected = await _settled(uow, member)
    fresh = [
        p
        for p in posts.values()
        if p.status == "open"
        and p.author_id != member.id
        and since <= aware(p.created_at) < until
        and p.id not in settled_posts
        and p.author_id not in connected
    ]
    fresh.sort(key=lambda p: (-found[p.id][0], p.id))
    return [(p, found[p.id][1]) for p in fresh]


# A pair that was answered (connected, declined) or went stale is never offered again.
SETTLED = ("accepted", "declined", "stale", "closed")


async def _settled(uow: UnitOfWork, member: Member) -> tuple[set[int], set[int]]:
    """Posts paired with one of the member's own in a settled match, and the authors the
    member is already connected with."""
    posts: set[int] = set()
    connected: set[int] = set()
    for match in await uow.matches.for_member(member.id, SETTLED):
        other = match.request if match.offer.author_id == member.id else match.offer
        posts.add(other.id)
        if match.status == "accepted":
            connected.add(other.author_id)
    return posts, connected


async def _knowledge_items(
    uow: UnitOfWork,
    library: KnowledgeLibrary | None,
    inputs: ReaderInputs,
    since: datetime,
    until: datetime,
) -> list[tuple[KnowledgeEntry, str]]:
    """New knowledge entries that fit the member's open posts and interests."""
    if library is None or inputs.empty:
        return []
    queries = [
        (f"{p.title}\n{p.body}", t("knowledge.digest_fits_post", title=p.title))
        for p in inputs.own_open
    ]
    if inputs.keywords:
        queries.append(
            (inputs.keywords, t("knowledge.digest_fits_interest", keywords=inputs.keywords))
        )
    return await related.for_digest(uow, library, queries, since, until)


def knowledge_block(items: Sequence[tuple[KnowledgeEntry, str]]) -> str:
    lines = [
        t("knowledge.digest_item", entry=related.entry_mention(entry), why=why)
        for entry, why in items[:SHOWN]
    ]
    return t("knowledge.digest_intro") + "\n" + "\n".join(lines)


def digest_reply(
    items: Sequence[tuple[Post, str]], knowledge: Sequence[tuple[KnowledgeEntry, str]] = ()
) -> Reply:
    if not items:
        return Reply(knowledge_block(knowledge) + "\n\n" + t("digest.member_footer"))
    blocks = [
        t(
            "digest.member_item",
            kind=t(f"posts.kind.{post.kind}"),
            title=post.title,
            place=place(post),
            body=body_lines(post, 160),
            why=why,
        )
        for post, why in items[:SHOWN]
    ]
    more = t("digest.member_more", count=len(items) - SHOWN) if len(items) > SHOWN else ""
    text = t("digest.member_intro", count=len(items)) + "\n\n" + "\n\n".join(blocks) + more
    if knowledge:
        text += "\n\n" + knowledge_block(knowledge)
    return Reply(text + "\n\n" + t("digest.member_footer"))


async def _readers(uow: UnitOfWork) -> Sequence[Member]:
    return await uow.members.digest_readers(("daily", "weekly"))


async def sweep_member_digests(
    uow: UnitOfWork,
    index: MatchIndex,
    now: datetime,
    schedule: DigestSchedule,
    *,
    manual: bool = False,
    knowledge: KnowledgeLibrary | None = None,
) -> tuple[int, int]:
    """Build the due member digests; returns (runs recorded, digests queued).

    ``manual``: build for every reader now (``digest send --members --now``).
    """
    await index.refresh(uow)
    previous = await last_runs(uow, "member")
    runs = queued = 0
    # Each due reader with the slot it is due for, chosen before anything else is read.
    due = []
    for member in await _readers(uow):
        slot = member_slot(member.digest, now, schedule)
        last = previous.get(member.id)
        if manual or last is None or aware(last.covered_until) < slot:
            due.append((member, slot))
    inputs = await reader_inputs(uow, [member.id for member, _ in due])
    for member, slot in due:
        last = previous.get(member.id)
        if last is not None:
            since = aware(last.covered_until)
        else:
            since = max(aware(member.created_at), now - LENGTH[member.digest])
        period = manual_period(now) if manual else period_name(slot, schedule.tz)
        items = await fitting_posts(uow, index, member, since, now, inputs[member.id])
        entries = await _knowledge_items(uow, knowledge, inputs[member.id], since, now)
        record(uow, member.id, "member", period, since, now, len(items) + len(entries))
        runs += 1
        if items or entries:
            message = enqueue(
                uow,
                member,
                digest_reply(items, entries),
                kind="member_digest",
                subject=t("digest.member_subject", count=len(items) + len(entries)),
                now=now,
                dedupe_key=f"digest:member:{member.id}:{period}",
            )
            queued += message is not None
    return runs, queued
