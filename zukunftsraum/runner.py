"""``zukunftsraum run``: every configured channel in one asyncio loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Console

from core.runtime.processes import LeaseOwner
from scheduler import service as scheduler_service
from zukunftsraum.bootstrap import App
from zukunftsraum.email_channel import build_email_channel
from zukunftsraum.process import ProcessRegistration


@dataclass(frozen=True)
class Component:
    """A long-running part of the process (a channel, a dispatcher, the scheduler)."""

    name: str
    run: Callable[[App, asyncio.Event], Awaitable[None]]


def components(app: App, owner: LeaseOwner | None = None) -> tuple[list[Component], list[str]]:
    """What runs with this configuration, and hints for what does not.

    ``owner``: the registered process whose leases the dispatchers take.
    """
    active: list[Component] = []
    hints: list[str] = []
    settings = app.settings
    owner = owner or LeaseOwner()
    active.append(Component("Zeitplaner", scheduler_service.run))
    email = build_email_channel(app)
    email.dispatcher.owner = owner
    active.append(
        Component(f"E-Mail-Versand ({email.dispatcher.transport.describe()})", email.run_dispatcher)
    )
    active.append(Component(f"E-Mail-Eingang ({email.inbox.describe()})", email.run_inbox))
    if not settings.smtp_enabled or not settings.imap_enabled:
        hints.append("E-Mail über Server: ZR_SMTP_HOST und ZR_IMAP_HOST setzen.")
    if settings.telegram_enabled:
        active += telegram_components(app, owner)
    else:
        hints.append("Telegram: aus – zum Einschalten ZR_TELEGRAM_TOKEN setzen.")
    return active, hints


def telegram_components(app: App, owner: LeaseOwner | None = None) -> list[Component]:
    from bot.channel import TelegramChannel, TelegramConfig

    settings = app.settings
    config = TelegramConfig(
        token=settings.telegram_token,
        base_url=settings.telegram_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        webhook_listen=settings.telegram_webhook_listen,
        webhook_port=settings.telegram_webhook_port,
        read_timeout=settings.telegram_timeout_seconds,
        write_timeout=settings.telegram_timeout_seconds,
        unknown_pause=settings.unknown_retry_seconds,
    )
    channel = TelegramChannel(config, app.assistant)
    channel.dispatcher.owner = owner or LeaseOwner()
    return [
        Component(f"Telegram ({channel.mode})", lambda _app, stop: channel.run_updates(stop)),
        Component("Telegram-Zustellung", lambda _app, stop: channel.run_dispatcher(stop)),
    ]


async def serve(app: App, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    registration = ProcessRegistration(
        app.db,
        app.services.clock,
        heartbeat_seconds=app.settings.heartbeat_seconds,
        takeover_seconds=app.settings.lease_takeover_seconds,
    )
    released = await registration.start()
    active, hints = components(app, registration.owner)
    active.append(Component("Herzschlag", lambda _app, stop: registration.run(stop)))
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
    if released:
        console.print(f"Zustellungen eines abgebrochenen Vorgängers wieder aufgenommen: {released}")
    console.print("Beenden mit Strg+C.")
    tasks = [asyncio.create_task(c.run(app, stop), name=c.name) for c in active]
    for task in tasks:
        task.add_done_callback(lambda done: _report_failure(done, console, stop))
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    console.print("Beendet.")


def _report_failure(task: asyncio.Task, console: Console, stop: asyncio.Event) -> None:
    """A component that dies (e.g. a wrong bot token) ends the process with one line."""
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    first_line = (str(error).splitlines() or [""])[0][:200]
    console.print(f"{task.get_name()}: Fehler – {type(error).__name__}: {first_line}")
    stop.set()
