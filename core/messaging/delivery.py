"""Delivery of outbox messages: what channel dispatchers may do with a message.

A dispatcher claims due messages for its channel (a lease owned by its process, so a
crashed dispatcher's messages are picked up again: see ``core.runtime.processes``), delivers them
outside any transaction, and then records the outcome. On PostgreSQL several processes
can claim concurrently without taking each other's rows (SKIP LOCKED).

Outcomes: sent; failed (retried with backoff, given up after ``MAX_ATTEMPTS``); unknown (the
request left but no answer came: it may have arrived, so it is retried once after a pause and
counted in ``unconfirmed``, then left as "uncertain"); unreachable (the address is dead: the
message goes to the member's other channel, or is left "unrouted" for the staff digest).
Not a delivery outcome: a Vorschlag settled before it left (accepted, declined or closed on
another channel, or answered by its reader) is set aside at the claim as "obsolete" with the
reason in ``meta``.
"""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from core.kernel import telemetry
from core.kernel.replies import Reply
from core.messaging.outbox import channel_for, queue_answers
from core.store.models import OutboxMessage, ReplyToken
from core.store.unit_of_work import UnitOfWork

# The last resort for leases without a live owner; owned leases are taken over as soon as
# their process is known to be dead (core.runtime.processes).
LEASE = timedelta(minutes=2)
UNKNOWN_PAUSE = timedelta(seconds=30)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
# A member is waiting for an answer: its retries start sooner.
ANSWER_BACKOFF_BASE = timedelta(seconds=3)
BACKOFF_MAX = timedelta(hours=6)
TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 22  # 62**22: about 131 bits


async def claim(
    uow: UnitOfWork, channel: str, now: datetime, limit: int = 100, owner: int | None = None
) -> Sequence[OutboxMessage]:
    """Lease up to ``limit`` due messages of ``channel``; commit to make the lease visible.

    A question settled since it was queued (a Vorschlag answered or closed on another
    channel) is not leased but set aside as "obsolete" with the reason, and the claim looks
    further, so a batch of such messages never stops the queue.
    """
    claimed: list[OutboxMessage] = []
    while len(claimed) < limit:
        messages = await uow.outbox.due(channel, now, limit - len(claimed))
        obsolete = await _obsolete(uow, messages)
        for message in messages:
            if message.id in obsolete:
                message.status = "obsolete"
                message.claimed_until = message.claimed_by = None
                message.meta = {**(message.meta or {}), "obsolete": obsolete[message.id]}
                telemetry.count("outbox_outcomes", channel=message.channel, outcome="obsolete")
                continue
            message.status = "sending"
            message.claimed_until = now + LEASE
            message.claimed_by = owner
            claimed.append(message)
        if not obsolete:
            break
        await uow.flush()  # the obsolete rows leave the next query's result
    return claimed


# Messages that ask a member something, by kind: they are dropped at the claim once the
# question no longer waits for that member's answer.
PROPOSAL_KIND = "match_proposal"


async def _obsolete(uow: UnitOfWork, messages: Sequence[OutboxMessage]) -> dict[int, str]:
    """The claimed messages that should not go out any more, with the reason."""
    asked = {m.id: _match_pair(m) for m in messages if m.kind == PROPOSAL_KIND}
    if not asked:
        return {}
    matches = await uow.matches.answers({pair[0] for pair in asked.values() if pair})
    reasons = {}
    for message_id, pair in asked.items():
        match_id, member_id = pair or (None, None)
        status, answers = matches.get(match_id, (None, {}))
        if status is None:
            reasons[message_id] = "match no longer exists"
        elif status != "proposed":
            reasons[message_id] = f"match {status}"
        elif member_id not in answers:
            reasons[message_id] = "member no longer on the match"
        elif answers[member_id] is not None:
            reasons[message_id] = "member answered already"
    return reasons


def _match_pair(message: OutboxMessage) -> tuple[int, int] | None:
    """(match id, member id) of a proposal message; None when it names no match or member."""
    prefix, _, number = (message.ref or "").partition(":")
    if prefix != "match" or not number.isdecimal() or message.member_id is None:
        return None
    return int(number), message.member_id


async def _get(uow: UnitOfWork, message_id: int) -> OutboxMessage:
    message = await uow.outbox.get(message_id)
    if message is None:
        raise LookupError(f"outbox message {message_id} does not exist")
    return message


async def mark_sent(
    uow: UnitOfWork, message_id: int, now: datetime, external_id: str | None = None
) -> None:
    message = await _get(uow, message_id)
    message.status = "sent"
    message.sent_at = now
    telemetry.count("outbox_outcomes", channel=message.channel, outcome="sent")
    message.claimed_until = None
    message.claimed_by = None
    message.external_id = external_id


