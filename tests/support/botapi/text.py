"""Text helpers: UTF-16 offsets as Telegram counts them, and the entities it detects itself."""

import re
from typing import Any

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Telegram marks a leading "/command" (optionally "/command@botname") as a bot_command entity.
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,64})?")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    """Error messages of the real server name UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8"))


def command_entities(text: str) -> list[dict[str, Any]]:
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
