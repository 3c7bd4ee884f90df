"""Small helpers for the Telegram end-to-end tests."""

from __future__ import annotations

from sqlalchemy import select

from core.kernel.clock import system_clock
from core.kernel.replies import Reply
from core.members.accounts import NewMember, add_member
from core.messaging.outbox import enqueue
from core.store.models import Member, OutboxMessage, Post
from core.store.unit_of_work import Database
from tests.support.botapi import BotMessage
from tests.support.waiting import eventually


async def add_telegram_member(
    db: Database, name: str, ags: str, chat_id: int, email: str | None = None
) -> Member:
    async with db.uow() as uow:
        member = await add_member(
            uow,
            NewMember(name, "mayor", ags, email=email, telegram_chat_id=chat_id, consent=True),
            system_clock(),
        )
        await uow.commit()
    return member


async def queue_message(db: Database, member_id: int, text: str) -> int:
    async with db.uow() as uow:
        member = await uow.members.get(member_id)
        message = enqueue(uow, member, Reply(text), kind="test", now=system_clock())
        await uow.commit()
    return message.id


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def posts(db: Database) -> list[Post]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(Post).order_by(Post.id)))


async def member(db: Database, member_id: int) -> Member:
    async with db.uow() as uow:
        return await uow.members.get(member_id)


def has_text(part: str):
    return lambda message: part in (message.text or "")


def has_button(prefix: str):
    return lambda message: any(data.startswith(prefix) for data in message.button_data())


def button(message: BotMessage, label_part: str) -> str:
    for row in message.inline_keyboard:
        for key in row:
            if label_part.lower() in key["text"].lower():
                return key["callback_data"]
    raise AssertionError(f"no button like {label_part!r} in {message.inline_keyboard}")


async def recorded_as_sent(db: Database, kind: str | None = None) -> None:
    """Wait until every outbox row (of ``kind``) is recorded as sent. The dispatcher records a
    send after the API call returns, so a message arrives a moment before its row says so."""

    async def all_sent():
        rows = [m for m in await outbox(db) if kind is None or m.kind == kind]
        return bool(rows) and all(m.status == "sent" for m in rows)

    await eventually(all_sent)
