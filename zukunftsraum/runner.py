"""``zukunftsraum run``: every configured channel in one asyncio loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Console

from zukunftsraum.bootstrap import App
from zukunftsraum.email_channel import build_email_channel


@dataclass(frozen=True)
class Component:
    """A long-running part of the process (a channel, a dispatcher, the scheduler)."""

    name: str
    run: Callable[[App, asyncio.Event], Awaitable[None]]


def components(app: App) -> tuple[list[Component], list[str]]:
    """What runs with this configuration, and hints for what does not."""
    active: list[Component] = []
    hints: list[str] = []
    settings = app.settings
    email = build_email_channel(app)
    active.append(
        Component(f"E-Mail-Versand ({email.dispatcher.transport.describe()})", email.run_dispatcher)
    )
    active.append(Component(f"E-Mail-Eingang ({email.inbox.describe()})", email.run_inbox))
    if not settings.smtp_enabled or not settings.imap_enabled:
        hints.append("E-Mail über Server: ZR_SMTP_HOST und ZR_IMAP_HOST setzen.")
    if settings.telegram_enabled:
        hints.append("Telegram: ZR_TELEGRAM_TOKEN ist gesetzt, der Kanal fehlt in dieser Version.")
    else:
        hints.append("Telegram: aus – zum Einschalten ZR_TELEGRAM_TOKEN setzen.")
    return active, hints


async def serve(app: App, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    active, hints = components(app)
    console.print(
        f"Zukunftsraum Assistent läuft – Datenbank: {app.db.engine.url.render_as_string()}"
    )
    console.print(
        "Terminal-Chat: verfügbar – in einem zweiten Terminal: zukunftsraum chat --as E-MAIL"
    )
    for component in active:
        console.print(f"{component.name}: aktiv")
    for hint in hints:
        console.print(hint)
    console.print("Beenden mit Strg+C.")
    tasks = [asyncio.create_task(c.run(app, stop), name=c.name) for c in active]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    console.print("Beendet.")
