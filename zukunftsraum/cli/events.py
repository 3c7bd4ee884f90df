"""``zukunftsraum events …`` and ``zukunftsraum digest send`` (registered in ``cli``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from core.digests.members import sweep_member_digests
from core.digests.staff import sweep_staff_digests
from core.events import calendar as event_cases
from core.events import material as event_material
from core.events.ics import EventData, read_calendar
from core.events.timing import local_text, parse_local, parse_reminders
from core.kernel.german_format import counted
from scheduler.config import digest_schedule, reminder_defaults
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import FormatOption, async_command, checked_format, fail, open_app, out
from zukunftsraum.cli.labels import event_status_label as status_label

events_app = typer.Typer(help="Seminare, Kurse und Netzwerktreffen.", no_args_is_help=True)
digest_app = typer.Typer(help="Zusammenfassungen.", no_args_is_help=True)


@events_app.command("add")
@async_command
async def events_add(
    title: Annotated[str, typer.Option(help="Titel")],
    start: Annotated[str, typer.Option(help="Beginn, Ortszeit: 2026-12-03 10:00")],
    end: Annotated[str | None, typer.Option(help="Ende, Ortszeit")] = None,
    kind: Annotated[
        str,
        typer.Option(
            help="Art: Online-Seminar (seminar), E-Learning-Kurs (course) oder "
            "Netzwerktreffen (meeting)"
        ),
    ] = "Online-Seminar",
    description: Annotated[str, typer.Option(help="Beschreibung")] = "",
    location: Annotated[str, typer.Option(help="Ort")] = "",
    url: Annotated[str, typer.Option(help="Link (Online-Seminar)")] = "",
    capacity: Annotated[int | None, typer.Option(help="Plätze (sonst unbegrenzt)")] = None,
    reminders: Annotated[
        str | None,
        typer.Option(
            help="Erinnerungen vor Beginn, mit Kommas getrennt, z. B. „7 Tage, 1 Tag, "
            "2 Stunden“ oder „1 Woche, 30 Minuten“ (auch ISO 8601: P7D,PT2H)"
        ),
    ] = None,
    course: Annotated[int | None, typer.Option(help="Nr. des Kurses (für ein Modul)")] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="als Entwurf, noch nicht veröffentlichen")
    ] = False,
) -> None:
    """Einen Termin anlegen (und veröffentlichen)."""
    chosen_kind = cli_labels.parse_event_kind(kind)
    if chosen_kind is None:
        fail(
            f"Unbekannte Art „{kind}“. Möglich: Online-Seminar, E-Learning-Kurs, Netzwerktreffen.",
            2,
        )
    async with open_app() as application, application.db.uow() as uow:
        tz = application.settings.tz
        parent_uid = (await event_cases.get(uow, course)).uid if course else None
        data = EventData(
            title=title,
            starts_at=parse_local(start, tz),
            ends_at=parse_local(end, tz) if end else None,
            kind=chosen_kind,
            description=description,
            location=location,
            url=url,
            capacity=capacity,
            reminder_offsets=parse_reminders(reminders) if reminders else None,
            parent_uid=parent_uid,
        )
        now = application.services.clock()
        if data.starts_at <= now:
            fail(f"Der Beginn {local_text(data.starts_at, tz)} liegt in der Vergangenheit.", 2)
        defaults = reminder_defaults(application.settings)
        event = await event_cases.create(uow, data, now, defaults, publish=not draft)
        await uow.commit()
        when = local_text(event.starts_at, tz)
    status = cli_labels.event_status_label(event.status)
    out.print(f"Termin {event.id} angelegt ({status}): {event.title}, {when}")


@events_app.command("import")
@async_command
async def events_import(
    file: Annotated[Path, typer.Argument(metavar="DATEI", help="iCalendar-Datei (.ics)")],
) -> None:
    """Termine aus einer iCalendar-Datei anlegen oder aktualisieren (gleiche UID)."""
    data = file.read_bytes()
    async with open_app() as application, application.db.uow() as uow:
        tz = application.settings.tz
        now = application.services.clock()
        defaults = reminder_defaults(application.settings)
        created = updated = announced = 0
        for item in read_calendar(data, tz):
            existing = await event_cases.by_uid(uow, item.uid or "")
            if existing is None:
                await event_cases.create(uow, item, now, defaults)
                created += 1
            else:
                announced += await event_cases.update_event(uow, existing, item, now, defaults, tz)
                updated += 1
        await uow.commit()
    out.print(
        f"{counted(created, 'Termin', 'Termine')} angelegt, {updated} aktualisiert, "
        f"{counted(announced, 'Änderung', 'Änderungen')} an die Angemeldeten gemeldet."
    )


@events_app.command("list")
@async_command
async def events_list(
    all_: Annotated[bool, typer.Option("--all", help="auch Entwürfe")] = False,
    format: FormatOption = "tabelle",
) -> None:
    """Kommende Termine mit Anmeldungen."""
    checked_format(format)
    async with open_app() as application, application.db.uow() as uow:
        tz = application.settings.tz
        now = application.services.clock()
        upcoming = await event_cases.upcoming(uow, now, include_drafts=all_)
        numbers = await event_cases.counts(uow, [e.id for e in upcoming])
    rows = [
        {
            "id": event.id,
            "kind": event.kind,
            "title": event.title,
            "starts_at": event.starts_at.isoformat(),
            "starts": local_text(event.starts_at, tz),
            "place": event.location or event.url,
            "capacity": event.capacity,
            "registered": numbers[event.id]["registered"],
            "waiting": numbers[event.id]["waiting"],
            "status": event.status,
        }
        for event in upcoming
    ]
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
            tables.Column("Beginn", lambda r: _short_time(r["starts_at"], tz), wrap=False),
            tables.Column("Art", lambda r: cli_labels.event_kind_label(r["kind"]), wrap=False),
            tables.Column("Titel", _title, limit=90),
            tables.Column("Ort / Link", lambda r: r["place"], limit=30),
            tables.Column("Anmeld.", _seats, wrap=False, right=True),
        ],
        empty="Keine kommenden Termine.",
    )


def _short_time(iso: str, tz) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%d.%m.%Y %H:%M")


def _title(row: dict) -> str:
    """The title; a draft (listed with --all) says so: "Werkstatt (Entwurf)"."""
    if row["status"] == "published":
        return row["title"]
    return f"{row['title'][:78]} ({status_label(row['status'])})"


def _seats(row: dict) -> str:
    """Registered of capacity, and the waiting list: "12/25", "25/25 +3", "4" (no limit)."""
    seats = f"{row['registered']}/{row['capacity']}" if row["capacity"] else str(row["registered"])
    return f"{seats} +{row['waiting']}" if row["waiting"] else seats


@events_app.command("cancel")
@async_command
async def events_cancel(
    event_id: Annotated[int, typer.Argument(metavar="NR", help="Nr. des Termins")],
) -> None:
    """Einen Termin absagen; alle Angemeldeten werden benachrichtigt."""
    async with open_app() as application, application.db.uow() as uow:
        event = await event_cases.get(uow, event_id)
        await event_cases.cancel(uow, event, application.services.clock(), application.settings.tz)
        await uow.commit()
    out.print(f"Termin {event.id} ({event.title}) ist abgesagt.")


# The arguments of linking an event's material, and of lifting that link.
EventNumber = Annotated[int, typer.Argument(metavar="NR", help="Nr. des Termins")]
EntryOption = Annotated[int, typer.Option(help="Nr. des Eintrags der Wissenssammlung")]


@events_app.command("link")
@async_command
async def events_link(
    event_id: EventNumber,
    entry: EntryOption,
) -> None:
    """Aufzeichnung, Folien o. Ä. aus der Wissenssammlung mit einem Termin verknüpfen.

    Ist der Termin vorbei, erfahren alle, die angemeldet waren, einmal davon."""
    async with open_app() as application, application.db.uow() as uow:
        now, tz = application.services.clock(), application.settings.tz
        event, linked, told = await event_material.link(uow, event_id, entry, now, tz)
        await uow.commit()
    out.print(
        f"Eintrag {linked.id} ({linked.title}) gehört jetzt zu Termin {event.id} ({event.title})."
    )
    if told:
        out.print(f"{counted(told, 'Person', 'Personen')} benachrichtigt, die angemeldet waren.")


@events_app.command("unlink")
@async_command
async def events_unlink(
    event_id: EventNumber,
    entry: EntryOption,
) -> None:
    """Die Verknüpfung eines Eintrags mit einem Termin lösen."""
    async with open_app() as application, application.db.uow() as uow:
        event = await event_material.unlink(uow, event_id, entry)
        await uow.commit()
    out.print(f"Eintrag {entry} gehört nicht mehr zu Termin {event.id} ({event.title}).")


@digest_app.command("send")
@async_command
async def digest_send(
    staff: Annotated[
        bool, typer.Option("--staff", help="Zusammenfassung der Geschäftsstelle")
    ] = False,
    members: Annotated[
        bool, typer.Option("--members", help="Zusammenfassungen der Mitglieder")
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="sofort für alle, auch wenn noch nicht fällig")
    ] = False,
) -> None:
    """Zusammenfassungen bauen und in den Postausgang stellen (ohne --now: nur fällige)."""
    if staff == members:
        fail("Bitte genau eine Option angeben: --staff oder --members.", 2)
    async with open_app() as application, application.db.uow() as uow:
        schedule = digest_schedule(application.settings)
        moment = application.services.clock()
        if staff:
            runs, queued = await sweep_staff_digests(
                uow, moment, schedule, application.services.features.staff_digest, manual=now
            )
        else:
            index = application.services.index
            runs, queued = await sweep_member_digests(
                uow,
                index,
                moment,
                schedule,
                manual=now,
                knowledge=application.services.knowledge,
            )
        await uow.commit()
        has_staff = any(member.is_staff for member in await uow.members.list())
    if staff and not has_staff:
        fail(
            "Es gibt noch kein Mitglied der Geschäftsstelle. Anlegen mit: zukunftsraum members "
            "add --role network_staff --email … --name … --municipality AGS --verified",
            1,
        )
    if runs == 0:
        out.print("Keine Zusammenfassung fällig (mit --now sofort für alle).")
    elif queued == 0:
        out.print(
            f"Nichts Neues seit der letzten Zusammenfassung ({runs} geprüft); nichts versandt."
        )
    else:
        out.print(
            f"{counted(runs, 'Zusammenfassung', 'Zusammenfassungen')} gebaut, "
            f"{counted(queued, 'Nachricht', 'Nachrichten')} in den Postausgang gestellt."
        )
