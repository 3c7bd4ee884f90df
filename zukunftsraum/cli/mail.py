"""``zukunftsraum mail failed`` and ``mail retry ID`` (registered in ``cli``).

Incoming mails whose processing kept failing and outgoing mails given up on are set aside
with their reason instead of blocking the queue; operators see them here and put one back
once the cause is fixed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core.conversation import inbound_mail
from core.conversation.inbound_mail import masked
from core.messaging import outbox as outbox_cases
from zukunftsraum.cli import tables
from zukunftsraum.cli.common import FormatOption, async_command, checked_format, fail, open_app, out

mail_app = typer.Typer(help="E-Mail: zurückgestellte Nachrichten.", no_args_is_help=True)


@mail_app.command("failed")
@async_command
async def mail_failed(format: FormatOption = "tabelle") -> None:
    """Zurückgestellte E-Mails zeigen (eingehend und ausgehend) mit dem Grund."""
    checked_format(format)
    async with open_app() as application, application.db.uow() as uow:
        incoming = [
            {
                "direction": "incoming",
                "id": mail.id,
                "received_at": mail.received_at.isoformat() if mail.received_at else None,
                "attempts": mail.attempts,
                "error": mail.error,
            }
            for mail in await inbound_mail.failed_mails(uow)
        ]
        outgoing = [
            {
                "direction": "outgoing",
                "id": message.id,
                "to": masked(message.address),
                "kind": message.kind,
                "attempts": message.attempts,
                "error": message.last_error,
            }
            for message in await outbox_cases.failed_messages(uow, "email")
        ]
    if format == "json":
        tables.write_json_lines([*incoming, *outgoing])
        return
    if not incoming and not outgoing:
        out.print("Keine zurückgestellten E-Mails.")
        return
    if incoming:
        tables.print_rows(
            incoming,
            format,
            [
                tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
                tables.Column("eingegangen", lambda r: _when(r["received_at"]), wrap=False),
                tables.Column("Versuche", lambda r: r["attempts"], wrap=False, right=True),
                tables.Column("Grund", lambda r: r["error"], limit=200),
            ],
            empty="",
            title="Eingehend (mail retry NR.)",
        )
    if outgoing:
        tables.print_rows(
            outgoing,
            format,
            [
                tables.Column("Nr.", lambda r: r["id"], wrap=False, right=True),
                tables.Column("an", lambda r: r["to"]),
                tables.Column("Art", lambda r: r["kind"]),
                tables.Column("Versuche", lambda r: r["attempts"], wrap=False, right=True),
                tables.Column("Grund", lambda r: r["error"], limit=200),
            ],
            empty="",
            title="Ausgehend (mail retry NR. --outbox)",
        )


def _when(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") if iso else None


@mail_app.command("retry")
@async_command
async def mail_retry(
    id: Annotated[int, typer.Argument(metavar="NR", help="Nummer aus „mail failed“")],
    outbox: Annotated[bool, typer.Option("--outbox", help="eine ausgehende E-Mail")] = False,
) -> None:
    """Eine zurückgestellte E-Mail erneut verarbeiten (oder mit --outbox: erneut senden)."""
    async with open_app() as application, application.db.uow() as uow:
        if outbox:
            done = await outbox_cases.retry_failed(uow, id, application.services.clock())
        else:
            done = await inbound_mail.retry(uow, id)
        if not done:
            kind = "ausgehende" if outbox else "eingehende"
            fail(f"Es gibt keine zurückgestellte {kind} E-Mail {id}.", 2)
        await uow.commit()
    if outbox:
        out.print(f"Ausgehende E-Mail {id} wird erneut gesendet.")
    else:
        out.print(f"Eingehende E-Mail {id} wird bei der nächsten Runde erneut verarbeitet.")
