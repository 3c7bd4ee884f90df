"""Write docs/examples/staff-digest.eml and staff-digest-chart.png from a sample network.

Usage: python docs/examples/generate_staff_digest.py

Four weeks of sample activity in an in-memory database (members, posts, proposals, an
event with registrations, a suspended address), then one staff digest built by core
and rendered by ``mail.compose`` as the email dispatcher sends it.
"""

from __future__ import annotations

import asyncio
import base64
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from core import events  # noqa: E402
from core.digests.schedule import DigestSchedule  # noqa: E402
from core.digests.staff import sweep_staff_digests  # noqa: E402
from core.events.ics import EventData  # noqa: E402
from core.feature_set import all_features  # noqa: E402
from core.members.accounts import NewMember, add_member  # noqa: E402
from core.messaging.email_outbox import prepare  # noqa: E402
from core.municipalities.directory import bundled_index  # noqa: E402
from core.municipalities.reference import _row  # noqa: E402
from core.store.models import Match, OutboxMessage, Post  # noqa: E402
from core.store.unit_of_work import Database  # noqa: E402
from mail.compose import compose, new_message_id  # noqa: E402

TZ = ZoneInfo("Europe/Berlin")
MAIL_FROM = "assistent@zukunftsraum.example"
NOW = datetime(2026, 11, 9, 6, 30, tzinfo=UTC)  # Monday 07:30 in Berlin: the week overview
TOWNS = ["05358008", "12073452", "12073572", "14626110", "08311000", "14521690"]
TITLES = [
    "Bürgerbus für die Ortsteile",
    "Mitfahrbänke im ländlichen Raum",
    "Dorfladen als Genossenschaft",
    "Leerstand in der Innenstadt beleben",
    "Pflegestützpunkt mit Nachbarschaftshilfe",
    "Jugendbeteiligung im Gemeinderat",
    "Ärztehaus in kommunaler Trägerschaft",
    "Coworking im alten Bahnhof",
]


async def sample(db: Database) -> None:
    rng = random.Random(7)
    index = bundled_index()
    async with db.uow() as uow:
        await uow.municipalities.upsert_many(_row(index.get(ags)) for ags in TOWNS)
        staff = await add_member(
            uow,
            NewMember(
                "Sabine Kluge",
                "network_staff",
                "14626110",
                email="geschaeftsstelle@zukunftsraum.example",
                consent=True,
            ),
            NOW - timedelta(days=60),
        )
        staff.verified_at = staff.created_at
        people = []
        for n, (name, ags) in enumerate(
            [
                ("Jana Becker", "12073452"),
                ("Tobias Krüger", "05358008"),
                ("Leyla Aydın", "08311000"),
                ("Frank Hoffmann", "14521690"),
                ("Mira Schulz", "12073572"),
            ]
        ):
            member = await add_member(
                uow,
                NewMember(
                    name,
                    "mayor" if n % 2 else "municipal_staff",
                    ags,
                    email=f"person{n}@kommune.example",
                    consent=True,
                ),
                NOW - timedelta(days=40 - n * 9),
            )
            if n < 3:
                member.verified_at = member.created_at
            people.append(member)
        people[1].email_suspended_at = NOW - timedelta(days=2)
        await uow.flush()
        posts = []
        for day in range(28, 0, -1):
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                author = rng.choice(people)
                created = NOW - timedelta(days=day, hours=rng.randint(0, 10))
                post = Post(
                    kind=rng.choice(["offer", "request"]),
                    title=rng.choice(TITLES),
                    body="",
                    topics=[],
                    municipality_ags=author.municipality_ags,
                    author_id=author.id,
                    status="open",
                    created_at=created,
                    updated_at=created,
                    expires_at=created + timedelta(days=90),
                )
                uow.add(post)
                posts.append(post)
        await uow.flush()
        offers = [p for p in posts if p.kind == "offer"]
        requests = [p for p in posts if p.kind == "request"]
        for offer, request in zip(offers, requests, strict=False):
            if rng.random() < 0.7:
                later = max(offer.created_at, request.created_at)
                uow.add(
                    Match(
                        offer_id=offer.id,
                        request_id=request.id,
                        score=0.6,
                        reason="Mobilität",
                        status="proposed",
                        created_at=later + timedelta(hours=1),
                    )
                )
        meeting = await events.create(
            uow,
            EventData(
                title="Jahrestreffen des Netzwerks Zukunftsraum",
                kind="meeting",
                starts_at=datetime(2026, 11, 26, 10, 0, tzinfo=TZ),
                location="Görlitz, Rathaus",
                capacity=3,
            ),
            NOW - timedelta(days=20),
            events.ReminderDefaults(),
        )
        seminar = await events.create(
            uow,
            EventData(
                title="Online-Seminar: Daseinsvorsorge gemeinsam planen",
                starts_at=datetime(2026, 11, 12, 14, 0, tzinfo=TZ),
                url="https://konferenz.example/ds",
            ),
            NOW - timedelta(days=20),
            events.ReminderDefaults(),
        )
        for member in people:
            await events.register(uow, member, meeting.id, NOW - timedelta(days=10), TZ)
        for member in people[:2]:
            await events.register(uow, member, seminar.id, NOW - timedelta(days=10), TZ)
        uow.add(
            OutboxMessage(
                member_id=people[1].id,
                channel="email",
                address="x",
                kind="match_proposal",
                subject="",
                text="",
                choices=[],
                status="failed",
                attempts=8,
                created_at=NOW - timedelta(days=1),
                not_before=NOW - timedelta(days=1),
            )
        )
        await uow.commit()


async def main() -> None:
    db = Database("sqlite+aiosqlite://")
    await db.create_all()
    await sample(db)
    async with db.uow() as uow:
        await sweep_staff_digests(uow, NOW, DigestSchedule(tz=TZ), all_features().staff_digest)
        await uow.commit()
        message = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_digest")
        )
        item = await prepare(uow, message, NOW, lambda: new_message_id(MAIL_FROM))
    mail = compose(item, MAIL_FROM, all_features().grammar, NOW)
    out = ROOT / "docs" / "examples"
    (out / "staff-digest.eml").write_bytes(bytes(mail))
    (out / "staff-digest-chart.png").write_bytes(base64.b64decode(message.attachments[0]["data"]))
    await db.dispose()
    print(f"wrote {out / 'staff-digest.eml'} and {out / 'staff-digest-chart.png'}")


if __name__ == "__main__":
    asyncio.run(main())
