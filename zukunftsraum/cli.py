"""The ``zukunftsraum`` command line (the public interface in README.md).

Every command prints one clear line and exits non-zero on bad input; the
wrapper ``_cli`` turns the known error types into that line.
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from core.exchange.importing import import_members, import_posts
from core.exchange.match_export import export_rows
from core.grants import applications as grants
from core.grants import export as grant_export
from core.grants import views as grant_views
from core.kernel.errors import ImportFileError, UserError
from core.kernel.german_format import counted
from core.kernel.import_files import read_rows
from core.kernel.money import format_euro, parse_euro
from core.members import accounts as member_cases
from core.members.accounts import NewMember
from core.members.roles import role_label
from core.municipalities import reference
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from zukunftsraum import cli_labels
from zukunftsraum.bootstrap import App, build_app
from zukunftsraum.cli_german import GermanGroup, use_german
from zukunftsraum.settings import ConfigError, Settings, load_settings

use_german()
app = typer.Typer(
    cls=GermanGroup,
    help="Zukunftsraum Assistent: Biete/Suche-Austausch, Treffer und Termine für Kommunen.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Datenbank verwalten.", no_args_is_help=True)
municipalities_app = typer.Typer(help="Kommunen-Referenzliste.", no_args_is_help=True)
members_app = typer.Typer(help="Mitglieder verwalten.", no_args_is_help=True)
import_app = typer.Typer(
    help="Daten aus Dateien importieren (CSV oder JSON Lines).", no_args_is_help=True
)
matches_app = typer.Typer(help="Treffervorschläge.", no_args_is_help=True)
grants_app = typer.Typer(help="Mikroförderung: Anträge prüfen und abrechnen.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(municipalities_app, name="municipalities")
app.add_typer(members_app, name="members")
app.add_typer(import_app, name="import")
app.add_typer(matches_app, name="matches")
app.add_typer(grants_app, name="grants")

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]Fehler:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _cli(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async command; known errors become one line and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> None:
        try:
            asyncio.run(func(*args, **kwargs))
        except (ConfigError, ImportFileError) as error:
            fail(str(error), 2)
        except UserError as error:
            fail(cli_labels.staff_message(error), 2)
        except SQLAlchemyError as error:
            fail(
                f"Datenbank: {str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}"
            )
        except OSError as error:
            fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        fail(str(error), 2)
        raise  # unreachable, for type checkers


@asynccontextmanager
async def _app():
    application: App = await build_app(_settings())
    try:
        yield application
    finally:
        await application.close()


# --- run and chat -----------------------------------------------------------------


@app.command()
@_cli
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
    async with _app() as application:
        ended_cleanly = await serve(application, out, chosen)
    if not ended_cleanly:
        raise typer.Exit(1)


@app.command()
@_cli
async def chat(
    as_: Annotated[str, typer.Option("--as", help="E-Mail-Adresse des Mitglieds")],
) -> None:
    """Im Terminal mit dem Assistenten sprechen, als das Mitglied mit dieser E-Mail-Adresse."""
    from zukunftsraum.terminal import TerminalChat

    email = member_cases.normalise_email(as_)
    async with _app() as application:
        await TerminalChat(application, email).run()


# --- db ---------------------------------------------------------------------------


@db_app.command("upgrade")
@_cli
async def db_upgrade() -> None:
    """Migrationen anwenden."""
    db = Database(_settings().database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    out.print("Datenbank ist auf dem neuesten Stand.")


@db_app.command("backup")
@_cli
async def db_backup(
    file: Annotated[Path, typer.Argument(help="Zieldatei der Sicherung (darf nicht existieren)")],
) -> None:
    """Die Datenbank sichern (SQLite: Kopie im laufenden Betrieb; PostgreSQL: pg_dump-Befehl)."""
    from zukunftsraum.backup import backup_sqlite, pg_dump_command, sqlite_file

    url = _settings().database_url
    source = sqlite_file(url)
    if source is None:
        out.print(
            "PostgreSQL wird mit pg_dump gesichert (Passwort über PGPASSWORD oder ~/.pgpass):"
        )
        out.print(pg_dump_command(url, file))
        return
    size = await asyncio.to_thread(backup_sqlite, source, file)
    out.print(f"Gesichert: {source} -> {file} ({size / 1_000_000:.1f} MB)")


# --- municipalities -----------------------------------------------------------------


@municipalities_app.command("import")
@_cli
async def municipalities_import(
    file: Annotated[
        Path | None, typer.Argument(help="Datei im Format der mitgelieferten Liste")
    ] = None,
) -> None:
    """Referenzliste der Kommunen laden (Standard: die mitgelieferte)."""
    async with _app() as application:
        count = await reference.import_municipalities(application.db, file)
    out.print(f"{count} Kommunen und Kreise importiert.")


@municipalities_app.command("search")
@_cli
async def municipalities_search(
    query: str, limit: Annotated[int, typer.Option(help="höchstens so viele")] = 10
) -> None:
    """Kommunen nach Name, Postleitzahl oder Schlüssel (AGS) suchen."""
    async with _app() as application:
        hits = application.services.municipalities.search(query, limit=limit)
    if not hits:
        fail(f"Keine Kommune zu „{query}“ gefunden.")
    for hit in hits:
        sys.stdout.write(f"{hit.ags}\t{hit.display_name}\n")


# --- members ----------------------------------------------------------------------

RoleOption = Annotated[
    str,
    typer.Option(
        help="Funktion, als Code oder Bezeichnung: mayor (Bürgermeisterin oder Bürgermeister), "
        "district_admin, municipal_staff, volunteer, network_staff (Geschäftsstelle)"
    ),
]
FormatOption = Annotated[str, typer.Option(help="table oder json (JSON Lines)")]


def _role(text: str) -> str:
    role = cli_labels.parse_role(text)
    if role is None:
        fail(f"Unbekannte Funktion „{text}“. Möglich: {cli_labels.role_choices()}.", 2)
    return role


def _format(format: str) -> str:
    if format not in cli_labels.FORMATS:
        fail("--format muss table oder json sein.", 2)
    return format


@members_app.command("add")
@_cli
async def members_add(
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    municipality: Annotated[str, typer.Option(help="Amtlicher Gemeindeschlüssel (AGS)")],
    role: RoleOption,
    telegram_chat_id: Annotated[int | None, typer.Option()] = None,
    verified: Annotated[bool, typer.Option(help="gleich verifizieren")] = False,
) -> None:
    """Ein Mitglied anlegen (die Einwilligung holt der Assistent beim ersten Kontakt ein)."""
    async with _app() as application, application.db.uow() as uow:
        now = application.services.clock()
        new = NewMember(
            name, _role(role), municipality, email=email, telegram_chat_id=telegram_chat_id
        )
        member = await member_cases.add_member(uow, new, now)
        if verified:
            await member_cases.verify(uow, member.id, None, now)
        await uow.commit()
    out.print(f"Mitglied {member.id} angelegt: {member.name} <{member.email}>")


@members_app.command("invite")
@_cli
async def members_invite(
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    municipality: Annotated[str, typer.Option(help="Amtlicher Gemeindeschlüssel (AGS)")],
    role: RoleOption,
) -> None:
    """Mitglied einladen: gibt einen Einmalcode und einen Telegram-Link aus."""
    async with _app() as application, application.db.uow() as uow:
        now = application.services.clock()
        member = await uow.members.by_email(email)
        if member is None:
            member = await member_cases.add_member(
                uow, NewMember(name, _role(role), municipality, email=email), now
            )
        code = await member_cases.issue_code(uow, member, "invite", now)
        await uow.commit()
        bot = application.settings.telegram_bot_username
    out.print(f"Code: {code}")
    out.print(f"Telegram: {member_cases.deep_link(bot, code)}")
    out.print(f"E-Mail oder Terminal: VERKNUEPFEN {code}")


@members_app.command("verify")
@_cli
async def members_verify(
    member: Annotated[str, typer.Argument(help="ID oder E-Mail-Adresse")],
) -> None:
    """Ein Mitglied verifizieren (Voraussetzung für Mikroförderung)."""
    async with _app() as application, application.db.uow() as uow:
        found = await (
            uow.members.get(int(member)) if member.isdigit() else uow.members.by_email(member)
        )
        if found is None:
            fail(f"Mitglied „{member}“ gibt es nicht.", 2)
        verified = await member_cases.verify(uow, found.id, None, application.services.clock())
        await uow.commit()
    out.print(f"Mitglied {verified.id} ({verified.name}) ist verifiziert.")


@members_app.command("list")
@_cli
async def members_list(
    unverified: Annotated[bool, typer.Option(help="nur noch nicht verifizierte")] = False,
    format: FormatOption = "table",
) -> None:
    """Mitglieder auflisten."""
    _format(format)
    async with _app() as application, application.db.uow() as uow:
        rows = [
            {
                "id": m.id,
                "name": m.name,
                "email": m.email,
                "role": m.role,
                "municipality": m.municipality_ags,
                "municipality_name": m.municipality.name,
                "telegram_chat_id": m.telegram_chat_id,
                "verified": m.verified_at is not None,
            }
            for m in await uow.members.list(unverified_only=unverified)
        ]
    if format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    # At 80 columns (a terminal or a pipe) addresses wrap instead of being cut off.
    table = Table("ID", "Name", box=box.SIMPLE_HEAD)
    table.add_column("E-Mail", overflow="fold", min_width=14)
    for header in ("Funktion", "Kommune", "verif."):
        table.add_column(header)
    for row in rows:
        verified_mark = "ja" if row["verified"] else "nein"
        table.add_row(
            str(row["id"]),
            row["name"],
            row["email"] or "–",
            role_label(row["role"]),
            row["municipality_name"].split(", ", 1)[0],
            verified_mark,
        )
    out.print(table)


# --- import -----------------------------------------------------------------------


def _progress(label: str, total: int) -> tuple[Progress, Callable[[int], None]]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    task = progress.add_task(label, total=total)
    return progress, lambda n: progress.advance(task, n)


def _count_rows(file: Path) -> int:
    return sum(1 for _ in read_rows(file))


@import_app.command("members")
@_cli
async def import_members_cmd(file: Path) -> None:
    """Mitglieder importieren: {"email","name","role","municipality","telegram_chat_id"?}.

    Die ganze Datei wird zuerst geprüft; ein Fehler bricht ab, bevor etwas gespeichert ist.
    Danach wird in kleinen Schritten gespeichert. Bricht der Import mittendrin ab, bleiben die
    gespeicherten Mitglieder erhalten; derselbe Aufruf noch einmal ergänzt den Rest
    (vorhandene E-Mail-Adressen werden übersprungen).
    """
    total = _count_rows(file)
    async with _app() as application:
        progress, advance = _progress("Mitglieder", total)
        with progress:
            result = await import_members(
                application.db, file, application.services.clock(), advance
            )
    out.print(
        f"{counted(result.created, 'Mitglied', 'Mitglieder')} importiert, "
        f"{result.skipped} bereits vorhanden."
    )


@import_app.command("posts")
@_cli
async def import_posts_cmd(
    file: Path,
    notify: Annotated[
        bool, typer.Option(help="Neue Vorschläge sofort beiden Seiten senden")
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
    async with _app() as application:
        progress, advance = _progress("Beiträge", total)
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


# --- matches ----------------------------------------------------------------------


@matches_app.command("export")
@_cli
async def matches_export(
    format: Annotated[str, typer.Option(help="table oder json (JSON Lines)")] = "table",
    status: Annotated[str | None, typer.Option(help="nur dieser Status, z. B. proposed")] = None,
) -> None:
    """Aktuelle Treffervorschläge mit Score, Rang und Begründung."""
    if format not in ("table", "json"):
        fail("--format muss table oder json sein.", 2)
    async with _app() as application, application.db.uow() as uow:
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


# Events and digests live in their own module, which uses the helpers above.
from zukunftsraum.cli_events import digest_app, events_app  # noqa: E402

app.add_typer(events_app, name="events")
app.add_typer(digest_app, name="digest")

from zukunftsraum.cli_mail import mail_app  # noqa: E402

app.add_typer(mail_app, name="mail")

from zukunftsraum.cli_knowledge import knowledge_app  # noqa: E402

app.add_typer(knowledge_app, name="knowledge")
# --- grants -----------------------------------------------------------------------


def _operator() -> grants.Actor:
    """Decisions from the shell are recorded with the operating system's user name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return grants.Actor(None, f"Kommandozeile ({user})")


