"""``zukunftsraum mail failed`` and ``mail retry ID`` (registered in ``cli``).

Incoming mails whose processing kept failing and outgoing mails given up on are set aside
with their reason instead of blocking the queue; operators see them here and put one back
once the cause is fixed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.conversation import inbound_mail
from core.conversation.inbound_mail import masked
from core.messaging import outbox as outbox_cases
from zukunftsraum.cli.common import async_command, fail, open_app, out

mail_app = typer.Typer(help="E-Mail: zurückgestellte Nachrichten.", no_args_is_help=True)


@mail_app.command("failed")
@async_command
async def mail_failed() -> None:
    """Zurückgestellte E-Mails zeigen (eingehend und ausgehend) mit dem Grund."""
    async with open_app() as application, application.db.uow() as uow:
        incoming = await inbound_mail.failed_mails(uow)
        outgoing = await outbox_cases.failed_messages(uow, "email")
    if not incoming and not outgoing:
        out.print("Keine zurückgestellten E-Mails.")
        return
    if incoming:
        table = Table("ID", "eingegangen", "Versuche", "Grund", title="Eingehend")
        for mail in incoming:
            received = mail.received_at.strftime("%Y-%m-%d %H:%M") if mail.received_at else "–"
            table.add_row(str(mail.id), received, str(mail.attempts), mail.error or "–")
        out.print(table)
    if outgoing:
        table = Table("ID", "an", "Art", "Versuche", "Grund", title="Ausgehend (--outbox)")
        for message in outgoing:
            table.add_row(
                str(message.id),
                masked(message.address),
                message.kind,
                str(message.attempts),
                message.last_error or "–",
            )
        out.print(table)


@mail_app.command("retry")
@async_command
async def mail_retry(
    id: Annotated[int, typer.Argument(help="Nummer aus „mail failed“")],
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
