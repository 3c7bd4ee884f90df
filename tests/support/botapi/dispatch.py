"""Route a Bot API call to its handler and shape the response like Telegram."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import methods_bot as bot
from . import methods_edit as edit
from . import methods_messages as send
from .errors import ApiError, not_found, unauthorized
from .model import ApiCall
from .params import Params
from .state import BotState

Handler = Callable[[BotState, Params], Awaitable[Any]]

_METHODS: dict[str, Handler] = {
    "getme": bot.get_me,
    "getupdates": bot.get_updates,
    "setwebhook": bot.set_webhook,
    "deletewebhook": bot.delete_webhook,
    "getwebhookinfo": bot.get_webhook_info,
    "setmycommands": bot.set_my_commands,
    "getmycommands": bot.get_my_commands,
    "deletemycommands": bot.delete_my_commands,
    "getfile": bot.get_file,
    "close": bot.accepted,
    "logout": bot.accepted,
    "sendmessage": send.send_message,
    "senddocument": send.send_document,
    "sendchataction": send.send_chat_action,
    "editmessagetext": edit.edit_message_text,
    "editmessagereplymarkup": edit.edit_message_reply_markup,
    "deletemessage": edit.delete_message,
    "answercallbackquery": edit.answer_callback_query,
}

# Method names are case-insensitive on the real server too.
IMPLEMENTED_METHODS = frozenset(_METHODS)


async def dispatch(state: BotState, token: str, method: str, params: Params) -> tuple[int, dict]:
    """Return ``(http_status, body)``; the status equals ``error_code`` for failures."""
    received_at = time.monotonic()
    try:
        if token != state.token:
            raise unauthorized()
        handler = _METHODS.get(method.lower())
        if handler is None:
            raise not_found()
        if (fault := state.faults.failure_for(method)) is not None:
            raise fault
        status, body = 200, {"ok": True, "result": await handler(state, params)}
    except ApiError as error:
        status, body = error.code, error.body()
    state.calls.append(ApiCall(method, _loggable(params), status, body, received_at))
    state.notify()
    if delay := state.faults.delay_for(method):
        await asyncio.sleep(delay)  # the effect has happened; only the answer is late
    return status, body


def _loggable(params: Params) -> dict[str, Any]:
    logged = dict(params.values)
    for name, upload in params.files.items():
        logged[name] = f"<upload {upload.filename!r}, {len(upload.content)} bytes>"
    return logged
