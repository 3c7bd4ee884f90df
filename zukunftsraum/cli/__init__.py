"""The ``zukunftsraum`` command line (the public interface in README.md).

Every command prints one clear line and exits non-zero on bad input; the
wrapper ``async_command`` (common.py) turns the known error types into that line."""

from __future__ import annotations

import typer

from zukunftsraum.cli.db import db_app
from zukunftsraum.cli.events import digest_app, events_app
from zukunftsraum.cli.german import GermanGroup
from zukunftsraum.cli.grants import grants_app
from zukunftsraum.cli.imports import import_app
from zukunftsraum.cli.knowledge import knowledge_app
from zukunftsraum.cli.mail import mail_app
from zukunftsraum.cli.matches import matches_app
from zukunftsraum.cli.members import members_app
from zukunftsraum.cli.municipalities import municipalities_app
from zukunftsraum.cli.service import chat, run

app = typer.Typer(
    cls=GermanGroup,
    help="Zukunftsraum Assistent: Biete/Suche-Austausch, Treffer und Termine für Kommunen.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(run)
app.command()(chat)
app.add_typer(db_app, name="db")
app.add_typer(municipalities_app, name="municipalities")
app.add_typer(members_app, name="members")
app.add_typer(import_app, name="import")
app.add_typer(matches_app, name="matches")
app.add_typer(grants_app, name="grants")
app.add_typer(events_app, name="events")
app.add_typer(digest_app, name="digest")
app.add_typer(mail_app, name="mail")
app.add_typer(knowledge_app, name="knowledge")


def main() -> None:  # pragma: no cover - console script entry
    app()
