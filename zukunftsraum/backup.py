"""``zukunftsraum db backup FILE``: a consistent copy of the database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the file page by page
while the service keeps running; the copy is a complete SQLite database, restored by putting
it in place of the original (service stopped). PostgreSQL: ``pg_dump`` does this; we print its
command line for the configured database, with the password masked.
"""

from __future__ import annotations

import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from core.kernel.errors import UserError


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` (which must not exist); returns the size in bytes."""
    if not source.is_file():
        raise UserError(f"Datenbankdatei nicht gefunden: {source}")
    if target.exists():
        raise UserError(f"{target} existiert schon – bitte einen neuen Dateinamen angeben.")
    if not target.parent.is_dir():
        raise UserError(f"Verzeichnis nicht gefunden: {target.parent}")
    # Read-only: a backup must never create or change the database it copies.
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)  # no half copy that looks like a backup
        raise UserError(f"Sicherung fehlgeschlagen: {error}") from None
    return target.stat().st_size


def pg_dump_command(url: str, target: Path) -> str:
    """The pg_dump line for ``url`` (driver suffix dropped, password masked)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)
    return " ".join(
        [
            "pg_dump",
            "--format=custom",
            f"--file={shlex.quote(str(target))}",
            f"--dbname={shlex.quote(dsn)}",
        ]
    )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL. In-memory databases cannot be backed up."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError("ZR_DATABASE_URL ist keine gültige Datenbank-URL.") from None
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise UserError("Eine Datenbank im Arbeitsspeicher lässt sich nicht sichern.")
    return Path(parsed.database)
