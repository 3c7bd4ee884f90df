"""Running the service and the terminal chat."""

from __future__ import annotations

from typing import Annotated

import typer

from core.members import accounts as member_cases
from zukunftsraum.cli.common import async_command, fail, open_app, out

# --- run and chat -----------------------------------------------------------------


@async_command
async def run(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="ausführliches Protokoll (Debug-Zeilen)")
    ] = False,
    roles: Annotated[
        str | None,
        typer.Option(
            "--roles",
            help="Nur diese Rollen übernehmen, durch Kommas getrennt: scheduler, telegram, "
            "imap, outbox (Standard: alle; scheduler, telegram und imap hat immer nur ein "
            "Prozess zugleich).",
        ),
    ] = None,
) -> None:
    """Alles Konfigurierte starten (ohne Konfiguration: SQLite, Mail als Dateien, Terminal-Chat)."""
    from zukunftsraum import oplog
    from zukunftsraum.roles import RolesError, parse_roles
    from zukunftsraum.runner import serve

    try:
        chosen = parse_roles(roles)
    except RolesError as error:
        fail(str(error), 2)
    oplog.configure(verbose)
    async with open_app() as application:
        ended_cleanly = await serve(application, out, chosen)
    if not ended_cleanly:
        raise typer.Exit(1)


@async_command
async def chat(
    as_: Annotated[str, typer.Option("--as", help="E-Mail-Adresse des Mitglieds")],
) -> None:
    """Im Terminal mit dem Assistenten sprechen, als das Mitglied mit dieser E-Mail-Adresse."""
    from zukunftsraum.terminal import TerminalChat

    email = member_cases.normalise_email(as_)
    async with open_app() as application:
        await TerminalChat(application, email).run()
