"""A local server speaking the Telegram Bot API, for tests and benchmarks.

The real python-telegram-bot ``Application`` talks to it over HTTP; tests play the users through
the in-process simulation API of :class:`FakeTelegram`.
"""

from .errors import ApiError
from .model import ApiCall, BotMessage, CallbackAnswer, SimChat, SimUser, StoredDocument
from .ratelimit import RateLimiter, RateLimits
from .server import DEFAULT_TOKEN, FakeTelegram
from .webhook import SECRET_HEADER, Delivery

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "ApiCall",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "Delivery",
    "FakeTelegram",
    "RateLimiter",
    "RateLimits",
    "SimChat",
    "SimUser",
    "StoredDocument",
]
