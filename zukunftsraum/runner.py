"""``zukunftsraum run``: every configured channel in one asyncio loop.

Components belong to roles (``zukunftsraum.roles``): those of a singleton role run only while
this process holds the role's lock; the others (the dispatchers) run in every process.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Console

from core.runtime.leader import HeldRole
from core.runtime.processes import LeaseOwner
from core.store.role_locks import RoleLocks
from scheduler import service as scheduler_service
from zukunftsraum.bootstrap import App
from zukunftsraum.email_channel import build_email_channel
from zukunftsraum.process import ProcessRegistration
from zukunftsraum.roles import ROLES, ElectedComponent, Election

TELEGRAM_POLLING = "telegram-polling"


@dataclass(frozen=True)
class Component:
    """A long-running part of the process (a channel, a dispatcher, the scheduler).

    ``lock``: the singleton role it needs (None: it runs in every process).
    """

    name: str
    run: Callable[[App, asyncio.Event], Awaitable[None]]
    lock: str | None = None


@dataclass
class Wiring:
    """What ``serve`` needs besides the components: how the health endpoint sees them."""

    owner: LeaseOwner
    ticker: object | None = None
    election: Election | None = None


def components(
    app: App,
    owner: LeaseOwner | None = None,
    roles: frozenset[str] = frozenset(ROLES),
    wiring: Wiring | None = None,
) -> tuple[list[Component], list[str]]:
    """What runs with this configuration and these roles, and hints for what does not.

    ``owner``: the registered process whose leases the dispatchers take.
    """
    active: list[Component] = []
    hints: list[str] = []
    settings = app.settings
    wiring = wiring or Wiring(owner or LeaseOwner())
    if "scheduler" in roles:
        active.append(scheduler_component(app, wiring))
    email = build_email_channel(app)
    email.dispatcher.owner = wiring.owner
    if "outbox" in roles:
        active.append(
            Component(
                f"E-Mail-Versand ({email.dispatcher.transport.describe()})", email.run_dispatcher
            )
        )
    if "imap" in roles:
        active.append(
            Component(
                f"E-Mail-Eingang ({email.inbox.describe()})", email.run_inbox, email.intake_role
            )
        )
    if "imap" in roles and not settings.mail_authserv_ids:
        hints.append(
            "E-Mail-Absender: ungeprüft – gefälschte From-Angaben werden angenommen; "
            "zum Prüfen ZR_MAIL_AUTHSERV_ID setzen (authserv-id des Mailservers)."
        )
    if not settings.smtp_enabled or not settings.imap_enabled:
        hints.append("E-Mail über Server: ZR_SMTP_HOST und ZR_IMAP_HOST setzen.")
    if settings.telegram_enabled:
        active += telegram_components(app, wiring.owner, roles)
    else:
        hints.append("Telegram: aus – zum Einschalten ZR_TELEGRAM_TOKEN setzen.")
    return active, hints


def scheduler_component(app: App, wiring: Wiring) -> Component:
    def held() -> set[str]:
        return wiring.election.held if wiring.election is not None else {"scheduler"}

    ticker = scheduler_service.ticker_for(app, HeldRole("scheduler", held))
    wiring.ticker = ticker
    return Component(
        "Zeitplaner", functools.partial(scheduler_service.run, ticker=ticker), "scheduler"
    )


def telegram_components(
    app: App, owner: LeaseOwner | None = None, roles: frozenset[str] = frozenset(ROLES)
) -> list[Component]:
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
    active: list[Component] = []
    receiving = "telegram" in roles
    if channel.mode == "webhook" and receiving:
        # Telegram posts each update to one request: every process may receive.
        active.append(Component("Telegram (webhook)", lambda _app, stop: channel.run_updates(stop)))
    elif receiving or "outbox" in roles:
        active.append(Component("Telegram-Bot", lambda _app, stop: channel.run_bot(stop)))
        if receiving:  # one poller per bot: a second one gets 409 Conflict
            active.append(
                Component(
                    "Telegram (polling)",
                    lambda _app, stop: channel.run_polling(stop),
                    TELEGRAM_POLLING,
                )
            )
    if "outbox" in roles:
        active.append(
            Component("Telegram-Zustellung", lambda _app, stop: channel.run_dispatcher(stop))
        )
    return active


async def serve(app: App, console: Console, roles: frozenset[str] = frozenset(ROLES)) -> bool:
    """Run until a signal (True) or until a component fails (False)."""
    stop = asyncio.Event()
    failures: list[str] = []
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
    wiring = Wiring(registration.owner)
    active, hints = components(app, registration.owner, roles, wiring)
    report_failure = functools.partial(
        _report_failure, console=console, stop=stop, failures=failures
    )

    def announce(role: str, taken: bool) -> None:
        console.print(f"Rolle {'übernommen' if taken else 'abgegeben'}: {role}")

    wiring.election = Election(
        RoleLocks(app.db),
        [
            ElectedComponent(c.lock, c.name, functools.partial(c.run, app))
            for c in active
            if c.lock is not None
        ],
        interval=app.settings.role_check_seconds,
        on_failure=report_failure,
        on_change=announce,
    )
    plain = [c for c in active if c.lock is None]
    plain.append(Component("Herzschlag", lambda _app, stop: registration.run(stop)))
    if app.settings.http_port:
        from zukunftsraum.health import health_component

        plain.append(health_component(app, wiring))
    console.print(
        f"Zukunftsraum Assistent läuft – Datenbank: {app.db.engine.url.render_as_string()}"
    )
    console.print(
        "Terminal-Chat: verfügbar – in einem zweiten Terminal: zukunftsraum chat --as E-MAIL"
    )
    console.print(f"Rollen: {', '.join(r for r in ROLES if r in roles)}")
    for component in active:
        state = f"sobald Rolle {component.lock} frei" if component.lock else "aktiv"
        console.print(f"{component.name}: {state}")
    for hint in hints:
        console.print(hint)
    if released:
        console.print(f"Zustellungen eines abgebrochenen Vorgängers wieder aufgenommen: {released}")
    console.print("Beenden mit Strg+C.")
    # The elected components end first (polling stops, the locks are given back) while the
    # bot they use is still up; then the rest.
    rest_stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(app, rest_stop), name=c.name) for c in plain]
    election = asyncio.create_task(wiring.election.run(stop), name="Rollenwahl")
    for task in [*tasks, election]:
        task.add_done_callback(report_failure)
    await stop.wait()
    await asyncio.gather(election, return_exceptions=True)
    rest_stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    console.print("Beendet.")
    return not failures


def _report_failure(
    task: asyncio.Task, console: Console, stop: asyncio.Event, failures: list[str]
) -> None:
    """A component that dies (e.g. a wrong bot token) ends the process with one line."""
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    first_line = (str(error).splitlines() or [""])[0][:200]
    console.print(f"{task.get_name()}: Fehler – {type(error).__name__}: {first_line}")
    failures.append(task.get_name())
    stop.set()
