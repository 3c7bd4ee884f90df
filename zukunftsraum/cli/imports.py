"""Bulk imports of members and posts (CSV or JSON lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.exchange.importing import import_members, import_posts
from core.kernel.german_format import counted
from core.kernel.import_files import read_rows
from zukunftsraum.cli.common import async_command, open_app, out, progress_bar

import_app = typer.Typer(
    help="Daten aus Dateien importieren (CSV oder JSON Lines).", no_args_is_help=True
)


FileArgument = Annotated[Path, typer.Argument(metavar="DATEI", help="CSV- oder JSON-Lines-Datei")]


def _count_rows(file: Path) -> int:
    return sum(1 for _ in read_rows(file))


@import_app.command("members")
@async_command
async def import_members_cmd(file: FileArgument) -> None:
    """Mitglieder importieren: {"email","name","role","municipality","telegram_chat_id"?}.

    Die ganze Datei wird zuerst geprüft; ein Fehler bricht ab, bevor etwas gespeichert ist.
    Danach wird in kleinen Schritten gespeichert. Bricht der Import mittendrin ab, bleiben die
    gespeicherten Mitglieder erhalten; derselbe Aufruf noch einmal ergänzt den Rest
    (vorhandene E-Mail-Adressen werden übersprungen).
    """
    total = _count_rows(file)
    async with open_app() as application:
        progress, advance = progress_bar("Mitglieder", total)
        with progress:
            result = await import_members(
                application.db, file, application.services.clock(), advance
            )
    out.print(
        f"{counted(result.created, 'Mitglied', 'Mitglieder')} importiert, "
        f"{result.skipped} bereits vorhanden."
    )


@import_app.command("posts")
@async_command
async def import_posts_cmd(
    file: FileArgument,
    notify: Annotated[
        bool, typer.Option("--notify", help="Neue Vorschläge sofort beiden Seiten senden")
    ] = False,
) -> None:
    """Beiträge importieren (id, kind, title, body, author_email, municipality?, topics?).

    Die ganze Datei wird zuerst geprüft; ein Fehler bricht ab, bevor etwas gespeichert ist.
    Danach wird in kleinen Schritten gespeichert und abgeglichen, damit der laufende Dienst
    nicht wartet. Bricht der Import mittendrin ab, bleiben die gespeicherten Beiträge erhalten;
    derselbe Aufruf noch einmal ergänzt den Rest und gleicht ab, was noch nicht abgeglichen
    ist. Zeilen ohne „id“ lassen sich dabei nicht wiedererkennen und würden doppelt angelegt.
    """
    total = _count_rows(file)
    async with open_app() as application:
        progress, advance = progress_bar("Beiträge", total)
        encoding = progress.add_task("Einbettungen", total=total)
        with progress:
            result = await import_posts(
                application.db,
                application.services.index,
                file,
                application.services.clock(),
                notify=notify,
                progress=advance,
                encoding=lambda n: progress.advance(encoding, n),
            )
    out.print(
        f"{counted(result.created, 'Beitrag', 'Beiträge')} importiert, "
        f"{result.skipped} bereits vorhanden, "
        f"{counted(result.proposals, 'Treffervorschlag', 'Treffervorschläge')}."
    )
