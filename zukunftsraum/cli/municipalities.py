"""The reference list of municipalities: import and search."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from core.municipalities import reference
from zukunftsraum.cli.common import async_command, fail, open_app, out

municipalities_app = typer.Typer(help="Kommunen-Referenzliste.", no_args_is_help=True)

# --- municipalities -----------------------------------------------------------------


@municipalities_app.command("import")
@async_command
async def municipalities_import(
    file: Annotated[
        Path | None, typer.Argument(help="Datei im Format der mitgelieferten Liste")
    ] = None,
) -> None:
    """Referenzliste der Kommunen laden (Standard: die mitgelieferte)."""
    async with open_app() as application:
        count = await reference.import_municipalities(application.db, file)
    out.print(f"{count} Kommunen und Kreise importiert.")


@municipalities_app.command("search")
@async_command
async def municipalities_search(
    query: str, limit: Annotated[int, typer.Option(help="höchstens so viele")] = 10
) -> None:
    """Kommunen nach Name, Postleitzahl oder Schlüssel (AGS) suchen."""
    async with open_app() as application:
        hits = application.services.municipalities.search(query, limit=limit)
    if not hits:
        fail(f"Keine Kommune zu „{query}“ gefunden.")
    for hit in hits:
        sys.stdout.write(f"{hit.ags}\t{hit.display_name}\n")
