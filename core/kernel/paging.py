"""Long lists in pages: a few items, then "weitere anzeigen" (a choice, or a reply word).

``/meine 2`` shows the second page; the choice that leads there is the command with the
next page number, so the same reply word (MEINE) or button works in every channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.kernel.errors import UserError
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t

PAGE_SIZE = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    remaining: int  # items after this page

    def more(self, command: str) -> Reply | None:
        """The "weitere anzeigen" reply leading to the next page, if there is one."""
        if not self.remaining:
            return None
        return Reply(
            t("paging.more_left", count=self.remaining),
            [Choice(t("paging.more_choice"), f"/{command} {self.number + 1}")],
        )


def page_number(args: str) -> int:
    """The page asked for ("" -> 1, "2" -> 2); anything else is a clear error."""
    text = args.strip().split(maxsplit=1)[0] if args.strip() else "1"
    if not text.isdecimal() or len(text) > 5 or not 1 <= int(text) <= 10_000:
        raise UserError.of("paging.bad_page", value=text[:20])
    return int(text)


def page(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` (from 1) of ``items``; past the end, the last page."""
    last = max(1, -(-len(items) // size))
    number = min(number, last)
    start = (number - 1) * size
    shown = items[start : start + size]
    return Page(shown, number, max(0, len(items) - start - len(shown)))
