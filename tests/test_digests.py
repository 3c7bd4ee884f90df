"""Digests: skipped when empty, exact "since last digest", never doubled; staff chart."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from core.digests.members import sweep_member_digests
from core.digests.schedule import DigestSchedule
from core.digests.staff import sweep_staff_digests
from core.feature_set import all_features
from core.kernel.context import Sender
from tests.eventkit import BERLIN, add_event, add_people, berlin, outbox

OTHER_ROLE = "volunteer"  # add_people() addresses differ by role

SCHEDULE = DigestSchedule(tz=BERLIN)


async def member_sweep(db, services, now, manual=False):
    async with db.uow() as uow:
        result = await sweep_member_digests(uow, services.index, now, SCHEDULE, manual=manual)
        await uow.commit()
    return result


async def staff_sweep(db, now, manual=False):
    async with db.uow() as uow:
        result = await sweep_staff_digests(
            uow, now, SCHEDULE, all_features().staff_digest, manual=manual
        )
        await uow.commit()
    return result


async def test_member_digest_is_skipped_when_nothing_new_and_sent_once_when_there_is(
    assistant, person, services, clock, db
):
    clock.now = berlin(2026, 11, 2, 7, 0).astimezone(UTC)  # a Monday, before 08:00
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/suche Erfahrungen mit einem Bürgerbus im ländlichen Raum")
    await anna.say("/einstellungen zusammenfassung taeglich")

    clock.now = berlin(2026, 11, 2, 8, 5).astimezone(UTC)
    assert await member_sweep(db, services, clock.now) == (1, 0)  # nothing new: nothing sent
    assert await outbox(db, "member_digest") == []

    clock.advance(hours=2)
    ben = person("ben@example.org")
    await ben.register("Ben Wagner", "Görlitz")
    await ben.say("/biete Unser Bürgerbus-Konzept für Dörfer: Fahrplan, Ehrenamt, Finanzierung")
    await ben.say("/biete Leitfaden Friedhofsverwaltung")  # fits nobody

    # Anna's slot today is done; Ben is new (his first run covers since he registered).
    assert await member_sweep(db, services, clock.now) == (1, 0)
    clock.now = berlin(2026, 11, 3, 8, 0).astimezone(UTC)
    for _ in range(2):  # a restarted process sweeping again queues nothing more
        await member_sweep(db, services, clock.now)
    [digest] = await outbox(db, "member_digest")
    assert "Bürgerbus-Konzept" in digest.text and "Friedhof" not in digest.text
    assert "Ihrem Beitrag" in digest.text

    clock.now = berlin(2026, 11, 4, 8, 0).astimezone(UTC)
    assert await member_sweep(db, services, clock.now) == (1, 0)  # Anna: nothing new; Ben weekly


async def test_member_digest_follows_interests(assistant, person, services, clock, db):
    clock.now = berlin(2026, 11, 2, 7, 0).astimezone(UTC)
    carla = person("carla@example.org")
    await carla.register("Carla Neumann", "Freiburg")
    await carla.say("/interessen Pflege, Nachbarschaftshilfe")
    assert "Gespeichert" in carla.text
    await member_sweep(db, services, berlin(2026, 11, 2, 8, 0).astimezone(UTC))
    clock.now = berlin(2026, 11, 3, 9, 0).astimezone(UTC)
    dora = person("dora@example.org")
    await dora.register("Dora Krause", "Zschopau")
    await dora.say(
        "/biete Wie wir Nachbarschaftshilfe in der Pflege organisiert haben: Ehrenamtliche "
        "besuchen Pflegebedürftige, vermittelt über das Rathaus, versichert über das Land."
    )
    await member_sweep(db, services, berlin(2026, 11, 9, 8, 0).astimezone(UTC))  # weekly
    digests = await outbox(db, "member_digest")
    assert [d.address for d in digests] == ["carla@example.org"]
    assert "Ihren Interessen" in digests[0].text
    # Title up to the colon, the text under it goes on from there.
    assert digests[0].text.count("Nachbarschaftshilfe in der Pflege organisiert") == 1
    assert "\nEhrenamtliche besuchen Pflegebedürftige" in digests[0].text


async def test_staff_digest_skipped_when_empty_then_email_with_chart(assistant, person, clock, db):
    [staff] = await add_people(db, datetime(2026, 10, 1, tzinfo=UTC), 1, role="network_staff")
    async with db.uow() as uow:
        member = await uow.members.get(staff)
        member.telegram_chat_id = 4242
        member.verified_at = member.created_at
        await uow.commit()
    tuesday = berlin(2026, 11, 3, 7, 30).astimezone(UTC)
    assert await staff_sweep(db, tuesday) == (1, 0)  # nothing to report, nothing sent

    clock.now = tuesday + timedelta(hours=3)
    eva = person("eva@example.org")
    await eva.register("Eva Roth", "Templin")
    await eva.say("/biete Dorfladen als Genossenschaft")
    event_id = await add_event(db, clock.now, starts_at=berlin(2026, 11, 6, 18, 0), capacity=20)
    await assistant.handle(Sender("terminal", "eva@example.org"), f"/anmelden {event_id}")

    wednesday = berlin(2026, 11, 4, 7, 45).astimezone(UTC)
    assert await staff_sweep(db, wednesday) == (1, 2)
    assert await staff_sweep(db, wednesday) == (0, 0)
    [mail] = await outbox(db, "staff_digest")
    assert mail.channel == "email" and mail.subject == "Tagesübersicht vom 04.11.2026"
    assert "Eva Roth" in mail.text and "Dorfladen als Genossenschaft" in mail.text
    activity, network = mail.attachments
    assert activity["filename"] == "zusammenfassung-aktivitaet.png"
    assert network["filename"] == "zusammenfassung-netzwerkkarte.png"
    for chart in (activity, network):
        assert chart["content_type"] == "image/png"
        assert base64.b64decode(chart["data"]).startswith(b"\x89PNG")
    [short] = await outbox(db, "staff_digest_short")
    assert short.channel == "telegram" and "Zu prüfende Mitglieder: 1" in short.text


async def test_member_digest_never_offers_a_settled_pair_or_a_connected_author(
    assistant, person, services, clock, db
):
    from sqlalchemy import select

    from core.store.models import Match, Post

    clock.now = berlin(2026, 11, 2, 7, 0).astimezone(UTC)
    anna = person("anna@example.org")
    await anna.register("Anna Schmidt", "Prenzlau")
    await anna.say("/suche Erfahrungen mit einem Bürgerbus im ländlichen Raum")
    await anna.say("/einstellungen zusammenfassung taeglich")
    await member_sweep(db, services, berlin(2026, 11, 2, 8, 5).astimezone(UTC))

    clock.advance(hours=2)
    ben = person("ben@example.org")
    await ben.register("Ben Wagner", "Görlitz")
    await ben.say("/biete Unser Bürgerbus-Konzept für Dörfer: Fahrplan, Ehrenamt, Finanzierung")
    await ben.say("/biete Bürgerbus mit ehrenamtlichen Fahrern im ländlichen Raum")
    carla = person("carla@example.org")
    await carla.register("Carla Neumann", "Freiburg")
    await carla.say("/biete Bürgerbus im ländlichen Raum: unsere Erfahrungen seit 2019")
    async with db.uow() as uow:
        first = await uow.session.scalar(select(Post).where(Post.title.like("Unser Bürgerbus%")))
        # Anna and Ben are connected through Ben's first offer.
        pair = await uow.session.scalar(select(Match).where(Match.offer_id == first.id))
        pair.status = "accepted"
        await uow.commit()

    await member_sweep(db, services, berlin(2026, 11, 3, 8, 0).astimezone(UTC))
    [digest] = [d for d in await outbox(db, "member_digest") if d.address == "anna@example.org"]
    assert "Carla" in digest.text or "seit 2019" in digest.text
    assert "Unser Bürgerbus-Konzept" not in digest.text  # the connected pair itself
    assert "ehrenamtlichen Fahrern" not in digest.text  # a post of someone she is connected with


async def test_staff_digest_chart_and_text_count_the_same_posts(
    assistant, person, services, clock, db
):
    from core.digests.staff import build

    clock.now = berlin(2026, 11, 2, 9, 0).astimezone(UTC)
    since = clock.now
    ben = person("ben@example.org")
    await ben.register("Ben Wagner", "Görlitz")
    for n in range(3):
        await ben.say(f"/biete Konzept Nummer {n} für den Bürgerbus")
    dora = person("dora@example.org")
    await dora.register("Dora Krause", "Zschopau")
    await dora.say("/suche Erfahrungen mit einem Dorfladen")
    await dora.say("/loeschen")
    await dora.say(dora.choice("löschen"))  # her post is deleted with her data
    clock.advance(hours=1)
    async with db.uow() as uow:
        digest = await build(
            uow, since, clock.now, BERLIN, all_features().staff_digest, weekly=False
        )
    text = digest.text(BERLIN)
    assert "3 Angebote, 0 Gesuche" in text
    assert digest.figures["posts_week"] == 3  # the chart's figure: the same three


async def test_a_digest_slot_reads_as_much_for_many_readers_as_for_few(services, clock, db):
    """A weekly slot of a few thousand readers once took 18 s of the event loop: each reader
    cost several queries. What a reader's digest is built from is now read for all at once."""
    selects: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    monday = berlin(2026, 11, 2, 9, 0).astimezone(UTC)
    await add_people(db, monday, 3)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert (await member_sweep(db, services, monday))[0] == 3
        few = len(selects)
        await add_people(db, monday, 40, role=OTHER_ROLE)
        selects.clear()
        assert (await member_sweep(db, services, monday + timedelta(days=7)))[0] == 43
        many = len(selects)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert many == few
