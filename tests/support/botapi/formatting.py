"""Turn text with a parse_mode into plain text plus entities, failing the way Telegram does.

Real bots often break on unescaped ``<`` in HTML or an unescaped ``.`` in MarkdownV2; the real
server answers 400 "can't parse entities", so the fake must do the same to catch those bugs.
"""

from typing import Any

from .errors import bad_request
from .html_mode import parse_html
from .markdown_mode import parse_markdown, parse_markdown_v2


def render(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for ``text`` sent with ``parse_mode``."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode}")
