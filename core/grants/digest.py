"""The micro-grant part of the staff digest: the review queue and the budget in use.

The queue is listed in review order (structurally weak regions first, then submission
time); applications waiting for the applicant's answer to a question are counted apart,
since staff cannot act on them. The budget of the current year is shown per municipality
and per Land against the cap, with a chart; approved money and money still under review
are told apart. What makes the section news: applications to review and decisions taken
since the last digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.grants.budget import held_amount
from core.kernel import german_format
from core.kernel.clock import aware
from core.kernel.money import format_euro
from core.kernel.texts import t
from core.municipalities.reference import label
from core.reporting.charts import BudgetBar, budget_chart
from core.reporting.sections import LISTED, DigestChart, DigestSection
from core.store.models import GrantApplication
from core.store.unit_of_work import UnitOfWork

TO_REVIEW = ("submitted",)
WAITING_FOR_APPLICANT = ("info_requested",)
GRANTED = ("approved", "proof_submitted", "paid")
CHART_FILE = "zusammenfassung-foerderbudget.png"
CHART_BARS = 12


@dataclass
class Usage:
    """What one municipality (or one Land) holds of the year's budget, in cents."""

    name: str
    land: str = ""
    granted: int = 0
    pending: int = 0
    cap: int = 0
    municipalities: int = 0

    @property
    def used(self) -> int:
        return self.granted + self.pending


async def staff_section(
    uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo
) -> DigestSection | None:
    year = aware(now).astimezone(tz).year
    queue = await uow.grants.review_queue(TO_REVIEW)
    waiting = len(await uow.grants.review_queue(WAITING_FOR_APPLICANT))
    decided = await uow.grants.decided_between(since, now)
    budgets = {b.municipality_ags: b.cap_cents for b in await uow.grants.budgets(year)}
    towns, lands = _usage(await uow.grants.listing(year=year), budgets)
    if not queue and not waiting and not decided and not towns:
        return None
    lines = _queue_lines(queue, since, tz)
    if waiting:
        lines.append(t("digest.grants_waiting", count=waiting))
    if decided:
        lines.append(t("digest.grants_decided", count=decided))
    lines += _budget_lines(year, towns, lands)
    chart = None
    if towns:
        town_bars = [_bar(u) for u in towns[:CHART_BARS]]
        land_bars = [_bar(u) for u in lands]
        cap = max(u.cap for u in towns) / 100
        chart = DigestChart(
            CHART_FILE,
            lambda: budget_chart(town_bars, land_bars, cap_euros=cap, year=year),
            t("digest.grants_chart_note", year=year),
        )
    return DigestSection(
        t("digest.grants_title", count=len(queue)),
        lines,
        len(queue) + decided,
        key="grants",
        chart=chart,
    )


def _usage(
    applications: list[GrantApplication], caps: dict[str, int]
) -> tuple[list[Usage], list[Usage]]:
    """Per municipality and per Land, most used first."""
    towns: dict[str, Usage] = {}
    for application in applications:
        held = held_amount(application)
        if not held:
            continue
        ags = application.municipality_ags
        if ags not in towns:
            town = application.municipality
            towns[ags] = Usage(label(town), town.land_name, cap=caps.get(ags, 0), municipalities=1)
        usage = towns[ags]
        if application.state in GRANTED:
            usage.granted += held
        else:
            usage.pending += held
    lands: dict[str, Usage] = {}
    for usage in towns.values():
        land = lands.setdefault(usage.land, Usage(usage.land))
        land.granted += usage.granted
        land.pending += usage.pending
        land.municipalities += 1
    return _most_used(towns.values()), _most_used(lands.values())


def _most_used(usages) -> list[Usage]:
    return sorted(usages, key=lambda u: (-u.used, u.name))


def _queue_lines(queue: list[GrantApplication], since: datetime, tz: ZoneInfo) -> list[str]:
    lines = []
    for application in queue[:LISTED]:
        submitted = aware(application.submitted_at or application.created_at)
        lines.append(
            t(
                "digest.grants_queue_line",
                id=application.id,
                town=label(application.municipality),
                title=application.title,
                amount=format_euro(application.requested_cents),
                date=german_format.day(submitted.astimezone(tz)),
                new=t("digest.grants_new") if submitted >= aware(since) else "",
                weak=t("digest.grants_weak")
                if application.municipality.is_structurally_weak
                else "",
                state=t(f"grants.state.{application.state}"),
            )
        )
    if len(queue) > LISTED:
        lines.append(t("digest.more", count=len(queue) - LISTED))
    return lines


def _budget_lines(year: int, towns: list[Usage], lands: list[Usage]) -> list[str]:
    if not towns:
        return []
    granted = sum(u.granted for u in towns)
    pending = sum(u.pending for u in towns)
    lines = [
        t(
            "digest.grants_budget_total",
            year=year,
            granted=format_euro(granted),
            pending=format_euro(pending),
            count=len(towns),
        )
    ]
    lines += [
        t(
            "digest.grants_budget_town",
            town=u.name,
            used=format_euro(u.used),
            cap=format_euro(u.cap),
            percent=round(100 * u.used / u.cap) if u.cap else 0,
        )
        for u in towns[:LISTED]
    ]
    if len(towns) > LISTED:
        lines.append(t("digest.more", count=len(towns) - LISTED))
    lines += [
        t(
            "digest.grants_budget_land",
            land=u.name,
            used=format_euro(u.used),
            count=u.municipalities,
        )
        for u in lands
    ]
    return lines


def _bar(usage: Usage) -> BudgetBar:
    return BudgetBar(usage.name, usage.granted / 100, usage.pending / 100)
