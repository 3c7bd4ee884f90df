"""The Biete/Suche exchange: posts, match proposals and introductions."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.exchange.match_index import MatchIndex
from core.kernel import german_format, telemetry
from core.kernel.clock import aware
from core.kernel.errors import UserError
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.members.roles import person_role
from core.messaging.outbox import enqueue
from core.municipalities.reference import label
from core.store.models import Match, Member, Post
from core.store.unit_of_work import UnitOfWork

KINDS = ("offer", "request")
TEXT_MAX = 4000
TITLE_MAX = 120
TOPICS_MAX = 10
POST_LIFETIME = timedelta(days=90)
PROPOSALS_PER_POST = 5
# The command a member uses for each status action (German, Latin letters only).
ACTION_COMMANDS = {
    "pause": "pausieren",
    "resume": "fortsetzen",
    "close": "schliessen",
    "renew": "verlaengern",
}
STATUS_CHANGES = {  # action -> (allowed from, new status)
    "pause": (("open",), "paused"),
    "resume": (("paused",), "open"),
    "close": (("open", "paused", "expired"), "closed"),
    "renew": (("open", "paused", "expired"), "open"),
}


def other_kind(kind: str) -> str:
    return "request" if kind == "offer" else "offer"


# Where a long first line may end as a title: after a sentence, before a colon or a dash.
_TITLE_END = re.compile(r"(?<=[.!?])\s|\s*:\s|\s[–-]\s")
TITLE_MIN = 30


def split_text(text: str) -> tuple[str, str]:
    """First line as title, the whole text as body when it says more. A first line too long
    for a title ends at its first sentence, colon or dash that leaves TITLE_MIN characters
    ("Mitfahrbänke in fünf Ortsteilen: Wer kein Auto hat, …"), else at a space, with "…"."""
    text = text.strip()
    first_line = text.splitlines()[0].strip() if text else ""
    title = first_line
    if len(title) > TITLE_MAX:
        ends = [m.start() for m in _TITLE_END.finditer(title, TITLE_MIN, TITLE_MAX)]
        if ends:
            title = title[: ends[0]].rstrip()
        else:
            cut = title.rfind(" ", 0, TITLE_MAX - 1)
            title = title[: cut if cut > 40 else TITLE_MAX - 1].rstrip(" ,;:-") + "…"
    body = text if text != title else ""
    return title, body


# At least one word of three letters makes a post something to match.
_A_WORD = re.compile(r"[^\W\d_]{3,}")


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise UserError.of("posts.empty")
    if len(text) > TEXT_MAX:
        raise UserError.of(
            "posts.too_long",
            length=german_format.number(len(text)),
            max=german_format.number(TEXT_MAX),
        )
    return text


def clean_topics(topics) -> list[str]:
    cleaned: list[str] = []
    for topic in topics or ():
        topic = " ".join(str(topic).split())[:60]
        if topic and topic not in cleaned:
            cleaned.append(topic)
    return cleaned[:TOPICS_MAX]


@dataclass(frozen=True)
class NewPost:
    kind: str
    title: str
    body: str = ""
    topics: tuple[str, ...] = ()
    municipality_ags: str | None = None
    external_id: str | None = None
    created_at: datetime | None = None


async def create_post(
    uow: UnitOfWork,
    index: MatchIndex,
    author: Member,
    new: NewPost,
    now: datetime,
    *,
    index_now: bool = True,
) -> Post:
    """Store a new post; with `index_now` also its embedding and (after commit) its place in
    the index."""
    post = new_post(author, await check_post(uow, author, new), now)
    uow.add(post)
    await uow.flush()
    await uow.refresh(post, ["author", "municipality"])
    if index_now:
        await index.put_after_commit(uow, post)
    return post


def new_post(author: Member, checked: NewPost, now: datetime) -> Post:
    """The row of a post ``check_post`` has accepted (a bulk import adds many at once)."""
    created = checked.created_at or now
    return Post(
        external_id=checked.external_id,
        kind=checked.kind,
        title=checked.title,
        body=checked.body,
        topics=clean_topics(checked.topics),
        municipality_ags=checked.municipality_ags,
        author_id=author.id,
        status="open",
        created_at=created,
        updated_at=now,
        expires_at=max(created, now) + POST_LIFETIME,
    )


async def check_post(uow: UnitOfWork, author: Member, new: NewPost) -> NewPost:
    """The post as it would be stored, or ``UserError``; reads only, so a whole file can be
    checked before anything is written."""
    if new.kind not in KINDS:
        raise UserError.of("posts.bad_kind", kind=new.kind)
    title = check_text(new.title)
    if len(title) > TITLE_MAX:
        raise UserError.of("posts.title_too_long", max=TITLE_MAX)
    body = new.body.strip()
    if len(body) > TEXT_MAX:
        raise UserError.of(
            "posts.too_long",
            length=german_format.number(len(body)),
            max=german_format.number(TEXT_MAX),
        )
    if not _A_WORD.search(f"{title} {body}"):
        # "/suche x", an emoji: nothing to match on, and a stray Vielleicht for others.
        raise UserError.of(f"posts.no_words_{new.kind}")
    ags = new.municipality_ags or author.municipality_ags
    if await uow.municipalities.get(ags) is None:
        raise UserError.of("municipalities.unknown_ags", ags=german_format.echoed(ags))
    return replace(new, title=title, body=body, municipality_ags=ags)


async def post_from_text(
    uow: UnitOfWork, index: MatchIndex, author: Member, kind: str, text: str, now: datetime
) -> Post:
    title, body = split_text(check_text(text))
    return await create_post(uow, index, author, NewPost(kind=kind, title=title, body=body), now)


async def propose(
    uow: UnitOfWork,
    index: MatchIndex,
    post: Post,
    now: datetime,
    *,
    k: int = PROPOSALS_PER_POST,
    notify: bool = True,
    aside: Callable[[Post], Awaitable[str | None]] | None = None,
) -> list[Match]:
    """Rank the open posts of the other kind and record the best above the lower bar.

    A Vorschlag (status "proposed") asks both sides; a "Vielleicht passend" (status
    "suggested") is shown only to the author of ``post``, who may ask for contact.
    Pairs that exist in any state (declined, stale, ...) are never offered again.
    The author of ``post`` sees both in the reply; the other sides of Vorschläge are
    notified through the outbox when ``notify`` is set, with what ``aside`` adds for their
    post (fitting entries of the knowledge collection, given by the caller above the features).
    """
    started = time.perf_counter()
    exclude = await uow.matches.partner_ids(post.id)
    candidates = await index.candidates(uow, post, k=k + 5, exclude=exclude)
    partners = await uow.posts.many(c.post_id for c in candidates)
    created: list[Match] = []
    for candidate in candidates:
        partner = partners.get(candidate.post_id)
        # The index may lag behind the database; the database has the last word.
        if partner is None or partner.status != "open" or partner.author_id == post.author_id:
            continue
        offer, request = (post, partner) if post.kind == "offer" else (partner, post)
        # Both posts are loaded with their authors and places: the match holds them, so
        # nothing is read again for the replies and the notices below.
        match = Match(
            offer=offer,
            request=request,
            score=round(candidate.score, 4),
            reason=candidate.reason,
            status=candidate.tier,
            shown_to=post.kind if candidate.tier == "suggested" else None,
            created_at=now,
        )
        uow.add(match)
        created.append(match)
        if len(created) >= k:
            break
    post.matched_at = now
    await uow.flush()
    for match in created:
        if notify and match.status == "proposed":
            partner = match.request if post.kind == "offer" else match.offer
            note = await aside(partner) if aside is not None else None
            announce_proposal(uow, match, partner.author, now, note)
    telemetry.observe("match_seconds", time.perf_counter() - started)
    return created


def announce_proposal(
    uow: UnitOfWork, match: Match, member: Member, now: datetime, note: str | None = None
) -> None:
    """Ask one side of a Vorschlag through the outbox (once per side, whoever asks again);
    ``note`` is a paragraph added below the proposal."""
    reply = proposal_reply(match, member)
    if note:
        reply.text += "\n\n" + note
    enqueue(
        uow,
        member,
        reply,
        kind="match_proposal",
        subject=t("match.subject"),
        now=now,
        dedupe_key=f"match:{match.id}:proposal:{member.id}",
    )


def _side(match: Match, member: Member) -> str | None:
    if match.offer.author_id == member.id:
        return "offer"
    if match.request.author_id == member.id:
        return "request"
    return None


# The member's own post is named by its title, cut to this length: the member knows it,
# and a long one would push the other post, which is what they are reading for, down.
OWN_TITLE_LIMIT = 60


def excerpt(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def body_lines(post: Post, limit: int = 280) -> str:
    """The body as shown under the post's title: a line break and an excerpt, or nothing.
    A post written in one go (``/biete …``) keeps its whole text as body and the start of
    its first line as title (split_text); that start is not repeated under the title."""
    first, newline, after = post.body.partition("\n")
    rest = _after_title(post.title, first.strip())
    body = post.body if rest is None else (rest + newline + after).strip()
    return f"\n{excerpt(body, limit)}" if body.strip() else ""


def _after_title(title: str, first: str) -> str | None:
    """What follows the title on the body's first line, if split_text made the title from
    that line; else None (a title typed on its own, "Garten" over "Gartenarbeit …")."""
    if first == title:
        return ""
    if title.endswith("…") and len(first) > TITLE_MAX and first.startswith(title[:-1]):
        return "…" + first[len(title) - 1 :].lstrip(" ,;:-")  # cut within the line
    end = _TITLE_END.match(first, len(title)) if first.startswith(title) else None
    return first[end.end() :] if end else None


def place(post: Post) -> str:
    return label(post.municipality) or post.municipality_ags


def proposal_reply(match: Match, member: Member) -> Reply:
    """What one side of a proposal reads, with yes/no choices."""
    return _pair_reply(match, _side(match, member), "proposal", "accept", "/annehmen")


def suggestions_heading(heading: str) -> str:
    """A list of Vielleicht passend: its heading, then once what it means."""
    return heading + "\n" + t("match.suggestions_explained")


def suggestion_reply(match: Match, member: Member, name_own: bool = True) -> Reply:
    """A lower-confidence pair, shown only to one side, with the choice to ask the other.
    Without `name_own` it does not say which of the member's posts it is for: right after
    that post was published, the answer has just named it."""
    return _pair_reply(
        match, match.shown_to, "suggestion", "request_contact", "/anfragen", name_own
    )


def _pair_reply(
    match: Match, side: str, text_key: str, yes_key: str, yes_command: str, name_own=True
) -> Reply:
    own, other = (match.offer, match.request) if side == "offer" else (match.request, match.offer)
    own_title = excerpt(own.title, OWN_TITLE_LIMIT)
    for_own = t(f"match.{other.kind}_for_own", own=own_title) + "\n" if name_own else ""
    text = t(
        f"match.{text_key}_{other.kind}",
        own=own_title,
        for_own=for_own,
        title=other.title,
        place=place(other),
        body=body_lines(other),
        reason=match.reason,
    )
    choices = [
        Choice(t(f"match.{yes_key}"), f"{yes_command} {match.id}"),
        Choice(t("match.decline"), f"/ablehnen {match.id}"),
    ]
    return Reply(text=text, choices=choices, ref=f"match:{match.id}")


async def request_contact(uow: UnitOfWork, member: Member, match_id: int, now: datetime) -> Reply:
    """The member who sees a suggestion asks for contact: it becomes a Vorschlag with their
    yes, and the other side is asked as for any Vorschlag."""
    match, side = await _visible_match(uow, member, match_id)
    if match.status == "proposed":
        raise UserError.of("match.already_asked")
    if match.status != "suggested":
        raise UserError.of(f"match.already_{match.status}")
    setattr(match, f"{side}_answer", "yes")
    match.status = "proposed"
    other_post = match.request if side == "offer" else match.offer
    enqueue(
        uow,
        other_post.author,
        proposal_reply(match, other_post.author),
        kind="match_proposal",
        subject=t("match.subject"),
        now=now,
        dedupe_key=f"match:{match.id}:proposal:{other_post.author_id}",
    )
    return Reply(t("match.contact_requested"))


async def _visible_match(uow: UnitOfWork, member: Member, match_id: int) -> tuple[Match, str]:
    """A match the member may see and their side of it; the same answer for one that does
    not exist and one they may not see."""
    match = await uow.matches.get(match_id)
    side = _visible_side(match, member) if match else None
    if match is None or side is None:
        raise UserError.of("match.unknown", id=match_id)
    return match, side


def _visible_side(match: Match, member: Member) -> str | None:
    """The member's side of a match they may see: a suggestion only on its shown side."""
    side = _side(match, member)
    if match.status == "suggested" and side != match.shown_to:
        return None
    return side


