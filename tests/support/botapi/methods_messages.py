"""Bot API methods that create messages: sendMessage, sendDocument, sendChatAction."""

import mimetypes
from typing import Any

from .errors import bad_request
from .formatting import render
from .markup import check_reply_markup, returned_markup
from .model import BotMessage, SimChat, StoredDocument
from .params import Params
from .state import BotState
from .text import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, utf16_len


def formatted(text: str, parse_mode: str | None, caption: bool = False) -> tuple[str, list]:
    """Apply parse_mode and enforce Telegram's length limits on the resulting plain text."""
    plain, entities = render(text, parse_mode)
    if caption:
        if utf16_len(plain) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
    elif not plain.strip():
        raise bad_request("message text is empty")
    elif utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return plain, entities


def _reply_to(state: BotState, chat: SimChat, p: Params) -> dict[str, Any] | None:
    reply = p.obj("reply_parameters") or {}
    message_id = reply.get("message_id") or p.integer("reply_to_message_id")
    if not message_id:
        return None
    original = state.any_message_api(chat.id, int(message_id))
    if original is None:
        if reply.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return {k: v for k, v in original.items() if k != "reply_to_message"}


def _link_preview(p: Params) -> dict[str, Any] | None:
    options = p.obj("link_preview_options")
    if options is None and p.flag("disable_web_page_preview"):
        options = {"is_disabled": True}
    return options or None


def _common_fields(state: BotState, chat: SimChat, p: Params) -> tuple[dict, dict | None]:
    """Reply and markup fields shared by all send methods, plus the markup as sent."""
    markup = check_reply_markup(p.obj("reply_markup"))
    optional = {
        "reply_to_message": _reply_to(state, chat, p),
        "reply_markup": returned_markup(markup),
    }
    return {k: v for k, v in optional.items() if v}, markup


def _commit(state: BotState, chat: SimChat, method: str, fields: dict, p: Params, **extra) -> dict:
    """Admit (rate limit), number and record a validated message; 429s consume no message id."""
    received_at = state.limiter.admit(method, chat.id)
    api = state.message_base(chat, state.next_message_id(chat.id)) | fields
    message = BotMessage(
        message_id=api["message_id"],
        chat_id=chat.id,
        method=method,
        api=api,
        params=dict(p.values),
        received_at=received_at,
        **extra,
    )
    state.messages.append(message)
    state.notify()
    return api


async def send_message(state: BotState, p: Params) -> dict[str, Any]:
    chat = state.chat_for_sending(p.chat_id())
    text = p.text("text", required=True)
    parse_mode = p.text("parse_mode")
    plain, entities = formatted(text, parse_mode)
    fields: dict[str, Any] = {"text": plain}
    if entities or p.obj("entities"):
        fields["entities"] = entities or p.obj("entities")
    if preview := _link_preview(p):
        fields["link_preview_options"] = preview
    common, markup = _common_fields(state, chat, p)
    extra = {"raw_text": text, "parse_mode": parse_mode, "reply_markup": markup}
    return _commit(state, chat, "sendMessage", fields | common, p, **extra)


def _document_from(state: BotState, p: Params) -> StoredDocument:
    upload = p.files.get("document")
    if upload is not None:
        file_id, unique_id = state.new_file_ids()
        name = upload.filename or "document"
        mime = upload.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return StoredDocument(file_id, unique_id, name, mime, upload.content)
    reference = p.text("document", required=True)
    known = state.documents.get(reference)
    if known is None:
        # URLs are not fetched: the fake has no network beyond loopback.
        raise bad_request("wrong file identifier/HTTP URL specified")
    return known


async def send_document(state: BotState, p: Params) -> dict[str, Any]:
    chat = state.chat_for_sending(p.chat_id())
    document = _document_from(state, p)
    fields: dict[str, Any] = {"document": document.to_api()}
    caption, parse_mode = p.text("caption"), p.text("parse_mode")
    if caption:
        plain, entities = formatted(caption, parse_mode, caption=True)
        fields["caption"] = plain
        if entities:
            fields["caption_entities"] = entities
    common, markup = _common_fields(state, chat, p)
    api = _commit(
        state,
        chat,
        "sendDocument",
        fields | common,
        p,
        raw_text=caption,
        parse_mode=parse_mode,
        reply_markup=markup,
        document=document,
    )
    if document.chat_id is None:  # first upload: remember where it went
        document.chat_id, document.message_id = chat.id, api["message_id"]
    state.documents[document.file_id] = document
    return api


_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_chat_action(state: BotState, p: Params) -> bool:
    chat = state.chat_for_sending(p.chat_id())
    action = p.text("action", required=True)
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.chat_actions.append((chat.id, action))
    return True
