"""The database: migrations and backups."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from core.store.schema import upgrade
from core.store.unit_of_work import Database
from zukunftsraum.cli.common import async_command, out, settings_or_fail

db_app = typer.Typer(help="Datenbank verwalten.", no_args_is_help=True)

# --- db ---------------------------------------------------------------------------


@db_app.command("upgrade")
@async_command
async def db_upgrade() -> None:
    """Migrationen anwenden."""
    db = Database(settings_or_fail().database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    out.print("Datenbank ist auf dem neuesten Stand.")


@db_app.command("backup")
@async_command
async def db_backup(
    file: Annotated[
        Path,
        typer.Argument(metavar="DATEI", help="Zieldatei der Sicherung (darf nicht existieren)"),
    ],
) -> None:
    """Die Datenbank sichern (SQLite: Kopie im laufenden Betrieb; PostgreSQL: pg_dump-Befehl)."""
    from zukunftsraum.backup import backup_sqlite, pg_dump_command, sqlite_file

    url = settings_or_fail().database_url
    source = sqlite_file(url)
    if source is None:
        out.print(
            "PostgreSQL wird mit pg_dump gesichert (Passwort über PGPASSWORD oder ~/.pgpass):"
        )
        out.print(pg_dump_command(url, file))
        return
    size = await asyncio.to_thread(backup_sqlite, source, file)
    out.print(f"Gesichert: {source} -> {file} ({size / 1_000_000:.1f} MB)")
