"""A member blocks or unblocks the bot: later messages go to their other channel."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.deps import deps
from core.messaging import reachability


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    db = deps(context).db
    now = deps(context).assistant.services.clock()
    async with db.uow() as uow:
        if status in (ChatMember.BANNED, ChatMember.LEFT):
            await reachability.telegram_blocked(uow, change.chat.id, now)
        elif status == ChatMember.MEMBER:
            await reachability.telegram_unblocked(uow, change.chat.id)
        await uow.commit()
