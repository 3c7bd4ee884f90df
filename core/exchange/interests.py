"""A member's interests: keywords whose fitting new posts appear in their digest."""

from __future__ import annotations

from datetime import datetime

from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.store.models import Interest, Member
from core.store.unit_of_work import UnitOfWork

KEYWORDS_MAX = 500
CLEAR_WORDS = ("-", "keine", "loeschen", "löschen")


async def get(uow: UnitOfWork, member_id: int) -> str:
    interest = await uow.interests.get(member_id)
    return interest.keywords if interest else ""


async def set_or_show(uow: UnitOfWork, member: Member, text: str, now: datetime) -> Reply:
    text = " ".join(text.split())[:KEYWORDS_MAX]
    interest = await uow.interests.get(member.id)
    if not text:
        if interest is None:
            return Reply(t("interests.none"))
        return Reply(
            t("interests.current", keywords=interest.keywords),
            [Choice(t("interests.clear"), "/interessen -")],
        )
    if text.lower() in CLEAR_WORDS:
        if interest is not None:
            await uow.interests.remove(interest)
        return Reply(t("interests.cleared"))
    _keep(uow, member, interest, text, now)
    return Reply(t("interests.saved", keywords=text))


async def add(uow: UnitOfWork, member: Member, words: str, now: datetime) -> Reply:
    """Add words to the saved interests (keep watching for a post), without repeating any."""
    words = " ".join(words.split())
    interest = await uow.interests.get(member.id)
    current = [k.strip() for k in (interest.keywords if interest else "").split(",") if k.strip()]
    if words and words.lower() not in (k.lower() for k in current):
        current.append(words)
    _keep(uow, member, interest, ", ".join(current)[:KEYWORDS_MAX], now)
    return Reply(t("interests.watching", words=words))


def _keep(
    uow: UnitOfWork, member: Member, interest: Interest | None, keywords: str, now: datetime
) -> None:
    """Save the member's keywords in their interest row, made the first time."""
    if interest is None:
        interest = Interest(member_id=member.id)
        uow.add(interest)
    interest.keywords = keywords
    interest.updated_at = now
