"""The parts of a digest that features contribute: sections, each with an optional chart.

A feature declares section builders (core/feature_set.py); the staff digest
(core/digests/staff.py) asks each for its section and sends those with something to report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from core.store.unit_of_work import UnitOfWork

LISTED = 10  # items a section names before it only counts the rest


@dataclass(frozen=True)
class DigestChart:
    """A picture of a section: shown inline in the digest mail and attached as a file.

    ``draw`` makes the PNG; it runs only for a digest that is sent, in a worker thread, so
    drawing never holds up the event loop and a skipped digest draws nothing.
    """

    filename: str
    draw: Callable[[], bytes]
    note: str


@dataclass
class DigestSection:
    """One block of the staff digest; ``items`` > 0 means it has something to report."""

    title: str
    lines: list[str]
    items: int = 0
    key: str = ""
    chart: DigestChart | None = None


# A section builder: (uow, since, now, tz) -> section or None (nothing to show).
SectionBuilder = Callable[
    ["UnitOfWork", datetime, datetime, ZoneInfo], Awaitable["DigestSection | None"]
]
