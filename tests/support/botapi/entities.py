"""Accumulate plain text while recording entity spans in UTF-16 code units."""

from typing import Any

from .errors import bad_request
from .text import utf16_len


def parse_error(reason: str):
    return bad_request(f"can't parse entities: {reason}")


class EntityBuilder:
    def __init__(self) -> None:
        self._chunks: list[str] = []
        self.offset = 0  # UTF-16 units written so far
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self._chunks.append(text)
        self.offset += utf16_len(text)

    def close(self, kind: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length > 0:  # Telegram drops empty entities silently
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._chunks), ordered
