"""Numbers, money, dates and plural forms the German way, through Babel's CLDR data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

LOCALE = Locale("de", "DE")
# What an error line repeats of a person's input: enough to recognise it, never a pasted page.
ECHO_MAX = 60


def number(value: int | float | Decimal) -> str:
    """12345 -> "12.345", 2.5 -> "2,5"."""
    return format_decimal(value, locale=LOCALE)


def euro(cents: int) -> str:
    """12_505_050 -> "125.050,50 €" (always two decimals)."""
    text = format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE)
    # A plain space: the text goes into mails and chats that members copy and reply to.
    return text.replace("\u00a0", " ")


def day(value: date | datetime) -> str:
    """ "05.03.2026"."""
    return format_date(value, "dd.MM.yyyy", locale=LOCALE)


def clock_time(value: datetime) -> str:
    """ "09:30"."""
    return format_time(value, "HH:mm", locale=LOCALE)


def plural(count: int, one: str, other: str) -> str:
    """The form of a noun that goes with ``count`` by the German plural rule."""
    return one if LOCALE.plural_form(abs(count)) == "one" else other


def day_and_time(value: datetime) -> str:
    """ "05.03.2026 09:30"."""
    return f"{day(value)} {clock_time(value)}"


def counted(count: int, one: str, other: str) -> str:
    """ "1 Angebot", "1.250 Angebote"."""
    return f"{number(count)} {plural(count, one, other)}"


def echoed(text: object, limit: int = ECHO_MAX) -> str:
    """Input repeated in an error line: on one line, cut after ``limit`` characters
    with "…" ("Zu „Lindowlindowlindow…“ habe ich keine Kommune gefunden.")."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"
