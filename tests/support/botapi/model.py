"""What the fake Telegram remembers: users, chats, the bot's messages and uploaded files."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "de"
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class SimChat:
    """A private chat (id == user id), a group or a supergroup (negative ids)."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    members: set[int] = field(default_factory=set)

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name", "last_name"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class StoredDocument:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes
    chat_id: int | None = None
    message_id: int | None = None

    @property
    def file_path(self) -> str:
        return f"documents/{self.file_unique_id}/{self.file_name}"

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


@dataclass
class BotMessage:
    """A message the bot sent; ``api`` is the Message object as last returned to the bot."""

    message_id: int
    chat_id: int
    method: str
    api: dict[str, Any]
    params: dict[str, Any]
    received_at: float  # monotonic clock, for latency/throughput measurements
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # as sent, including reply keyboards
    document: StoredDocument | None = None
    deleted: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """Plain text after parse_mode was applied (caption for documents)."""
        return self.api.get("text", self.api.get("caption"))

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.api.get("reply_markup") or {}
        return markup.get("inline_keyboard", [])

    def button_data(self) -> list[str]:
        return [
            b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b
        ]


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    answered_at: float


@dataclass
class ApiCall:
    """One request the bot made, kept so tests can validate responses against the spec."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    received_at: float
