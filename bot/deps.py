"""What the Telegram handlers need from the rest of the process, kept in ``bot_data``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from core.conversation.assistant import Assistant
from core.kernel.context import Sender
from core.store.unit_of_work import Database

KEY = "zukunftsraum"
SOURCE = "telegram"  # the dedupe namespace of update ids


@dataclass
class Deps:
    assistant: Assistant
    # Tells the outbox dispatcher that answers were queued for it (set once it exists).
    on_queued: Callable[[], None] | None = None
    # Pause before an answer of unknown outcome (timeout) is tried once more.
    unknown_pause: timedelta = timedelta(seconds=30)

    @property
    def db(self) -> Database:
        return self.assistant.db


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.bot_data[KEY]


def sender_of(update: Update) -> Sender:
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None  # handlers are registered for chat updates only
    return Sender("telegram", str(chat.id), user.full_name if user else "")


def event_of(update: Update) -> tuple[str, str]:
    return SOURCE, str(update.update_id)