def contact_lines(member: Member) -> str:
    lines = [f"{member.name} ({person_role(member.role)}, {label(member.municipality)})"]
    if member.email:
        lines.append(t("match.contact_email", email=member.email))
    if member.telegram_chat_id:
        lines.append(t("match.contact_telegram", link=f"tg://user?id={member.telegram_chat_id}"))
    return "\n".join(lines)


def introduction(match: Match, reader: Member, other: Member) -> Reply:
    return Reply(
        text=t(
            "match.introduction",
            offer=match.offer.title,
            request=match.request.title,
            contact=contact_lines(other),
        ),
        ref=f"match:{match.id}",
    )


async def answer(
    uow: UnitOfWork, member: Member, match_id: int, accept: bool, now: datetime
) -> Reply:
    match, side = await _visible_match(uow, member, match_id)
    if match.status == "suggested":
        if accept:
            return await request_contact(uow, member, match_id, now)
        match.status, match.decided_at = "declined", now
        setattr(match, f"{side}_answer", "no")
        return Reply(t("match.declined_ok"))
    if match.status != "proposed":
        raise UserError.of(f"match.already_{match.status}")
    if getattr(match, f"{side}_answer") is not None:
        raise UserError.of("match.already_answered")
    setattr(match, f"{side}_answer", "yes" if accept else "no")
    other_post = match.request if side == "offer" else match.offer
    other = other_post.author
    if not accept:
        match.status = "declined"
        match.decided_at = now
        if (match.request_answer if side == "offer" else match.offer_answer) == "yes":
            enqueue(
                uow,
                other,
                Reply(t("match.declined_by_other", title=other_post.title)),
                kind="match_declined",
                subject=t("match.subject"),
                now=now,
                dedupe_key=f"match:{match.id}:declined",
            )
        return Reply(t("match.declined_ok"))
    if match.offer_answer == "yes" and match.request_answer == "yes":
        match.status = "accepted"
        match.decided_at = now
        enqueue(
            uow,
            other,
            introduction(match, other, member),
            kind="match_introduction",
            subject=t("match.subject_introduction"),
            now=now,
            dedupe_key=f"match:{match.id}:introduction:{other.id}",
        )
        return introduction(match, member, other)
    return Reply(t("match.accepted_waiting"))


