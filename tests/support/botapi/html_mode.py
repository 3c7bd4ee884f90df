"""The subset of HTML the Bot API accepts, parsed into plain text and entities."""

from html.parser import HTMLParser
from typing import Any

from .entities import EntityBuilder, parse_error
from .text import byte_offset

_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Only these named character references are understood by Telegram.
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHtml(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.out = EntityBuilder()
        self.open: list[tuple[str, int, dict[str, Any]]] = []

    def _position(self) -> int:
        line, column = self.getpos()
        lines = self.source.split("\n")
        index = sum(len(text) + 1 for text in lines[: line - 1]) + column
        return byte_offset(self.source, index)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAG_ENTITY:
            raise parse_error(f'Unsupported start tag "{tag}" at byte offset {self._position()}')
        self.open.append((tag, self.out.offset, _extra(tag, dict(attrs), self.open)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            expected = f'"</{self.open[-1][0]}>"' if self.open else "no end tag"
            raise parse_error(
                f"Unmatched end tag at byte offset {self._position()}, "
                f'expected {expected}, found "</{tag}>"'
            )
        _, start, extra = self.open.pop()
        kind = extra.pop("_kind", _TAG_ENTITY[tag])
        if kind is not None:
            self.out.close(kind, start, **extra)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise parse_error(f"Unsupported start tag at byte offset {self._position()}")
        self.out.add(data)

    def handle_entityref(self, name: str) -> None:
        self.out.add(_NAMED_REFS.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        number = int(name[1:], 16) if name[:1] in "xX" else int(name)
        self.out.add(chr(number))


def _extra(tag: str, attrs: dict[str, str | None], open_tags: list) -> dict[str, Any]:
    """Entity fields that come from attributes; ``_kind`` overrides the default entity type."""
    if tag == "a":
        return {"url": attrs.get("href") or ""}
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        return {"_kind": None}
    if tag == "blockquote" and "expandable" in attrs:
        return {"_kind": "expandable_blockquote"}
    if tag == "tg-emoji":
        return {"custom_emoji_id": attrs.get("emoji-id") or ""}
    if tag == "code" and open_tags and open_tags[-1][0] == "pre":
        # <pre><code class="language-x"> yields one pre entity carrying the language.
        language = (attrs.get("class") or "").removeprefix("language-")
        if language:
            open_tags[-1][2]["language"] = language
        return {"_kind": None}
    return {}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _TelegramHtml(text)
    parser.feed(text)
    parser.close()
    if parser.open:
        tag = parser.open[-1][0]
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return parser.out.result()
