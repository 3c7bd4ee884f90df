"""The mutable world of the fake Telegram, shared by the method handlers and the simulation."""

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from .errors import bad_request, forbidden
from .faults import Faults
from .model import ApiCall, BotMessage, CallbackAnswer, SimChat, SimUser, StoredDocument
from .ratelimit import RateLimiter, RateLimits
from .updates import UpdateQueue


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotState:
    def __init__(self, token: str, bot_username: str, limits: RateLimits | None = None) -> None:
        bot_id = int(token.split(":", 1)[0])
        self.token = token
        self.bot = SimUser(
            bot_id, "Zukunftsraum Test Bot", username=bot_username, language_code=None, is_bot=True
        )
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.blocked: set[int] = set()
        self.messages: list[BotMessage] = []  # everything the bot sent, in order
        self.user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.documents: dict[str, StoredDocument] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.calls: list[ApiCall] = []
        self.webhook: WebhookConfig | None = None
        self.updates = UpdateQueue()
        self.limiter = RateLimiter(limits or RateLimits())
        self.faults = Faults()
        self.changed = asyncio.Event()  # replaced after every change, see notify()
        self._update_ids = itertools.count(100_000_001)
        self._message_ids: dict[int, itertools.count] = {}
        self._file_ids = itertools.count(1)

    # -- bookkeeping -----------------------------------------------------------------------

    def notify(self) -> None:
        """Wake everybody waiting for a new message, edit or API call."""
        self.changed.set()
        self.changed = asyncio.Event()

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_message_id(self, chat_id: int) -> int:
        # One counter per chat, shared by the bot's and the users' messages, as on Telegram.
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def new_file_ids(self) -> tuple[str, str]:
        number = next(self._file_ids)
        return f"BQACAgIAAx{number:012d}", f"AgAD{number:08d}"

    @staticmethod
    def now() -> int:
        return int(time.time())

    # -- lookups used by the method handlers -----------------------------------------------

    def chat_for_sending(self, chat_ref: int | str) -> SimChat:
        chat = self._find_chat(chat_ref)
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_private and chat.id in self.blocked:
            raise forbidden("bot was blocked by the user")
        return chat

    def _find_chat(self, chat_ref: int | str) -> SimChat | None:
        if isinstance(chat_ref, int):
            return self.chats.get(chat_ref)
        username = chat_ref.removeprefix("@").lower()
        return next(
            (c for c in self.chats.values() if (c.username or "").lower() == username), None
        )

    def bot_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        for message in reversed(self.messages):
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        return None

    def any_message_api(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        found = self.bot_message(chat_id, message_id)
        if found is not None and not found.deleted:
            return found.api
        return self.user_messages.get((chat_id, message_id))

    def message_base(self, chat: SimChat, message_id: int) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "from": self.bot.to_api(),
            "chat": chat.to_api(),
            "date": self.now(),
        }
