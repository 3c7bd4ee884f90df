"""Match proposals: export; the posts' stored search data: reindex."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from core.exchange.match_export import export_rows
from core.kernel.german_format import counted, number
from zukunftsraum.cli.common import async_command, fail, open_app, out, progress_bar

matches_app = typer.Typer(help="Treffervorschläge.", no_args_is_help=True)

# --- matches ----------------------------------------------------------------------


@matches_app.command("export")
@async_command
async def matches_export(
    format: Annotated[str, typer.Option(help="table oder json (JSON Lines)")] = "table",
    status: Annotated[str | None, typer.Option(help="nur dieser Status, z. B. proposed")] = None,
) -> None:
    """Aktuelle Treffervorschläge mit Score, Rang und Begründung."""
    if format not in ("table", "json"):
        fail("--format muss table oder json sein.", 2)
    async with open_app() as application, application.db.uow() as uow:
        rows = list(await export_rows(uow, (status,) if status else None))
    if format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    table = Table("Angebot", "Gesuch", "Score", "Rang G.", "Rang A.", "Status", "Begründung")
    for row in rows:
        table.add_row(
            str(row["offer"]),
            str(row["request"]),
            f"{row['score']:.3f}",
            str(row["rank_for_request"]),
            str(row["rank_for_offer"]),
            row["status"],
            row["reason"],
        )
    out.print(table)


@matches_app.command("reindex")
@async_command
async def matches_reindex() -> None:
    """Einbettungen und Textanalyse aller offenen Beiträge nach einem Modellwechsel neu
    berechnen und speichern (sonst geschieht das beim nächsten Start)."""
    async with open_app() as application:
        progress, advance = progress_bar("Beiträge", None)
        with progress:
            count, done = await application.services.index.reindex(application.db, advance)
    out.print(
        f"{counted(count, 'offener Beitrag', 'offene Beiträge')} geprüft: "
        f"{number(done)} neu berechnet und gespeichert."
    )
