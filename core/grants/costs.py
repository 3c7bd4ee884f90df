"""Cost plan lines of a grant application, read from one line of text each.

"Beratung 2 Tage à 800 €"        -> consulting, 2 days × 800,00 € = 1.600,00 €
"Fahrt Prenzlau–Görlitz 120 €"   -> travel, 120,00 €
"Raummiete 150,-"                -> other, 150,00 €

Consulting is always days × day rate, so the programme's maximum day rate can
be checked; a lump sum for consulting is refused with an explanation.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.kernel.errors import UserError
from core.kernel.grammar import fold
from core.kernel.money import AMOUNT, CURRENCY, format_euro, parse_euro

LINES_MAX = 20
LABEL_MAX = 120
DAYS_MAX = Decimal(60)

_DAYS = re.compile(
    r"^(?P<label>.*?)\s*(?P<days>\d+(?:[.,]\d{1,2})?)\s*"
    r"(?:beratungs|berater|moderations|personen)?(?:tage?n?|tg\.?|pt)\s*"
    r"(?:à|á|a|x|×|\*|@|zu(?:\s+je)?|je|mal)\s*(?P<rate>.+?)"
    r"\s*(?:(?:/|pro|je)\s*tag)?\s*$",
    re.IGNORECASE,
)
_AMOUNT_AT_END = re.compile(rf"(?:^|(?<=\s))(?P<amount>{AMOUNT})\s*{CURRENCY}?\s*$", re.IGNORECASE)
_TRAVEL_WORDS = (
    "fahrt",
    "reise",
    "anreise",
    "bahn",
    "zug",
    "ticket",
    "fahrkarte",
    "bus",
    "flug",
    "taxi",
    "km",
    "kilometer",
    "hotel",
    "uebernachtung",
    "mietwagen",
)
_CONSULTING_WORDS = ("berat", "moderat", "honorar", "coach", "gutacht", "referent")


@dataclass(frozen=True)
class CostLine:
    kind: str  # consulting | travel | other
    label: str
    amount_cents: int
    days: str | None = None  # decimal as text, e.g. "1.5"
    rate_cents: int | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict) -> CostLine:
        return cls(**data)

    def describe(self) -> str:
        """German one-liner, e.g. "Beratung: 2 Tage à 800,00 € = 1.600,00 €"."""
        if self.days is not None and self.rate_cents is not None:
            days = self.days.replace(".", ",")
            unit = "Tag" if Decimal(self.days) == 1 else "Tage"
            rate = format_euro(self.rate_cents)
            return f"{self.label}: {days} {unit} à {rate} = {format_euro(self.amount_cents)}"
        return f"{self.label}: {format_euro(self.amount_cents)}"


def parse_line(text: str, max_day_rate_cents: int) -> CostLine:
    line = " ".join(text.replace("\u00a0", " ").split()).lstrip("-–•* ").strip()
    if not line:
        raise UserError.of("grants.cost_empty")
    days_match = _DAYS.match(line)
    if days_match:
        return _consulting(days_match, max_day_rate_cents)
    amount_match = _AMOUNT_AT_END.search(line)
    if amount_match is None:
        raise UserError.of("grants.cost_unreadable", line=line[:80])
    label = _label(line[: amount_match.start()])
    if re.search(r"\d\s*(?:€|eur)", label, re.IGNORECASE):
        raise UserError.of("grants.cost_one_per_line", line=line[:80])
    amount = parse_euro(amount_match.group("amount"))
    kind = _kind(label)
    if kind == "consulting":
        raise UserError.of("grants.cost_consulting_needs_days", line=line[:80])
    return CostLine(kind=kind, label=label, amount_cents=amount)


def _consulting(match: re.Match, max_day_rate_cents: int) -> CostLine:
    days = Decimal(match.group("days").replace(",", "."))
    if days <= 0 or days > DAYS_MAX:
        raise UserError.of("grants.cost_days", max=int(DAYS_MAX))
    rate = parse_euro(match.group("rate"))
    if rate > max_day_rate_cents:
        raise UserError.of(
            "grants.day_rate_too_high", rate=format_euro(rate), max=format_euro(max_day_rate_cents)
        )
    label = match.group("label").strip(" :-–") or "Beratung"
    amount = int((days * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return CostLine(
        kind="consulting",
        label=_label(label),
        amount_cents=amount,
        days=format(days.normalize(), "f"),
        rate_cents=rate,
    )


def _label(text: str) -> str:
    label = text.strip(" :-–—=")
    if not label:
        raise UserError.of("grants.cost_label_missing")
    if len(label) > LABEL_MAX:
        raise UserError.of("grants.cost_label_too_long", max=LABEL_MAX)
    return label


def _kind(label: str) -> str:
    words = re.findall(r"\w+", fold(label))
    if any(w.startswith(_CONSULTING_WORDS) for w in words):
        return "consulting"
    if any(w.startswith(_TRAVEL_WORDS) or w.endswith(("fahrt", "reise")) for w in words):
        return "travel"
    return "other"


def parse_lines(text: str, max_day_rate_cents: int) -> list[CostLine]:
    """Several lines at once (an email form's "Kosten:" field, a pasted list)."""
    return [parse_line(line, max_day_rate_cents) for line in text.splitlines() if line.strip()]


def total(lines: list[CostLine]) -> int:
    return sum(line.amount_cents for line in lines)
