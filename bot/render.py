"""Channel-neutral replies as Telegram messages: text, inline keyboard, documents.

Texts go out as plain text (no parse mode), so whatever a member wrote cannot break the markup.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.kernel.replies import Attachment, Choice, Reply

log = logging.getLogger(__name__)

TEXT_MAX = 4096  # Telegram's limit for one message
CAPTION_MAX = 1024
CALLBACK_DATA_MAX = 64  # bytes, Telegram's limit for callback_data
SHORT_LABEL = 18  # labels up to this length share a row in pairs


@dataclass
class Outgoing:
    """One Bot API send: a text message or a document, with an optional keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    document: Attachment | None = None


def fits_callback_data(command: str) -> bool:
    return 0 < len(command.encode("utf-8")) <= CALLBACK_DATA_MAX


def keyboard(choices: list[Choice]) -> InlineKeyboardMarkup | None:
    """Choices as buttons; a choice whose command is too long for callback_data is left out."""
    buttons = []
    for choice in choices:
        if fits_callback_data(choice.command):
            buttons.append(InlineKeyboardButton(choice.label, callback_data=choice.command))
        else:
            # A programming error in a use case; the member can still type the command.
            log.error("choice left out: command of %d bytes", len(choice.command.encode()))
    if not buttons:
        return None
    if all(len(b.text) <= SHORT_LABEL for b in buttons):
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    else:
        rows = [[b] for b in buttons]
    return InlineKeyboardMarkup(rows)


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Cut a long text at paragraph or line ends into pieces Telegram accepts."""
    text = text.strip() or "…"
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit))
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces


def render(reply: Reply) -> list[Outgoing]:
    """The sends for one reply; the keyboard goes with the last piece of text."""
    pieces = split_text(reply.text)
    sends = [Outgoing(piece) for piece in pieces]
    sends[-1].keyboard = keyboard(reply.choices)
    for attachment in reply.attachments:
        sends.append(Outgoing("", document=attachment))
    if reply.attachments and len(pieces) == 1 and len(pieces[0]) <= CAPTION_MAX:
        # One message instead of two: the text becomes the document's caption.
        text_send = sends.pop(0)
        sends[0].text, sends[0].keyboard = text_send.text, text_send.keyboard
    return sends


def render_all(replies: list[Reply]) -> list[Outgoing]:
    return [send for reply in replies for send in render(reply)]


def from_outbox(text: str, choices: list[dict], attachments: list[dict] = ()) -> list[Outgoing]:
    files = [
        Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
        for a in attachments
    ]
    return render(Reply(text, [Choice(c["label"], c["command"]) for c in choices], files))
