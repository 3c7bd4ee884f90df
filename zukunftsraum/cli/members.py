"""Members: add, invite, verify, list."""

from __future__ import annotations

from typing import Annotated

import typer

from core.members import accounts as member_cases
from core.members.accounts import NewMember
from core.members.roles import ROLES, role_label
from zukunftsraum.cli import labels as cli_labels
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import FormatOption, async_command, checked_format, fail, open_app, out

members_app = typer.Typer(help="Mitglieder verwalten.", no_args_is_help=True)


def _role(text: str) -> str:
    role = cli_labels.parse_role(text)
    if role is None:
        fail(f"Unbekannte Funktion „{text}“. Möglich: {cli_labels.role_choices()}.", 2)
    return role


# --- members ----------------------------------------------------------------------

RoleOption = Annotated[
    str,
    typer.Option(
        help="Funktion: "
        + ", ".join(role_label(role) for role in ROLES)
        + " (auch als Code: "
        + ", ".join(ROLES)
        + ")"
    ),
]


# What adding and inviting a member both ask for.
EmailOption = Annotated[str, typer.Option()]
NameOption = Annotated[str, typer.Option()]
MunicipalityOption = Annotated[str, typer.Option(help="Amtlicher Gemeindeschlüssel (AGS)")]


@members_app.command("add")
@async_command
async def members_add(
    email: EmailOption,
    name: NameOption,
    municipality: MunicipalityOption,
    role: RoleOption,
    telegram_chat_id: Annotated[int | None, typer.Option()] = None,
    verified: Annotated[bool, typer.Option("--verified", help="gleich verifizieren")] = False,
) -> None:
    """Ein Mitglied anlegen (die Einwilligung holt der Assistent beim ersten Kontakt ein)."""
    async with open_app() as application, application.db.uow() as uow:
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
@async_command
async def members_invite(
    email: EmailOption,
    name: NameOption,
    municipality: MunicipalityOption,
    role: RoleOption,
) -> None:
    """Mitglied einladen: gibt einen Einmalcode und einen Telegram-Link aus."""
    async with open_app() as application, application.db.uow() as uow:
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
@async_command
async def members_verify(
    member: Annotated[str, typer.Argument(metavar="MITGLIED", help="ID oder E-Mail-Adresse")],
) -> None:
    """Ein Mitglied verifizieren (Voraussetzung für Mikroförderung)."""
    async with open_app() as application, application.db.uow() as uow:
        found = await (
            uow.members.get(int(member)) if member.isdecimal() else uow.members.by_email(member)
        )
        if found is None:
            fail(f"Mitglied „{member}“ gibt es nicht.", 2)
        verified = await member_cases.verify(uow, found.id, None, application.services.clock())
        await uow.commit()
    out.print(f"Mitglied {verified.id} ({verified.name}) ist verifiziert.")


@members_app.command("list")
@async_command
async def members_list(
    unverified: Annotated[
        bool, typer.Option("--unverified", help="nur noch nicht verifizierte")
    ] = False,
    format: FormatOption = "tabelle",
) -> None:
    """Mitglieder auflisten."""
    checked_format(format)
    async with open_app() as application, application.db.uow() as uow:
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
    # At 80 columns (a terminal or a pipe) names and addresses wrap instead of being cut.
    tables.print_rows(
        rows,
        format,
        [
            tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
            tables.Column("Name", lambda r: r["name"]),
            tables.Column("E-Mail", lambda r: r["email"]),
            tables.Column("Funktion", lambda r: role_label(r["role"])),
            tables.Column("Kommune", lambda r: r["municipality_name"].split(", ", 1)[0]),
            tables.Column("verif.", lambda r: "ja" if r["verified"] else "nein", wrap=False),
        ],
        empty="Keine Mitglieder.",
    )
