"""Match proposals: export."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from core.exchange.match_export import export_rows
from zukunftsraum.cli.common import async_command, fail, open_app, out

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
