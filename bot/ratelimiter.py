"""The limiter plugged into python-telegram-bot, so every send of the bot goes through it.

Handlers send as usual (``Priority.INTERACTIVE`` by default); the outbox dispatcher passes
``rate_limit_args=Priority.BULK``. A 429 blocks the chat in the limiter for ``retry_after``
and lowers the global rate (``bot.adaptive``);
an interactive send then tries once more, a bulk send hands the error to the dispatcher, which
reschedules that message without waiting.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.limits import Priority, SendLimiter

# Methods that put a message into a chat; Telegram's flood limits count these.
COUNTED = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns about the int form of retry_after
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_key(chat_id: Any) -> int | str:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


class LimiterBridge(BaseRateLimiter[Priority]):
    def __init__(self, limiter: SendLimiter) -> None:
        self.limiter = limiter

    async def initialize(self) -> None:
        """Nothing to open: the limiter lives as long as the channel."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ):
        if endpoint not in COUNTED or "chat_id" not in data:
            return await callback(*args, **kwargs)
        chat = chat_key(data["chat_id"])
        priority = Priority.INTERACTIVE if rate_limit_args is None else rate_limit_args
        attempts = 1 if priority is Priority.BULK else 2
        for attempt in range(1, attempts + 1):
            async with self.limiter.slot(chat, priority):
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as error:
                    self.limiter.throttled(chat, retry_seconds(error))
                    if attempt == attempts:
                        raise
        raise AssertionError("unreachable")
