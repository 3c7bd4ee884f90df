"""The micro-grant part of the staff digest: the review queue and the budget in use.

The queue is listed in review order (structurally weak regions first, then submission
time). The budget of the current year is shown per municipality and per Land against
the cap, with a chart; approved money and money still under review are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.clock import aware
from core.digest_chart import BudgetBar, budget_chart
from core.grant_budget import held_amount
from core.models import GrantApplication
from core.money import format_euro
from core.reference import label
from core.staff_digest import LISTED, DigestChart, DigestSection
from core.store import UnitOfWork
from core.texts import t

UNDER_REVIEW = ("submitted", "info_requested")
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
    queue = await uow.grants.review_queue(UNDER_REVIEW)
    budgets = {b.municipality_ags: b.cap_cents for b in await uow.grants.budgets(year)}
    applications = await uow.grants.listing(year=year)
    towns, lands = _usage(applications, budgets)
    if not queue and not towns:
        return None
    # Staff act on the queue; decisions since the last digest are news as well.
    decided = sum(1 for a in applications if a.decided_at and aware(a.decided_at) >= aware(since))
    lines = _queue_lines(queue, since, tz) + _budget_lines(year, towns, lands)
    chart = None
    if towns:
        chart = DigestChart(
            CHART_FILE,
            budget_chart(
                [_bar(u) for u in towns[:CHART_BARS]],
                [_bar(u) for u in lands],
                cap_euros=max(u.cap for u in towns) / 100,
                year=year,
            ),
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
        land.cap += usage.cap
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
                date=submitted.astimezone(tz).strftime("%d.%m.%Y"),
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
