"""Micro-grants: review, decide, pay and export from the shell."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.grants import applications as grants
from core.grants import export as grant_export
from core.grants import views as grant_views
from core.kernel.german_format import counted
from core.kernel.money import format_euro, parse_euro
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import FormatOption, async_command, checked_format, fail, open_app, out

grants_app = typer.Typer(help="Mikroförderung: Anträge prüfen und abrechnen.", no_args_is_help=True)

# --- grants -----------------------------------------------------------------------


def _operator() -> grants.Actor:
    """Decisions from the shell are recorded with the operating system's user name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return grants.Actor(None, f"Kommandozeile ({user})")


@grants_app.command("list")
@async_command
async def grants_list(
    state: Annotated[
        str,
        typer.Option(
            help="Status als Bezeichnung oder Code: eingereicht (Prüfliste), bewilligt, "
            "abgelehnt, … oder alle"
        ),
    ] = "eingereicht",
    year: Annotated[int | None, typer.Option(help="nur dieses Förderjahr")] = None,
    format: FormatOption = "tabelle",
) -> None:
    """Anträge auflisten; ohne Optionen die Prüfliste (strukturschwache Regionen zuerst)."""
    checked_format(format)
    if state.strip().lower() in cli_labels.ALL:
        state = "all"
    elif cli_labels.parse_state(state) is None:
        fail(f"Unbekannter Status „{state}“. Möglich: alle, {cli_labels.state_choices()}.", 2)
    else:
        state = cli_labels.parse_state(state)
    async with open_app() as application, application.db.uow() as uow:
        if state == "submitted" and year is None:
            found = await uow.grants.review_queue()
        else:
            found = await uow.grants.listing(states=None if state == "all" else (state,), year=year)
        rows = [grant_export.row(a, application.services.tz) for a in found]
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
            tables.Column("Kommune", lambda r: r["municipality_name"]),
            tables.Column("schwach", lambda r: "ja" if r["structurally_weak"] else "nein"),
            tables.Column("Jahr", lambda r: r["year"], wrap=False),
            tables.Column("Status", lambda r: grant_views.state_label(r["state"])),
            tables.Column("Titel", lambda r: r["title"], limit=80),
            tables.Column(
                "beantragt", lambda r: format_euro(r["requested_cents"]), wrap=False, right=True
            ),
            tables.Column(
                "bewilligt",
                lambda r: None if r["approved_cents"] is None else format_euro(r["approved_cents"]),
                wrap=False,
                right=True,
            ),
        ],
        empty="Keine Anträge.",
    )


@grants_app.command("approve")
@async_command
async def grants_approve(
    id: Annotated[int, typer.Argument(metavar="NR", help="Nummer des Antrags")],
    amount: Annotated[
        str | None, typer.Option(help="geringerer Betrag in Euro, z. B. 1.200,00")
    ] = None,
) -> None:
    """Einen eingereichten Antrag bewilligen (auf Wunsch mit geringerem Betrag)."""
    cents = parse_euro(amount) if amount is not None else None
    async with open_app() as application, application.db.uow() as uow:
        done = await grants.approve(
            uow,
            _operator(),
            id,
            cents,
            application.services.grants,
            application.services.clock(),
        )
        await uow.commit()
    out.print(f"Antrag {done.id} bewilligt: {format_euro(done.approved_cents or 0)}.")


@grants_app.command("reject")
@async_command
async def grants_reject(
    id: Annotated[int, typer.Argument(metavar="NR", help="Nummer des Antrags")],
    reason: Annotated[str, typer.Option(help="Begründung für die Antragstellerin/den -steller")],
) -> None:
    """Einen Antrag mit Begründung ablehnen."""
    async with open_app() as application, application.db.uow() as uow:
        done = await grants.reject(uow, _operator(), id, reason, application.services.clock())
        await uow.commit()
    out.print(f"Antrag {done.id} abgelehnt.")


@grants_app.command("pay")
@async_command
async def grants_pay(
    id: Annotated[int, typer.Argument(metavar="NR", help="Nummer des Antrags")],
) -> None:
    """Einen Antrag nach geprüftem Verwendungsnachweis als ausgezahlt vermerken."""
    async with open_app() as application, application.db.uow() as uow:
        done = await grants.mark_paid(uow, _operator(), id, application.services.clock())
        await uow.commit()
    out.print(f"Antrag {done.id} ausgezahlt: {format_euro(done.paid_cents or 0)}.")


@grants_app.command("export")
@async_command
async def grants_export(
    file: Annotated[
        Path | None, typer.Argument(metavar="DATEI", help="Zieldatei (ohne: Standardausgabe)")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Förderjahr (Standard: das laufende)")] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="je Kommune, Jahr und Status zusammengefasst")
    ] = False,
) -> None:
    """CSV für die Buchhaltung (Semikolon, Dezimalkomma, Beträge in Euro)."""
    async with open_app() as application, application.db.uow() as uow:
        services = application.services
        wanted = year or services.grants.year_of(services.clock())
        text = await grant_export.export_csv(uow, wanted, services.tz, summary=summary)
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8")
    lines = text.count("\r\n") - 1
    out.print(f"{counted(lines, 'Zeile', 'Zeilen')} für {wanted} nach {file} exportiert.")