async def awaiting_answer(uow: UnitOfWork, member: Member) -> list[Match]:
    """Proposals on which this member has not answered yet."""
    return unanswered(await uow.matches.for_member(member.id, ("proposed",)), member)


def suggestions(matches: Iterable[Match], member: Member) -> list[Match]:
    """The lower-confidence pairs among ``matches`` shown to this member."""
    return [m for m in matches if m.status == "suggested" and _visible_side(m, member)]


def unanswered(matches: Iterable[Match], member: Member) -> list[Match]:
    """The proposals among ``matches`` that wait for this member's answer."""
    return [
        m
        for m in matches
        if m.status == "proposed" and getattr(m, f"{_side(m, member)}_answer") is None
    ]


async def own_post(uow: UnitOfWork, member: Member, post_id: int) -> Post:
    post = await uow.posts.get(post_id)
    if post is None or post.author_id != member.id or post.status == "deleted":
        raise UserError.of("posts.unknown", id=post_id)
    return post


async def edit_post(
    uow: UnitOfWork, index: MatchIndex, member: Member, post_id: int, text: str, now: datetime
) -> Post:
    """Replace a post's text; the caller re-runs matching (only new pairs are proposed)."""
    post = await own_post(uow, member, post_id)
    if post.status not in ("open", "paused"):
        raise UserError.of("posts.bad_transition", status=t(f"posts.status.{post.status}"))
    post.title, post.body = split_text(check_text(text))
    post.updated_at = now
    await index.put_after_commit(uow, post)
    return post


