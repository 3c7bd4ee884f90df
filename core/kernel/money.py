"""Euro amounts as integer cents: parsing German notation and formatting it back.

Members write "1.250,50 €", "800 €", "800,-" or "1250.50 EUR"; all of these
become integer cents. Anything ambiguous or implausible is refused with a
German message instead of being guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.kernel import german_format
from core.kernel.errors import UserError

# The largest amount anyone could plausibly mean in this programme: a guard against typos
# such as "5000000" for "5.000,00", long before the budget check.
ABSURD_CENTS = 10_000_000 * 100

_CURRENCY = re.compile(r"(?:€|\beur(?:o)?\b|\beuro\b)", re.IGNORECASE)
_DASH_CENTS = re.compile(r"[,.]\s*[-–—]+$")  # "800,-" / "800,–"
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_GROUPED_DOTS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")  # 1.250 / 12.500.000
_GROUPED_COMMAS = re.compile(r"^\d{1,3}(?:,\d{3})+$")  # 1,250 as in 1,250.50
# An amount as written inside a sentence: "1.250,50", "800,-", "-50" (refused later).
AMOUNT = r"[-−]?\d[\d.,]*(?:,[-–—]+)?"
CURRENCY = r"(?:€|eur(?:o)?)"


def parse_euro(text: str) -> int:
    """German (or plain) euro notation -> cents; raises ``UserError`` on anything unclear."""
    raw = (text or "").strip()
    if not raw:
        raise UserError.of("money.missing")
    cleaned = _CURRENCY.sub("", raw).strip()
    negative = cleaned[:1] in ("-", "−", "–")
    if negative:
        raise UserError.of("money.negative", value=raw[:40])
    cleaned = _DASH_CENTS.sub("", cleaned)
    cleaned = _SPACES.sub("", cleaned)
    number = _to_decimal(cleaned)
    if number is None:
        raise UserError.of("money.unreadable", value=raw[:40])
    cents = number * 100
    if cents != cents.to_integral_value():
        raise UserError.of("money.too_precise", value=raw[:40])
    if cents <= 0:
        raise UserError.of("money.not_positive")
    if cents > ABSURD_CENTS:
        raise UserError.of("money.absurd", value=raw[:40])
    return int(cents)


def _to_decimal(text: str) -> Decimal | None:
    if not text or not re.fullmatch(r"[\d.,]+", text):
        return None
    if "," in text and "." in text:
        # The separator that comes last is the decimal one: 1.250,50 (German) or 1,250.50.
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = text.rpartition(decimal_sep)
        groups = _GROUPED_DOTS if group_sep == "." else _GROUPED_COMMAS
        if not re.fullmatch(r"\d{1,3}", whole) and not groups.match(whole):
            return None
        text = whole.replace(group_sep, "") + "." + fraction
    elif "," in text:
        whole, _, fraction = text.partition(",")
        if "," in fraction or not whole or not fraction:
            return None
        text = f"{whole}.{fraction}"  # German: "12,345" has three decimals (refused later)
    elif "." in text:
        if _GROUPED_DOTS.match(text):
            text = text.replace(".", "")  # German thousands: 1.250
        elif text.count(".") > 1:
            return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def format_euro(cents: int) -> str:
    """12_505_050 -> "125.050,50 €" (German notation, always two decimals)."""
    return german_format.euro(cents)


def plain_euro(cents: int) -> str:
    """Machine-readable euros with two decimals for exports: 1250.50."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros}.{rest:02d}"
