"""MarkdownV2 and legacy Markdown as the Bot API parses them (common constructs only)."""

from typing import Any

from .entities import EntityBuilder, parse_error
from .text import byte_offset

_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_V2_TOGGLES = {"||": "spoiler", "__": "underline", "*": "bold", "_": "italic", "~": "strikethrough"}
_LEGACY_TOGGLES = {"*": "bold", "_": "italic"}


class _MarkdownParser:
    def __init__(self, source: str, toggles: dict[str, str], reserved: set[str]) -> None:
        self.src = source
        self.toggles = toggles
        self.reserved = reserved
        self.out = EntityBuilder()
        self.open: list[tuple[str, int, int]] = []  # (entity type, text offset, source index)
        self.i = 0

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < len(self.src):
            self._step()
        if self.open:
            kind, _, index = self.open[-1]
            raise parse_error(
                f"Can't find end of {_title(kind)} entity at byte offset "
                f"{byte_offset(self.src, index)}"
            )
        return self.out.result()

    def _step(self) -> None:
        src, i = self.src, self.i
        if src[i] == "\\" and i + 1 < len(src):
            self.out.add(src[i + 1])
            self.i += 2
        elif src.startswith("```", i):
            self._pre()
        elif src[i] == "`":
            self._code()
        elif src[i] == "[":
            self.open.append(("text_link", self.out.offset, i))
            self.i += 1
        elif src[i] == "]" and self.open and self.open[-1][0] == "text_link":
            self._link_end()
        elif self._toggle():
            pass
        elif src[i] in self.reserved:
            raise parse_error(
                f"Character '{src[i]}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            self.out.add(src[i])
            self.i += 1

    def _toggle(self) -> bool:
        for marker, kind in self.toggles.items():
            if self.src.startswith(marker, self.i):
                self._switch(kind)
                self.i += len(marker)
                return True
        return False

    def _switch(self, kind: str) -> None:
        for position in range(len(self.open) - 1, -1, -1):
            if self.open[position][0] == kind:
                _, start, _ = self.open.pop(position)
                self.out.close(kind, start)
                return
        self.open.append((kind, self.out.offset, self.i))

    def _verbatim_until(self, marker: str, start: int) -> str:
        """Read code/pre content; inside it only backslash escapes are interpreted."""
        chars: list[str] = []
        i = start
        while i < len(self.src):
            if self.src[i] == "\\" and i + 1 < len(self.src):
                chars.append(self.src[i + 1])
                i += 2
            elif self.src.startswith(marker, i):
                self.i = i + len(marker)
                return "".join(chars)
            else:
                chars.append(self.src[i])
                i += 1
        kind = "Pre" if marker == "```" else "Code"
        raise parse_error(
            f"Can't find end of {kind} entity at byte offset {byte_offset(self.src, start - 1)}"
        )

    def _code(self) -> None:
        content = self._verbatim_until("`", self.i + 1)
        start = self.out.offset
        self.out.add(content)
        self.out.close("code", start)

    def _pre(self) -> None:
        content = self._verbatim_until("```", self.i + 3)
        language, newline, body = content.partition("\n")
        extra: dict[str, Any] = {}
        if newline and language and " " not in language:
            extra["language"] = language
            content = body
        start = self.out.offset
        self.out.add(content)
        self.out.close("pre", start, **extra)

    def _link_end(self) -> None:
        kind, start, index = self.open.pop()
        if not self.src.startswith("(", self.i + 1):
            raise parse_error(
                f"Can't find end of {_title(kind)} entity at byte offset "
                f"{byte_offset(self.src, index)}"
            )
        close = self.src.find(")", self.i + 2)
        if close < 0:
            raise parse_error("Can't find end of a URL")
        url = self.src[self.i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
        self.out.close("text_link", start, url=url)
        self.i = close + 1


def _title(kind: str) -> str:
    return {"text_link": "TextUrl", "strikethrough": "Strikethrough"}.get(kind, kind.title())


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    return _MarkdownParser(text, _V2_TOGGLES, _V2_RESERVED).run()


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    return _MarkdownParser(text, _LEGACY_TOGGLES, set()).run()