@grants_app.command("list")
@_cli
async def grants_list(
    state: Annotated[
        str,
        typer.Option(
            help="Status als Bezeichnung oder Code: eingereicht (Prüfliste), bewilligt, "
            "abgelehnt, … oder alle"
        ),
    ] = "submitted",
    year: Annotated[int | None, typer.Option(help="nur dieses Förderjahr")] = None,
    format: Annotated[str, typer.Option(help="table oder json (JSON Lines)")] = "table",
) -> None:
    """Anträge auflisten; ohne Optionen die Prüfliste (strukturschwache Regionen zuerst)."""
    if format not in ("table", "json"):
        fail("--format muss table oder json sein.", 2)
    if state.strip().lower() in cli_labels.ALL:
        state = "all"
    elif cli_labels.parse_state(state) is None:
        fail(f"Unbekannter Status „{state}“. Möglich: alle, {cli_labels.state_choices()}.", 2)
    else:
        state = cli_labels.parse_state(state)
    async with _app() as application, application.db.uow() as uow:
        if state == "submitted" and year is None:
            found = await uow.grants.review_queue()
        else:
            found = await uow.grants.listing(states=None if state == "all" else (state,), year=year)
        rows = [grant_export.row(a, application.services.tz) for a in found]
    if format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    table = Table("ID", "Kommune", "schwach", "Jahr", "Status", "Titel", "beantragt", "bewilligt")
    for row in rows:
        approved = row["approved_cents"]
        table.add_row(
            str(row["id"]),
            row["municipality_name"],
            "ja" if row["structurally_weak"] else "nein",
            str(row["year"]),
            grant_views.state_label(row["state"]),
            row["title"],
            format_euro(row["requested_cents"]),
            format_euro(approved) if approved is not None else "–",
        )
    out.print(table)


