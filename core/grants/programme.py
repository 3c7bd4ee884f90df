"""The micro-grant programme's parameters and its calendar (Europe/Berlin).

Pure module: the wiring builds a ``GrantProgramme`` from the ``ZR_GRANT_*``
settings and hands it to core through ``Services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def month_day(text: str) -> tuple[int, int]:
    """ "09-30" -> (9, 30); raises ``ValueError`` for anything that is no date in every year."""
    try:
        month, day = (int(part) for part in text.strip().split("-"))
        date(2025, month, day)  # a non-leap year: 02-29 is refused on purpose
    except ValueError:
        raise ValueError(f"expected MM-DD, got {text!r}") from None
    return month, day


@dataclass(frozen=True)
class GrantProgramme:
    cap_cents: int = 5_000_00
    application_deadline: tuple[int, int] = (9, 30)
    invoice_deadline: tuple[int, int] = (11, 30)
    max_day_rate_cents: int = 850_00
    # Reminders go out this many days before each deadline.
    reminder_days: tuple[int, ...] = (14, 3)
    tz: ZoneInfo = BERLIN

    def local_date(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def year_of(self, now: datetime) -> int:
        """The budget year: the calendar year in Berlin, so New Year's Eve at 23:30 UTC counts
        for the next year."""
        return self.local_date(now).year

    def application_deadline_in(self, year: int) -> date:
        return date(year, *self.application_deadline)

    def invoice_deadline_in(self, year: int) -> date:
        return date(year, *self.invoice_deadline)

    def applications_open(self, now: datetime) -> bool:
        """Open until the end of the deadline day, Berlin time."""
        today = self.local_date(now)
        return today <= self.application_deadline_in(today.year)

    def invoices_open(self, year: int, now: datetime) -> bool:
        return self.local_date(now) <= self.invoice_deadline_in(year)