def backoff(attempts: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    return min(base * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


async def mark_retry(uow: UnitOfWork, message_id: int, now: datetime, error: str) -> bool:
    """Record a failed attempt; returns False when the message is given up."""
    message = await _get(uow, message_id)
    message.attempts += 1
    message.last_error = error[:300]
    message.claimed_until = None
    message.claimed_by = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        telemetry.count("outbox_outcomes", channel=message.channel, outcome="failed")
        return False
    telemetry.count("outbox_outcomes", channel=message.channel, outcome="retried")
    message.status = "pending"
    base = ANSWER_BACKOFF_BASE if message.kind == "answer" else BACKOFF_BASE
    message.not_before = now + backoff(message.attempts, base)
    return True


async def give_up(uow: UnitOfWork, message_id: int, error: str) -> None:
    """The message itself cannot be delivered (not the address): set it aside as failed."""
    message = await _get(uow, message_id)
    message.status = "failed"
    message.last_error = error[:300]
    message.claimed_until = None
    telemetry.count("outbox_outcomes", channel=message.channel, outcome="failed")


async def defer(uow: UnitOfWork, message_id: int, until: datetime) -> None:
    """Try again later without counting an attempt (rate limits, retry_after)."""
    message = await _get(uow, message_id)
    message.status = "pending"
    message.claimed_until = None
    message.claimed_by = None
    message.not_before = until


async def hand_back(uow: UnitOfWork, message_ids: Sequence[int], owner: int | None) -> int:
    """Claimed messages not tried after all: due again at once, not after the lease.

    Only rows still leased by ``owner`` change (another process may have taken them over
    meanwhile); nothing was sent, so nothing counts as unconfirmed. Returns how many.
    """
    if not message_ids:
        return 0
    return await uow.outbox.unclaim(message_ids, owner)


async def mark_unknown(
    uow: UnitOfWork, message_id: int, now: datetime, error: str, pause: timedelta = UNKNOWN_PAUSE
) -> bool:
    """The send may or may not have arrived (timeout): retry once after ``pause``, no more.

    Returns False when the message is left as "uncertain" (its outcome was unknown before).
    """
    message = await _get(uow, message_id)
    message.last_error = error[:300]
    message.claimed_until = None
    message.claimed_by = None
    if message.unconfirmed >= 1:
        message.status = "uncertain"
        telemetry.count("outbox_outcomes", channel=message.channel, outcome="uncertain")
        return False
    telemetry.count("outbox_outcomes", channel=message.channel, outcome="unknown")
    message.unconfirmed += 1
    message.status = "pending"
    message.not_before = now + pause
    return True


async def mark_unreachable(uow: UnitOfWork, message_id: int, now: datetime, error: str) -> str:
    """The address is dead (bot blocked, mailbox gone): flag the member and reroute.

    This message and the member's later ones go to their other channel; without one it is
    left "unrouted" and the staff digest names it. Returns the new channel, "unrouted" or
    "failed" (no member to reroute for).
    """
    message = await _get(uow, message_id)
    message.last_error = error[:300]
    message.claimed_until = None
    message.claimed_by = None
    message.status = "failed"
    telemetry.count("outbox_outcomes", channel=message.channel, outcome="unreachable")
    member = await uow.members.get(message.member_id) if message.member_id else None
    if member is None:
        return "failed"
    if message.channel == "telegram":
        member.telegram_unreachable_at = now
    elif message.channel == "email":
        member.email_suspended_at = now
    target = channel_for(member) if member.erased_at is None else None
    if target is None:
        message.status = "unrouted"
        return "unrouted"
    previous = message.channel
    message.channel, message.address = target
    message.status = "pending"
    message.attempts = 0
    message.not_before = now
    message.meta = {**(message.meta or {}), "rerouted_from": previous}
    return message.channel


async def answer_later(
    uow: UnitOfWork,
    channel: str,
    address: str,
    replies: list[Reply],
    now: datetime,
    *,
    dead: bool = False,
    delay: timedelta = timedelta(0),
    unconfirmed: int = 0,
) -> list[OutboxMessage]:
    """The answers a member is waiting for could not be delivered now: queue them.

    ``dead``: the address refused them for good (bot blocked), so the member is flagged and
    the answers go to their other channel, if any.
    """
    member = None
    if channel == "telegram":
        member = await uow.members.by_telegram(int(address))
        if dead and member is not None and member.telegram_unreachable_at is None:
            member.telegram_unreachable_at = now
    return queue_answers(
        uow, member, channel, address, replies, now=now, delay=delay, unconfirmed=unconfirmed
    )


async def first_time(uow: UnitOfWork, source: str, key: str, now: datetime) -> bool:
    """Record an incoming event; False if it was processed before (dedupe)."""
    return await uow.processed.first_time(source, key, now)


async def reply_token(
    uow: UnitOfWork,
    member_id: int,
    ref: str | None,
    now: datetime,
    *,
    outbox_id: int | None = None,
) -> str:
    """An unguessable token for a reply address, bound to the member and the item.

    ``outbox_id`` names the message that carries the address, so an answer such as
    "2" can pick that message's second choice.
    """
    token = new_token()
    await uow.reply_tokens.add(
        ReplyToken(token=token, member_id=member_id, ref=ref, created_at=now, outbox_id=outbox_id)
    )
    return token


def new_token() -> str:
    """A random token of letters and digits (case matters), fit for the local part of an
    address. Tokens made before were lower case only; they are still found as written."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


async def resolve_reply_token(uow: UnitOfWork, token: str) -> ReplyToken | None:
    """The token exactly as written (case-sensitive), or None.

    The lookup is by the exact primary key; the final comparison is constant-time, so a
    database collation that ignores case could not make a near miss count.
    """
    key = _token_key(token)
    found = await uow.reply_tokens.get(key)
    if found is None or not hmac.compare_digest(found.token.encode(), key.encode()):
        return None
    return found


async def preload_reply_tokens(uow: UnitOfWork, tokens: Collection[str]) -> Sequence[ReplyToken]:
    """Load many tokens in one query; ``resolve_reply_token`` then finds them in the session."""
    return await uow.reply_tokens.many({_token_key(token) for token in tokens})


def _token_key(token: str) -> str:
    return token.strip()
