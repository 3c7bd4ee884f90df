"""Building the updates that users cause: messages, commands, button presses, blocking."""

import itertools
from typing import Any

from .model import SimChat, SimUser, StoredDocument
from .state import BotState
from .text import command_entities

_query_ids = itertools.count(4_000_000_000_000_000_001)


def ensure_user(state: BotState, user_id: int, **fields: Any) -> SimUser:
    user = state.users.get(user_id)
    if user is None:
        fields.setdefault("first_name", f"Nutzer {user_id}")
        user = state.users[user_id] = SimUser(user_id, **fields)
    return user


def ensure_private_chat(state: BotState, user: SimUser) -> SimChat:
    chat = state.chats.get(user.id)
    if chat is None:
        chat = SimChat(user.id, "private", username=user.username, first_name=user.first_name)
        chat.last_name = user.last_name
        state.chats[user.id] = chat
    return chat


def sender_for(
    state: BotState, chat_id: int, user: SimUser | int | None
) -> tuple[SimChat, SimUser]:
    """Resolve who speaks where; a private chat id doubles as its user's id."""
    if isinstance(user, int):
        user = ensure_user(state, user)
    if chat_id > 0:
        user = user or ensure_user(state, chat_id)
        if user.id != chat_id:
            raise ValueError(f"user {user.id} cannot write in the private chat {chat_id}")
        state.blocked.discard(user.id)  # writing to the bot again means it was unblocked
        return ensure_private_chat(state, user), user
    chat = state.chats.get(chat_id)
    if chat is None:
        raise LookupError(f"unknown group {chat_id}; create it with add_group() first")
    if user is None:
        if not chat.members:
            raise ValueError(f"group {chat_id} has no members; pass user=")
        user = state.users[min(chat.members)]
    chat.members.add(user.id)
    return chat, user


def push(state: BotState, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    update = {"update_id": state.next_update_id(), kind: payload}
    state.updates.push(update)
    return update


def user_message(state: BotState, chat: SimChat, user: SimUser, **content: Any) -> dict:
    message_id = state.next_message_id(chat.id)
    message = {
        "message_id": message_id,
        "from": user.to_api(),
        "chat": chat.to_api(),
        "date": state.now(),
        **{k: v for k, v in content.items() if v is not None},
    }
    state.user_messages[(chat.id, message_id)] = message
    return message


def text_message(state: BotState, chat: SimChat, user: SimUser, text: str, reply_to: int | None):
    reply = state.any_message_api(chat.id, reply_to) if reply_to else None
    if reply_to and reply is None:
        raise LookupError(f"no message {reply_to} in chat {chat.id} to reply to")
    entities = command_entities(text) or None
    return user_message(state, chat, user, text=text, entities=entities, reply_to_message=reply)


def document_message(
    state: BotState, chat: SimChat, user: SimUser, name: str, content: bytes, mime: str, caption
) -> dict:
    file_id, unique_id = state.new_file_ids()
    document = StoredDocument(file_id, unique_id, name, mime, content, chat.id)
    state.documents[file_id] = document
    message = user_message(state, chat, user, document=document.to_api(), caption=caption)
    document.message_id = message["message_id"]
    return message


def callback_query(state: BotState, chat_id: int, message_id: int, data: str, user, check: bool):
    chat, user = sender_for(state, chat_id, user)
    message = state.bot_message(chat.id, message_id)
    if message is None or message.deleted:
        raise LookupError(f"the bot has no message {message_id} in chat {chat_id}")
    if check and data not in message.button_data():
        raise LookupError(
            f"message {message_id} has no button with callback_data {data!r}; "
            f"it offers {message.button_data()}"
        )
    query = {
        "id": str(next(_query_ids)),
        "from": user.to_api(),
        "message": message.api,
        "chat_instance": str(abs(hash((state.bot.id, chat.id)))),
        "data": data,
    }
    state.callback_queries[query["id"]] = query
    return push(state, "callback_query", query)


def member_status_change(state: BotState, user: SimUser, old: str, new: str) -> dict:
    """my_chat_member update sent when a user blocks (kicked) or unblocks (member) the bot."""
    chat = ensure_private_chat(state, user)

    def member(status: str) -> dict[str, Any]:
        data: dict[str, Any] = {"status": status, "user": state.bot.to_api()}
        if status == "kicked":
            data["until_date"] = 0
        return data

    payload = {
        "chat": chat.to_api(),
        "from": user.to_api(),
        "date": state.now(),
        "old_chat_member": member(old),
        "new_chat_member": member(new),
    }
    return push(state, "my_chat_member", payload)
