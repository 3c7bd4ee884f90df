"""``zukunftsraum knowledge …``: staff curate the knowledge collection (registered in
``cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.kernel.german_format import counted, number
from core.knowledge import entries
from core.knowledge import importing as knowledge_import
from core.knowledge import reindex as knowledge_reindex
from core.store.models import KnowledgeEntry, Member
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import (
    FormatOption,
    async_command,
    checked_format,
    fail,
    open_app,
    out,
    progress_bar,
)

knowledge_app = typer.Typer(
    help="Wissenssammlung: Leitfäden, Checklisten, Vorlagen, Studien, Praxisbeispiele.",
    no_args_is_help=True,
)

KIND_HELP = "leitfaden, checkliste, vorlage, studie, praxisbeispiel, aufzeichnung, e-learning"


@knowledge_app.command("add")
@async_command
async def knowledge_add(
    title: Annotated[str, typer.Option(help="Titel (ohne: aus dem Dateinamen)")] = "",
    file: Annotated[Path | None, typer.Option(help="Datei: PDF, DOCX, ODT/ODP, TXT, MD")] = None,
    link: Annotated[str, typer.Option(help="Link (https://…)")] = "",
    summary: Annotated[str, typer.Option(help="kurze Zusammenfassung")] = "",
    kind: Annotated[str, typer.Option(help=KIND_HELP)] = "leitfaden",
    topics: Annotated[str, typer.Option(help="Themen, durch Komma getrennt")] = "",
    municipality: Annotated[str, typer.Option(help="AGS der Kommune, von der es stammt")] = "",
    date: Annotated[str, typer.Option(help="Datum: 2026-03-01 oder 01.03.2026")] = "",
    draft: Annotated[
        bool, typer.Option("--draft", help="als Entwurf, noch nicht veröffentlichen")
    ] = False,
) -> None:
    """Einen Eintrag anlegen (Datei und/oder Link)."""
    data = file.read_bytes() if file is not None else None
    async with open_app() as application, application.db.uow() as uow:
        new = entries.NewEntry(
            title=title,
            summary=summary,
            kind=entries.parse_kind(kind),
            topics=entries.split_topics(topics),
            municipality_ags=municipality or None,
            link=link,
            file_name=file.name if file is not None else "",
            data=data,
            issued_on=entries.parse_date(date),
            status="draft" if draft else "published",
        )
        library = application.services.knowledge
        entry = await entries.add_entry(uow, library, new, application.services.clock())
    status = cli_labels.knowledge_status_label(entry.status)
    out.print(f"Eintrag {entry.id} angelegt ({status}): {entry.title}")


@knowledge_app.command("import")
@async_command
async def knowledge_import_cmd(
    folder: Annotated[Path, typer.Argument(metavar="ORDNER", help="Ordner mit den Dateien")],
    index: Annotated[
        Path | None,
        typer.Option(help="CSV/JSON Lines: file,title,summary,kind,topics,municipality,link,date"),
    ] = None,
    kind: Annotated[str, typer.Option(help=f"Art für Dateien ohne Angabe: {KIND_HELP}")] = (
        "leitfaden"
    ),
) -> None:
    """Einen Ordner importieren; nicht lesbare Dateien werden mit Grund gemeldet."""
    default_kind = entries.parse_kind(kind)
    if index is None:
        found = [folder / f"index{s}" for s in knowledge_import.INDEX_SUFFIXES]
        index = next((p for p in found if p.is_file()), None)
    items = knowledge_import.plan(folder, index)
    async with open_app() as application:
        progress, advance = progress_bar("Wissenssammlung", len(items))
        with progress:
            report = await knowledge_import.import_planned(
                application.db,
                application.services.knowledge,
                items,
                application.services.clock,
                default_kind,
                advance,
            )
    for name, reason in report.failed:
        out.print(f"Nicht importiert: {name}: {reason}")
    added = counted(len(report.added), "Eintrag", "Einträge")
    out.print(f"{added} importiert, {number(len(report.failed))} nicht importiert.")
    if report.failed and not report.added:
        raise typer.Exit(1)


@knowledge_app.command("reindex")
@async_command
async def knowledge_reindex_cmd(
    all_entries: Annotated[
        bool, typer.Option("--all", help="alle Einträge neu berechnen, nicht nur veraltete")
    ] = False,
    extract: Annotated[
        bool,
        typer.Option("--extract", help="den Text aller Dateien neu lesen (sonst nur fehlende)"),
    ] = False,
) -> None:
    """Suchdaten nach einem Modellwechsel neu berechnen (Einbettungen, fehlende Texte)."""
    async with open_app() as application:
        async with application.db.uow() as uow:
            total = len(await uow.knowledge.ids())
        progress, advance = progress_bar("Wissenssammlung", total)
        with progress:
            report = await knowledge_reindex.reindex(
                application.db,
                application.services.knowledge,
                application.services.clock,
                everything=all_entries,
                extract=extract,
                progress=advance,
            )
    for entry_id in report.missing_files:
        out.print(f"Eintrag {entry_id}: Datei fehlt im Datenverzeichnis.")
    for entry_id, reason in report.unreadable:
        out.print(f"Eintrag {entry_id}: Text nicht lesbar: {reason}")
    out.print(
        f"{counted(report.entries, 'Eintrag', 'Einträge')} geprüft: "
        f"{number(report.encoded)} neu eingebettet, {number(report.extracted)} Texte neu gelesen."
    )


def _row(entry: KnowledgeEntry, suggesters: dict[int, Member]) -> dict:
    suggester = suggesters.get(entry.suggested_by) if entry.suggested_by else None
    return {
        "id": entry.id,
        "title": entry.title,
        "kind": entry.kind,
        "status": entry.status,
        "summary": entry.summary,
        "topics": entry.topics,
        "municipality": entry.municipality_ags,
        "link": entry.link,
        "file": entry.file_name,
        "file_size": entry.file_size,
        "sha256": entry.file_sha256,
        "date": entry.issued_on.isoformat() if entry.issued_on else None,
        "suggested_by": entry.suggested_by,
        # The member's name as they gave it; None for the network's own entries and for
        # a suggester since erased.
        "suggested_by_name": suggester.name if suggester and not suggester.erased_at else None,
    }


@knowledge_app.command("list")
@async_command
async def knowledge_list(
    status: Annotated[
        str,
        typer.Option(help="Entwurf, veröffentlicht, zurückgezogen oder alle (auch als Code)"),
    ] = "alle",
    format: FormatOption = "tabelle",
) -> None:
    """Einträge auflisten."""
    checked_format(format)
    if status.strip().lower() in cli_labels.ALL:
        wanted = None
    elif (code := cli_labels.parse_knowledge_status(status)) is not None:
        wanted = (code,)
    else:
        choices = cli_labels.labels_of(cli_labels.KNOWLEDGE_STATUS)
        fail(f"Unbekannter Status „{status}“. Möglich: alle, {choices}.", 2)
    async with open_app() as application, application.db.uow() as uow:
        listed = await uow.knowledge.listing(wanted)
        suggesters = await uow.members.many(e.suggested_by for e in listed if e.suggested_by)
        rows = [_row(e, suggesters) for e in listed]
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
            tables.Column("Art", lambda r: entries.kind_label(r["kind"])),
            tables.Column("Titel", lambda r: r["title"], limit=80),
            tables.Column("Status", lambda r: cli_labels.knowledge_status_label(r["status"])),
            tables.Column("Datei", lambda r: r["file"], limit=40),
            tables.Column("Link", lambda r: r["link"], limit=60),
            tables.Column("Datum", lambda r: r["date"], wrap=False),
            tables.Column("Vorgeschlagen von", lambda r: r["suggested_by_name"], limit=40),
        ],
        empty="Keine Einträge.",
    )


def _status_command(action: str, done: str):
    async def command(
        entry_id: Annotated[int, typer.Argument(metavar="NR", help="Nr. des Eintrags")],
    ) -> None:
        async with open_app() as application, application.db.uow() as uow:
            now = application.services.clock()
            entry = await entries.change_status(uow, entry_id, action, now)
            await uow.commit()
        out.print(f"Eintrag {entry.id} {done}: {entry.title}")

    return command


knowledge_app.command("publish", help="Einen Eintrag (oder Vorschlag) veröffentlichen.")(
    async_command(_status_command("publish", "veröffentlicht"))
)
knowledge_app.command("withdraw", help="Einen veröffentlichten Eintrag zurückziehen.")(
    async_command(_status_command("withdraw", "zurückgezogen"))
)
knowledge_app.command("decline", help="Einen Vorschlag eines Mitglieds ablehnen.")(
    async_command(_status_command("decline", "abgelehnt"))
)
