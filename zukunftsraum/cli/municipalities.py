"""The reference list of municipalities: import and search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.kernel.german_format import echoed
from core.municipalities import reference
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import FormatOption, async_command, checked_format, fail, open_app, out

municipalities_app = typer.Typer(help="Kommunen-Referenzliste.", no_args_is_help=True)

# --- municipalities -----------------------------------------------------------------


@municipalities_app.command("import")
@async_command
async def municipalities_import(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="DATEI", help="Datei im Format der mitgelieferten Liste"),
    ] = None,
) -> None:
    """Referenzliste der Kommunen laden (Standard: die mitgelieferte)."""
    async with open_app() as application:
        count = await reference.import_municipalities(application.db, file)
    out.print(f"{count} Kommunen und Kreise importiert.")


@municipalities_app.command("search")
@async_command
async def municipalities_search(
    query: Annotated[
        str, typer.Argument(metavar="SUCHBEGRIFF", help="Name, Postleitzahl oder AGS")
    ],
    limit: Annotated[int, typer.Option(help="höchstens so viele")] = 10,
    format: FormatOption = "tabelle",
) -> None:
    """Kommunen nach Name, Postleitzahl oder Schlüssel (AGS) suchen."""
    checked_format(format)
    async with open_app() as application:
        hits = application.services.municipalities.search(query, limit=limit)
    if not hits:
        fail(f"Keine Kommune zu „{echoed(query)}“ gefunden.")
    rows = [
        {"ags": hit.ags, "name": hit.name, "display_name": hit.display_name, "kind": hit.kind}
        for hit in hits
    ]
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("AGS", lambda r: r["ags"], wrap=False),
            tables.Column("Kommune", lambda r: r["display_name"]),
        ],
        empty="",
    )