@grants_app.command("approve")
@_cli
async def grants_approve(
    id: Annotated[int, typer.Argument(help="Nummer des Antrags")],
    amount: Annotated[
        str | None, typer.Option(help="geringerer Betrag in Euro, z. B. 1.200,00")
    ] = None,
) -> None:
    """Einen eingereichten Antrag bewilligen (auf Wunsch mit geringerem Betrag)."""
    cents = parse_euro(amount) if amount is not None else None
    async with _app() as application, application.db.uow() as uow:
        done = await grants.approve(
            uow,
            _operator(),
            id,
            cents,
            application.services.grants,
            application.services.clock(),
        )
        await uow.commit()
    out.print(f"Antrag {done.id} bewilligt: {format_euro(done.approved_cents or 0)}.")


@grants_app.command("reject")
@_cli
async def grants_reject(
    id: Annotated[int, typer.Argument(help="Nummer des Antrags")],
    reason: Annotated[str, typer.Option(help="Begründung für die Antragstellerin/den -steller")],
) -> None:
    """Einen Antrag mit Begründung ablehnen."""
    async with _app() as application, application.db.uow() as uow:
        done = await grants.reject(uow, _operator(), id, reason, application.services.clock())
        await uow.commit()
    out.print(f"Antrag {done.id} abgelehnt.")


