"""Match proposals: export; the posts' stored search data: reindex."""

from __future__ import annotations

from typing import Annotated

import typer

from core.exchange.match_export import export_rows
from core.kernel.german_format import counted, number
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import (
    FormatOption,
    async_command,
    checked_format,
    fail,
    open_app,
    out,
    progress_bar,
)

matches_app = typer.Typer(help="Treffervorschläge.", no_args_is_help=True)

# --- matches ----------------------------------------------------------------------


@matches_app.command("export")
@async_command
async def matches_export(
    format: FormatOption = "tabelle",
    status: Annotated[
        str | None,
        typer.Option(
            help="nur dieser Status: Vorschlag, Vielleicht passend, angenommen, abgelehnt, "
            "veraltet (auch als Code, z. B. proposed)"
        ),
    ] = None,
) -> None:
    """Aktuelle Treffervorschläge mit Wert, Rang und Begründung."""
    checked_format(format)
    wanted = None
    if status is not None:
        code = cli_labels.parse_match_status(status)
        if code is None:
            choices = cli_labels.labels_of(cli_labels.MATCH_STATUS)
            fail(f"Unbekannter Status „{status}“. Möglich: {choices}.", 2)
        wanted = (code,)
    async with open_app() as application, application.db.uow() as uow:
        rows = list(await export_rows(uow, wanted))
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("Angebot", lambda r: r["offer"], limit=24),
            tables.Column("Gesuch", lambda r: r["request"], limit=24),
            tables.Column("Wert", lambda r: _decimal(r["score"]), wrap=False, right=True),
            tables.Column("Rang G.", lambda r: r["rank_for_request"], wrap=False, right=True),
            tables.Column("Rang A.", lambda r: r["rank_for_offer"], wrap=False, right=True),
            tables.Column("Status", lambda r: cli_labels.match_status_label(r["status"])),
            tables.Column("Begründung", lambda r: r["reason"], limit=160),
        ],
        empty="Keine Treffervorschläge.",
    )


def _decimal(value: float) -> str:
    """0.8125 -> "0,813": three places, with a decimal comma."""
    return f"{value:.3f}".replace(".", ",")


@matches_app.command("reindex")
@async_command
async def matches_reindex() -> None:
    """Einbettungen und Textanalyse aller offenen Beiträge neu berechnen.

    Nach einem Modellwechsel nötig (sonst geschieht es beim nächsten Start); das Ergebnis
    wird gespeichert."""
    async with open_app() as application:
        progress, advance = progress_bar("Beiträge", None)
        with progress:
            count, done = await application.services.index.reindex(application.db, advance)
    out.print(
        f"{counted(count, 'offener Beitrag', 'offene Beiträge')} geprüft: "
        f"{number(done)} neu berechnet und gespeichert."
    )
