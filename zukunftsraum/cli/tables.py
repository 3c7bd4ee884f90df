"""Every list the shell prints: a table that stays readable at 80 columns and in a pipe,
or JSON Lines with every field (``--format json``).

Columns with ids, dates and amounts keep to one line; text columns wrap at word
boundaries (long words such as addresses and links fold), and a column with a ``limit``
cuts longer texts with "…" (the JSON keeps them whole). Cells are plain text, never Rich
markup, so a title with "[1]" prints as it is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rich import box
from rich.table import Table
from rich.text import Text

from zukunftsraum.cli.common import out


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[dict], object]
    wrap: bool = True  # False: ids, dates, amounts, short labels stay on one line
    limit: int | None = None  # longer texts are cut with "…"
    right: bool = False  # numbers
    min_width: int | None = None  # the column to keep readable when space is short


# C0, DEL and C1 control characters left after whitespace is folded: a name with
# "\x1b[2J" or "\x9b..." must not reach the operator's terminal as a command.
_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], "?")


def _text(value: object, limit: int | None) -> str:
    text = "–" if value is None or value == "" else " ".join(str(value).split())
    text = text.translate(_CONTROLS)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def table(rows: Iterable[dict], columns: Sequence[Column], title: str | None = None) -> Table:
    shown = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        pad_edge=False,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for column in columns:
        shown.add_column(
            column.header,
            no_wrap=not column.wrap,
            overflow="fold" if column.wrap else "ellipsis",
            justify="right" if column.right else "left",
            min_width=column.min_width,
        )
    for row in rows:
        shown.add_row(*(Text(_text(c.cell(row), c.limit)) for c in columns))
    return shown


def write_json_lines(rows: Iterable[dict]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def print_rows(
    rows: Sequence[dict],
    format: str,
    columns: Sequence[Column],
    *,
    empty: str,
    title: str | None = None,
) -> None:
    """``rows`` as JSON Lines (every field) or as a table; ``empty`` when there are none
    (only in the table: an empty list in JSON is no line at all)."""
    if format == "json":
        write_json_lines(rows)
        return
    if not rows:
        out.print(Text(empty))
        return
    out.print(table(rows, columns, title))
