"""Bot API methods that change existing messages or answer button presses."""

import time
from typing import Any

from .errors import bad_request
from .markup import check_reply_markup, returned_markup
from .methods_messages import formatted
from .model import BotMessage, CallbackAnswer
from .params import Params
from .state import BotState


def _editable(state: BotState, p: Params, verb: str) -> BotMessage:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
    chat_id = p.chat_id()
    chat = state.chat_for_sending(chat_id)
    message_id = p.integer("message_id", required=True)
    message = state.bot_message(chat.id, message_id)
    if message is None or message.deleted:
        if (chat.id, message_id) in state.user_messages:
            raise bad_request(f"message can't be {verb}ed")
        raise bad_request(f"message to {verb} not found")
    return message


def _apply_edit(
    state: BotState, message: BotMessage, method: str, changes: dict[str, Any], drop: tuple = ()
) -> dict[str, Any]:
    """Replace fields; ``drop`` names fields that vanish unless ``changes`` sets them again."""
    dropped = {"reply_markup", "edit_date", *drop}
    new_api = {k: v for k, v in message.api.items() if k not in dropped}
    new_api.update({k: v for k, v in changes.items() if v is not None})
    if _same_content(message.api, new_api):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    state.limiter.admit(method, message.chat_id)
    message.edits.append(message.api)
    new_api["edit_date"] = state.now()
    message.api = new_api
    state.notify()
    return new_api


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    def key(api: dict) -> dict:
        return {k: v for k, v in api.items() if k not in ("edit_date", "date")}

    return key(old) == key(new)


async def edit_message_text(state: BotState, p: Params) -> dict[str, Any]:
    message = _editable(state, p, "edit")
    if "text" not in message.api:
        raise bad_request("there is no text in the message to edit")
    text = p.text("text", required=True)
    parse_mode = p.text("parse_mode")
    plain, entities = formatted(text, parse_mode)
    markup = check_reply_markup(p.obj("reply_markup"))
    # Like Telegram: an edit without reply_markup drops the inline keyboard.
    changes = {
        "text": plain,
        "entities": entities or p.obj("entities"),
        "link_preview_options": p.obj("link_preview_options"),
        "reply_markup": returned_markup(markup),
    }
    drop = ("entities", "link_preview_options")
    result = _apply_edit(state, message, "editMessageText", changes, drop)
    message.raw_text, message.parse_mode, message.reply_markup = text, parse_mode, markup
    return result


async def edit_message_reply_markup(state: BotState, p: Params) -> dict[str, Any]:
    message = _editable(state, p, "edit")
    markup = check_reply_markup(p.obj("reply_markup"))
    result = _apply_edit(
        state, message, "editMessageReplyMarkup", {"reply_markup": returned_markup(markup)}
    )
    message.reply_markup = markup
    return result


async def delete_message(state: BotState, p: Params) -> bool:
    chat = state.chat_for_sending(p.chat_id())
    message_id = p.integer("message_id", required=True)
    message = state.bot_message(chat.id, message_id)
    if message is not None and not message.deleted:
        message.deleted = True
    elif state.user_messages.pop((chat.id, message_id), None) is None:
        raise bad_request("message to delete not found")
    state.notify()
    return True


async def answer_callback_query(state: BotState, p: Params) -> bool:
    query_id = p.text("callback_query_id", required=True)
    if query_id not in state.callback_queries or query_id in state.callback_answers:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    state.callback_answers[query_id] = CallbackAnswer(
        callback_query_id=query_id,
        text=p.text("text"),
        show_alert=p.flag("show_alert"),
        url=p.text("url"),
        answered_at=time.monotonic(),
    )
    state.notify()
    return True
