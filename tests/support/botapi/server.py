"""FakeTelegram: a local Bot API server plus the in-process controls tests drive it with."""

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
from collections.abc import Callable
from typing import Any

from .faults import Faults
from .httpd import BotApiHttpServer
from .model import ApiCall, BotMessage, CallbackAnswer, SimChat, SimUser, StoredDocument
from .ratelimit import RateLimiter, RateLimits
from .simulate import (
    callback_query,
    document_message,
    ensure_private_chat,
    ensure_user,
    member_status_change,
    push,
    sender_for,
    text_message,
)
from .state import BotState, WebhookConfig
from .webhook import Delivery, WebhookDeliverer

DEFAULT_TOKEN = "123456789:AAHfakeTelegramTokenForLocalTests_000"
_UNSET: Any = object()


class FakeTelegram:
    """Use as ``async with FakeTelegram() as tg:``; the server stops on leaving the block."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "zukunftsraum_test_bot",
        rate_limits: RateLimits | None = None,
        webhook_attempts: int = 3,
    ) -> None:
        self.state = BotState(token, bot_username, rate_limits)
        self._http = BotApiHttpServer(self.state)
        self._webhook = WebhookDeliverer(self.state, attempts=webhook_attempts)
        self._returned: set[tuple[int, int]] = set()  # messages handed out by wait_for_message
        self._ids = itertools.count(1001)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> "FakeTelegram":
        await self._http.start()
        self._webhook.start()
        return self

    async def stop(self) -> None:
        self.state.updates.release_poll()
        await self._webhook.stop()
        await self._http.stop()

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- connection details for the bot --------------------------------------------------------

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def bot_user(self) -> SimUser:
        return self.state.bot

    @property
    def base_url(self) -> str:
        """What PTB's ``ApplicationBuilder.base_url`` expects (it appends token and method)."""
        return f"http://127.0.0.1:{self._http.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}/file/bot"

    def application_builder(self, token: str | None = None):
        """An ``ApplicationBuilder`` already pointed at this server."""
        from telegram.ext import Application

        builder = Application.builder().token(token or self.token)
        return builder.base_url(self.base_url).base_file_url(self.base_file_url)

    # -- users and chats -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Anna",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
    ) -> SimUser:
        """Register a user who has started the bot (so a private chat with the bot exists)."""
        user_id = user_id or next(self._ids)
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = ensure_user(
            self.state,
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        ensure_private_chat(self.state, user)
        return user

    def add_group(
        self,
        title: str,
        members: list[SimUser] | tuple[SimUser, ...] = (),
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
        username: str | None = None,
    ) -> SimChat:
        if chat_id is None:
            number = next(self._ids)
            chat_id = -(1_000_000_000_000 + number) if supergroup else -number
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = SimChat(chat_id, "supergroup" if supergroup else "group", title, username)
        chat.members = {member.id for member in members}
        self.state.chats[chat_id] = chat
        return chat

    def block_bot(self, user_id: int, notify: bool = True) -> None:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        user = ensure_user(self.state, user_id)
        self.state.blocked.add(user_id)
        if notify:
            member_status_change(self.state, user, "member", "kicked")

    def unblock_bot(self, user_id: int, notify: bool = True) -> None:
        user = ensure_user(self.state, user_id)
        self.state.blocked.discard(user_id)
        if notify:
            member_status_change(self.state, user, "kicked", "member")

    # -- what users do ---------------------------------------------------------------------------

    def user_sends_text(
        self,
        chat_id: int,
        text: str,
        user: SimUser | int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Queue a message update; returns the Update as the bot will receive it."""
        chat, sender = sender_for(self.state, chat_id, user)
        return push(self.state, "message", text_message(self.state, chat, sender, text, reply_to))

    def user_sends_command(
        self, chat_id: int, command: str, args: str = "", user: SimUser | int | None = None
    ) -> dict[str, Any]:
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return self.user_sends_text(chat_id, text, user=user)

    def user_sends_document(
        self,
        chat_id: int,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
        user: SimUser | int | None = None,
    ) -> dict[str, Any]:
        chat, sender = sender_for(self.state, chat_id, user)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        message = document_message(self.state, chat, sender, filename, content, mime, caption)
        return push(self.state, "message", message)

    def user_presses_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        user: SimUser | int | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """Queue a callback_query update; ``check=False`` allows pressing a vanished button."""
        return callback_query(self.state, chat_id, message_id, callback_data, user, check)

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (e.g. a sample); an update_id is assigned when missing."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", self.state.next_update_id())
        self.state.updates.push(update)
        return update

    def redeliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update again with the same update_id, as Telegram may after a failure."""
        duplicate = copy.deepcopy(update)
        self.state.updates.push(duplicate, replay=True)
        return duplicate

    # -- what the bot did ------------------------------------------------------------------------

    def sent_messages(
        self, chat_id: int | None = None, include_deleted: bool = False
    ) -> list[BotMessage]:
        return [
            m
            for m in self.state.messages
            if (chat_id is None or m.chat_id == chat_id) and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> BotMessage:
        messages = self.sent_messages(chat_id)
        if not messages:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    async def wait_for_message(
        self,
        chat_id: int | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> BotMessage:
        """The oldest matching message not yet returned by an earlier call (a read cursor)."""

        def find() -> BotMessage | None:
            for message in self.sent_messages(chat_id):
                key = (message.chat_id, message.message_id)
                if key not in self._returned and (predicate is None or predicate(message)):
                    self._returned.add(key)
                    return message
            return None

        found = await self._wait_for(find, timeout)
        if found is None:
            seen = [m.text for m in self.sent_messages(chat_id)]
            raise TimeoutError(
                f"no matching message for chat {chat_id} in {timeout}s; sent: {seen}"
            )
        return found

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` is truthy (re-checked after every change); return it."""
        result = await self._wait_for(condition, timeout)
        if not result:
            raise TimeoutError(f"condition not met within {timeout}s")
        return result

    async def _wait_for(self, probe: Callable[[], Any], timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := probe()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return result
            event = self.state.changed
            # Re-probe at least every 0.1 s: some changes (e.g. on the bot's side) do not notify.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.1))
        return result

    def documents(self, chat_id: int | None = None) -> list[StoredDocument]:
        return [d for d in self.state.documents.values() if chat_id is None or d.chat_id == chat_id]

    @property
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        return self.state.callback_answers

    def answer_for(self, update: dict[str, Any]) -> CallbackAnswer | None:
        """The answerCallbackQuery given to the callback_query in ``update``, if any."""
        return self.state.callback_answers.get(update["callback_query"]["id"])

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        return self.state.chat_actions

    def calls(self, method: str | None = None) -> list[ApiCall]:
        wanted = method.lower() if method else None
        return [c for c in self.state.calls if wanted is None or c.method.lower() == wanted]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict]:
        key = json.dumps(scope or {"type": "default"}, sort_keys=True) + "|" + language_code
        return self.state.commands.get(key, [])

    @property
    def pending_updates(self) -> int:
        return len(self.state.updates)

    # -- webhook -----------------------------------------------------------------------------------

    @property
    def webhook(self) -> WebhookConfig | None:
        return self.state.webhook

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        return self._webhook.deliveries

    async def post_to_webhook(
        self, update: dict[str, Any], secret_token: str | None = _UNSET
    ) -> int | None:
        """POST ``update`` to the webhook now; pass ``secret_token=None`` or a wrong one to test
        that the bot refuses it. Returns the HTTP status (None if the connection failed)."""
        hook = self.state.webhook
        if hook is None:
            raise RuntimeError("no webhook is set")
        secret = hook.secret_token if secret_token is _UNSET else secret_token
        return await self._webhook.post(update, hook.url, secret)

    async def wait_for_webhook_idle(self, timeout: float = 5.0) -> None:
        """Wait until every queued update was handed to the webhook."""
        await self.wait_until(lambda: self.pending_updates == 0, timeout)

    # -- faults ----------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """Server errors, slow answers and 429 bursts to inject (``tg.faults.fail_next``)."""
        return self.state.faults

    def delivered_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of the messages the bot sent, for counting duplicates."""
        return [m.text or "" for m in self.sent_messages(chat_id)]

    # -- rate limits -------------------------------------------------------------------------------

    @property
    def limiter(self) -> RateLimiter:
        return self.state.limiter

    def enable_rate_limits(self, limits: RateLimits | None = None) -> None:
        self.state.limiter.configure(limits or RateLimits.telegram())

    def disable_rate_limits(self) -> None:
        self.state.limiter.configure(RateLimits())

    @property
    def too_many_requests(self) -> int:
        """How many 429 answers the bot received so far."""
        return self.state.limiter.too_many_requests
