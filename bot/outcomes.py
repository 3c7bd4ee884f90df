"""What a failed Bot API call tells us about the message: not sent, sent, or unknown.

A request that timed out while waiting for the answer (or whose connection broke after it was
written) may well have been carried out by Telegram: sending it again may duplicate it. A
request that never left (no connection, no free connection in the pool) or that Telegram
answered with an error was not carried out.
"""

from __future__ import annotations

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut

# Raised by httpx after the request was (perhaps partly) written.
_AFTER_WRITING = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError)


def outcome_unknown(error: TelegramError) -> bool:
    if not isinstance(error, NetworkError):
        return False
    cause = error.__cause__
    if isinstance(cause, _AFTER_WRITING):
        return True
    # PTB raises TimedOut without a cause for its own timeouts around the request.
    return isinstance(error, TimedOut) and cause is None and "Pool timeout" not in error.message
