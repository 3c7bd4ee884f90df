"""Readable plain text from HTML mail bodies, built on the stdlib parser.

HTML-only mails are common from webmail and phone clients. The text must be good enough to find a
command on the first line and to strip quoted history, so block elements become line breaks and
``<blockquote>`` content is prefixed with "> " like a plain-text quote.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "dl", "dt", "dd", "address",
        "center", "form", "fieldset",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._skip_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0
        self._line_depth = 0  # quote depth at which the current line started

    # -- line handling -------------------------------------------------------------------------
    def _break(self) -> None:
        text = "".join(self._current)
        if self._pre_depth == 0:
            text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", text).strip()
        prefix = "> " * self._line_depth
        self.lines.append((prefix + text).rstrip() if text else prefix.rstrip())
        self._current = []
        self._line_depth = self._quote_depth

    def _blank_line(self) -> None:
        if self._current and "".join(self._current).strip():
            self._break()
        if self.lines and self.lines[-1].strip("> ") != "":
            self._break()

    # -- parser callbacks ----------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "br":
            self._break()
        elif tag == "blockquote":
            self._blank_line()
            self._quote_depth += 1
            self._line_depth = self._quote_depth
        elif tag == "li":
            self._flush_if_text()
            self._current.append("- ")
        elif tag in ("td", "th"):
            self._current.append(" ")
        elif tag in _BLOCK:
            if tag == "pre":
                self._pre_depth += 1
            self._flush_if_text()
        if tag == "hr":
            self._current.append("-" * 30)
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "blockquote":
            self._flush_if_text()
            self._quote_depth = max(0, self._quote_depth - 1)
            self._line_depth = self._quote_depth
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6"):
            self._blank_line()
        elif tag in _BLOCK or tag == "li":
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            self._flush_if_text()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if not self._current or not "".join(self._current).strip():
            self._line_depth = self._quote_depth
        if self._pre_depth:
            # Preformatted text keeps its own line breaks.
            parts = data.split("\n")
            for part in parts[:-1]:
                self._current.append(part)
                self._break()
            self._current.append(parts[-1])
        else:
            self._current.append(data)

    def _flush_if_text(self) -> None:
        if "".join(self._current).strip():
            self._break()
        else:
            self._current = []

    def text(self) -> str:
        self._flush_if_text()
        joined = "\n".join(self.lines)
        # Collapse runs of empty lines that nested blocks leave behind.
        joined = re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", joined)
        return joined.strip("\n")


def html_to_text(html: str) -> str:
    """Convert an HTML document or fragment to plain text; never raises on bad markup."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # the stdlib parser is lenient, but a broken document must not crash
        pass
    return collector.text()