async def change_status(
    uow: UnitOfWork, index: MatchIndex, member: Member, post_id: int, action: str, now: datetime
) -> Post:
    post = await own_post(uow, member, post_id)
    allowed, new_status = STATUS_CHANGES[action]
    if post.status not in allowed:
        raise UserError.of("posts.bad_transition", status=t(f"posts.status.{post.status}"))
    post.status = new_status
    post.updated_at = now
    if action == "renew":
        post.expires_at = now + POST_LIFETIME
        post.renewal_asked_at = None
    if new_status != "open":
        await uow.matches.stale_for_post(post.id)
    await index.put_after_commit(uow, post)
    return post


def post_line(post: Post, tz) -> str:
    expires = german_format.day(aware(post.expires_at).astimezone(tz))
    return t(
        "posts.line",
        id=post.id,
        kind=t(f"posts.kind.{post.kind}"),
        title=post.title,
        status=t(f"posts.status.{post.status}"),
        expires=expires,
    )


def post_choices(post: Post) -> list[Choice]:
    actions = {
        "open": ("pause", "close"),
        "paused": ("resume", "close"),
        "expired": ("renew", "close"),
    }.get(post.status, ())
    choices = [Choice(t(f"posts.action.{a}"), f"/{ACTION_COMMANDS[a]} {post.id}") for a in actions]
    if post.status in ("open", "paused"):
        choices.insert(0, Choice(t("posts.action.edit"), f"/aendern {post.id}"))
    return choices
