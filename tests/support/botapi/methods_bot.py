"""Bot API methods about the bot itself: identity, updates, webhook, commands, files."""

import json
import re
from typing import Any

from .errors import bad_request, conflict
from .params import Params
from .state import BotState, WebhookConfig

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


async def get_me(state: BotState, p: Params) -> dict[str, Any]:
    return state.bot.to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(state: BotState, p: Params) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    if p.has("allowed_updates"):
        state.updates.allowed_updates = p.obj("allowed_updates") or None
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = max(p.integer("timeout") or 0, 0)
    return await state.updates.long_poll(p.integer("offset"), limit, timeout)


async def set_webhook(state: BotState, p: Params) -> bool:
    url = p.text("url") or ""
    if not url:
        return await delete_webhook(state, p)
    secret = p.text("secret_token")
    if secret is not None and not _SECRET_TOKEN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    # Telegram insists on HTTPS; the fake accepts plain HTTP because it only talks to loopback.
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if p.flag("drop_pending_updates"):
        state.updates.clear()
    allowed = p.obj("allowed_updates") if p.has("allowed_updates") else None
    if allowed is not None:
        state.updates.allowed_updates = allowed or None
    state.webhook = WebhookConfig(url, secret, p.integer("max_connections") or 40, allowed)
    state.updates.release_poll()
    state.notify()
    return True


async def delete_webhook(state: BotState, p: Params) -> bool:
    if p.flag("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    state.notify()
    return True


async def get_webhook_info(state: BotState, p: Params) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    hook = state.webhook
    if hook is None:
        return info
    info |= {"url": hook.url, "max_connections": hook.max_connections}
    optional = {
        "allowed_updates": hook.allowed_updates,
        "last_error_date": hook.last_error_date,
        "last_error_message": hook.last_error_message,
    }
    return info | {k: v for k, v in optional.items() if v is not None}


def _scope_key(p: Params) -> str:
    scope = p.obj("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + (p.text("language_code") or "")


async def set_my_commands(state: BotState, p: Params) -> bool:
    commands = p.obj("commands", required=True)
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not _COMMAND_NAME.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = _scope_key(p)
    state.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(state: BotState, p: Params) -> list[dict[str, Any]]:
    return state.commands.get(_scope_key(p), [])


async def delete_my_commands(state: BotState, p: Params) -> bool:
    state.commands.pop(_scope_key(p), None)
    return True


async def get_file(state: BotState, p: Params) -> dict[str, Any]:
    document = state.documents.get(p.text("file_id", required=True) or "")
    if document is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": document.file_id,
        "file_unique_id": document.file_unique_id,
        "file_size": len(document.content),
        "file_path": document.file_path,
    }


async def accepted(state: BotState, p: Params) -> bool:
    """close and logOut: nothing to release in the fake."""
    return True
