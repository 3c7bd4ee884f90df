"""Channel-neutral answers: text plus choices, rendered by each channel.

A choice carries the exact input that picking it stands for, so Telegram can
put it into callback data, the terminal can number it and email can list it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.kernel.texts import t


@dataclass(frozen=True)
class Choice:
    label: str
    command: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class IncomingFile:
    """A file a member sent along with a command (a mail's attachment, a Telegram document)."""

    filename: str
    content_type: str
    data: bytes
    # False when the channel could read only part of it (a mail cut at its size limit).
    complete: bool = True


@dataclass
class Reply:
    text: str
    choices: list[Choice] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    # What the reply is about ("match:12"), so a channel can tie answers to it.
    ref: str | None = None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "choices": [{"label": c.label, "command": c.command} for c in self.choices],
        }

    @classmethod
    def from_json(cls, data: dict, ref: str | None = None) -> Reply:
        choices = [Choice(c["label"], c["command"]) for c in data.get("choices", [])]
        return cls(text=data["text"], choices=choices, ref=ref)


def cancel_choice() -> Choice:
    """Leave the dialogue (``/abbrechen``): offered beside every question of one."""
    return Choice(t("common.cancel"), "/abbrechen")
