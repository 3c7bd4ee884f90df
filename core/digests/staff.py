"""The staff digest: what the network's office should look at this morning.

Sections come from the features (``core/feature_set.py`` lists them in digest order):
members to verify, new posts and proposals, the grant queue with the budget in use,
upcoming events with registrations, and delivery problems; with a chart of the last
four weeks, and a section may add a chart of its own. Weekdays at
``ZR_STAFF_DIGEST_TIME``; the Monday digest is the week overview. It always goes by
email (with the chart inline); staff who prefer Telegram also get a short version
there. Nothing is sent when there is nothing to report.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.digests.schedule import (
    DigestSchedule,
    last_runs,
    manual_period,
    period_name,
    record,
    staff_slot,
)
from core.events import calendar as event_cases
from core.events.timing import local_text
from core.kernel.clock import aware
from core.kernel.replies import Attachment, Reply
from core.kernel.texts import t
from core.members.roles import role_label
from core.messaging.outbox import channel_for, enqueue
from core.municipalities.reference import label
from core.reporting.charts import activity_chart
from core.reporting.sections import LISTED, DigestChart, DigestSection, SectionBuilder
from core.store.unit_of_work import UnitOfWork

CHART_DAYS = 28
EVENT_HORIZON = timedelta(days=60)
SOON = timedelta(days=7)
CHART_FILE = "zusammenfassung-aktivitaet.png"


@dataclass
class StaffDigest:
    since: datetime
    until: datetime
    weekly: bool
    sections: list[DigestSection]
    chart: DigestChart | None = None
    figures: dict[str, int] = field(default_factory=dict)
    # The drawn charts, filled by ``draw_charts`` once the digest is known to be sent.
    pictures: list[tuple[DigestChart, bytes]] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(s.items for s in self.sections)

    def subject(self, tz: ZoneInfo) -> str:
        day = aware(self.until).astimezone(tz).strftime("%d.%m.%Y")
        return t("digest.staff_subject_weekly" if self.weekly else "digest.staff_subject", date=day)

    def text(self, tz: ZoneInfo) -> str:
        head = t(
            "digest.staff_intro",
            since=local_text(self.since, tz),
            until=local_text(self.until, tz),
        )
        blocks = [head]
        for section in self.sections:
            blocks.append(section.title + "\n" + "\n".join(f"• {line}" for line in section.lines))
        notes = [chart.note for chart in self.charts]
        if notes:
            blocks.append("\n".join(notes))
        return "\n\n".join(blocks)

    @property
    def charts(self) -> list[DigestChart]:
        own = [self.chart] if self.chart else []
        return own + [s.chart for s in self.sections if s.chart is not None]

    async def draw_charts(self) -> None:
        if not self.pictures:
            self.pictures = [(c, await asyncio.to_thread(c.draw)) for c in self.charts]

    def short_text(self, tz: ZoneInfo) -> str:
        return t(
            "digest.staff_short",
            subject=self.subject(tz),
            verify=self.figures.get("verify", 0),
            posts_week=self.figures.get("posts_week", 0),
            matches_week=self.figures.get("matches_week", 0),
        )

    def email_reply(self, tz: ZoneInfo) -> Reply:
        attachments = [Attachment(c.filename, "image/png", png) for c, png in self.pictures]
        return Reply(self.text(tz), attachments=attachments, ref="digest:staff")


# --- sections -----------------------------------------------------------------------


async def to_verify_section(uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo):
    waiting = [m for m in await uow.members.list(unverified_only=True) if not m.is_staff]
    if not waiting:
        return None
    lines = [
        t(
            "digest.verify_line",
            id=m.id,
            name=m.name,
            role=role_label(m.role),
            town=label(m.municipality),
            date=aware(m.created_at).astimezone(tz).strftime("%d.%m.%Y"),
        )
        for m in waiting[:LISTED]
    ]
    if len(waiting) > LISTED:
        lines.append(t("digest.more", count=len(waiting) - LISTED))
    return DigestSection(
        t("digest.verify_title", count=len(waiting)), lines, len(waiting), key="verify"
    )


async def exchange_section(uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo):
    # The posts a digest counts: created in [since, now), not deleted.
    posts = await uow.posts.created_between(since, now)
    matches = Counter(await uow.matches.statuses_created_between(since, now))
    accepted = await uow.matches.accepted_between(since, now)
    if not posts and not matches and not accepted:
        return None
    kinds = Counter(p.kind for p in posts)
    lines = [
        t(
            "digest.exchange_counts",
            offers=kinds["offer"],
            requests=kinds["request"],
            matches=sum(matches.values()),
            accepted=accepted or 0,
        )
    ]
    lines += [
        t(
            "digest.post_line",
            kind=t(f"posts.kind.{p.kind}"),
            title=p.title,
            town=label(p.municipality),
        )
        for p in posts[:LISTED]
    ]
    if len(posts) > LISTED:
        lines.append(t("digest.more", count=len(posts) - LISTED))
    items = len(posts) + sum(matches.values()) + (accepted or 0)
    return DigestSection(t("digest.exchange_title"), lines, items)


async def events_section(uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo):
    upcoming = [
        e for e in await event_cases.upcoming(uow, now) if aware(e.starts_at) <= now + EVENT_HORIZON
    ]
    if not upcoming:
        return None
    numbers = await event_cases.counts(uow, [e.id for e in upcoming])
    lines = []
    for event in upcoming[:LISTED]:
        n = numbers[event.id]
        capacity = f"/{event.capacity}" if event.capacity else ""
        lines.append(
            t(
                "digest.event_line",
                title=event.title,
                when=local_text(event.starts_at, tz),
                registered=n["registered"],
                capacity=capacity,
                waiting=n["waiting"],
            )
        )
    soon = sum(1 for e in upcoming if aware(e.starts_at) <= now + SOON)
    return DigestSection(t("digest.events_title"), lines, soon)


async def delivery_section(uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo):
    failed = Counter(await uow.outbox.failed_channels_since(since - timedelta(days=7)))
    suspended = await uow.members.email_suspended()
    unreachable = await uow.members.telegram_unreachable()
    # Incoming mails set aside after repeated failures wait for an operator (mail failed).
    inbound_failed = await uow.inbound.count("failed")
    # Messages that met a dead address and had no other channel: staff must reach them.
    unrouted = await uow.outbox.unrouted_per_member(since - timedelta(days=7))
    lines = [
        t("digest.failed_line", channel=t(f"settings.channel.{c}"), count=n)
        for c, n in sorted(failed.items())
    ]
    if inbound_failed:
        lines.append(t("digest.inbound_failed_line", count=inbound_failed))
    lines += [t("digest.unrouted_line", id=i, name=name, count=n) for i, name, n in unrouted]
    lines += [t("digest.suspended_line", id=m.id, name=m.name) for m in suspended[:LISTED]]
    lines += [t("digest.unreachable_line", id=m.id, name=m.name) for m in unreachable[:LISTED]]
    if not lines:
        return None
    items = (
        sum(failed.values())
        + sum(n for *_, n in unrouted)
        + len(suspended)
        + len(unreachable)
        + (inbound_failed or 0)
    )
    return DigestSection(t("digest.delivery_title"), lines, items)


# --- chart ----------------------------------------------------------------------------


async def activity(
    uow: UnitOfWork, now: datetime, tz: ZoneInfo
) -> tuple[list[date], list[int], list[int]]:
    """New posts and proposals per local day, the last ``CHART_DAYS`` days."""
    today = aware(now).astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    start = now - timedelta(days=CHART_DAYS + 1)
    # The same posts and proposals the text counts, so chart and text agree.
    post_times = await uow.posts.creation_times(start, now)
    match_times = await uow.matches.creation_times(start, now)

    def per_day(times: Sequence[datetime]) -> list[int]:
        counted = Counter(aware(x).astimezone(tz).date() for x in times)
        return [counted[d] for d in days]

    return days, per_day(post_times), per_day(match_times)


async def build(
    uow: UnitOfWork,
    since: datetime,
    now: datetime,
    tz: ZoneInfo,
    sections: Sequence[SectionBuilder],
    *,
    weekly: bool,
) -> StaffDigest:
    built = [await builder(uow, since, now, tz) for builder in sections]
    digest = StaffDigest(since=since, until=now, weekly=weekly, sections=[s for s in built if s])
    days, posts, matches = await activity(uow, now, tz)
    digest.figures = {
        "verify": sum(s.items for s in digest.sections if s.key == "verify"),
        "posts_week": sum(posts[-7:]),
        "matches_week": sum(matches[-7:]),
    }
    digest.chart = DigestChart(
        CHART_FILE, lambda: activity_chart(days, posts, matches), t("digest.chart_note")
    )
    return digest


# --- the sweep ------------------------------------------------------------------------


async def sweep_staff_digests(
    uow: UnitOfWork,
    now: datetime,
    schedule: DigestSchedule,
    sections: Sequence[SectionBuilder],
    *,
    manual: bool = False,
) -> tuple[int, int]:
    """Build the due staff digests; returns (runs recorded, messages queued)."""
    slot = staff_slot(now, schedule)
    previous = await last_runs(uow, "staff")
    tz = schedule.tz
    weekly = slot.astimezone(tz).weekday() == schedule.weekly_day
    built: dict[datetime, StaffDigest] = {}
    runs = queued = 0
    for member in await uow.members.staff():
        last = previous.get(member.id)
        if not manual and last is not None and aware(last.covered_until) >= slot:
            continue
        since = aware(last.covered_until) if last else now - timedelta(days=7 if weekly else 1)
        if since not in built:
            built[since] = await build(uow, since, now, tz, sections, weekly=weekly)
        digest = built[since]
        period = manual_period(now) if manual else period_name(slot, tz)
        record(uow, member.id, "staff", period, since, now, digest.items)
        runs += 1
        if not digest.items:
            continue
        await digest.draw_charts()
        key = f"digest:staff:{member.id}:{period}"
        email = enqueue(
            uow,
            member,
            digest.email_reply(tz),
            kind="staff_digest",
            subject=digest.subject(tz),
            now=now,
            dedupe_key=key,
            channel="email",
        )
        queued += email is not None
        target = channel_for(member)
        if target is not None and target[0] == "telegram":
            short = enqueue(
                uow,
                member,
                Reply(digest.short_text(tz), ref="digest:staff"),
                kind="staff_digest_short",
                now=now,
                dedupe_key=key + ":telegram",
                channel="telegram",
            )
            queued += short is not None
    return runs, queued