@grants_app.command("pay")
@_cli
async def grants_pay(id: Annotated[int, typer.Argument(help="Nummer des Antrags")]) -> None:
    """Einen Antrag nach geprüftem Verwendungsnachweis als ausgezahlt vermerken."""
    async with _app() as application, application.db.uow() as uow:
        done = await grants.mark_paid(uow, _operator(), id, application.services.clock())
        await uow.commit()
    out.print(f"Antrag {done.id} ausgezahlt: {format_euro(done.paid_cents or 0)}.")


@grants_app.command("export")
@_cli
async def grants_export(
    file: Annotated[Path | None, typer.Argument(help="Zieldatei (ohne: Standardausgabe)")] = None,
    year: Annotated[int | None, typer.Option(help="Förderjahr (Standard: das laufende)")] = None,
    summary: Annotated[
        bool, typer.Option(help="je Kommune, Jahr und Status zusammengefasst")
    ] = False,
) -> None:
    """CSV für die Buchhaltung (Semikolon, Dezimalkomma, Beträge in Euro)."""
    async with _app() as application, application.db.uow() as uow:
        services = application.services
        wanted = year or services.grants.year_of(services.clock())
        text = await grant_export.export_csv(uow, wanted, services.tz, summary=summary)
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8")
    lines = text.count("\r\n") - 1
    out.print(f"{counted(lines, 'Zeile', 'Zeilen')} für {wanted} nach {file} exportiert.")


def main() -> None:  # pragma: no cover - console script entry
    app()
