"""The Telegram channel: the PTB Application (updates in) and the outbox dispatcher (out).

Both share one bot and so one limiter: interactive replies and outbox deliveries draw from the
same 30/s budget, replies first. Polling by default; a webhook when a webhook URL is configured
(bot/webhook.py: Telegram must present the secret token, other requests are refused).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlparse

from telegram import BotCommand
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot import handlers
from bot.concurrency import PerChatUpdateProcessor
from bot.deps import KEY, Deps
from bot.dispatcher import OutboxDispatcher
from bot.intake import GuardedUpdatesRequest, quiet_sensitive_loggers
from bot.limits import SendLimiter, SendLimits
from bot.ratelimiter import LimiterBridge
from bot.webhook import WebhookServer
from core.conversation.assistant import Assistant

log = logging.getLogger(__name__)
DESCRIPTION_MAX = 256


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    limits: SendLimits = field(default_factory=SendLimits.telegram)
    poll_timeout: int = 10
    dispatcher_poll: float = 0.5
    concurrent_updates: int = 256
    # Bot API calls usually answer within a second, but under load Telegram can take many
    # seconds; a read timeout shorter than that turns every slow answer into a send of unknown
    # outcome (and a possible duplicate). Uploads of up to 50 MB need the longer write timeout.
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    media_write_timeout: float = 120.0
    connect_timeout: float = 10.0
    # Pause before the one retry of a send whose outcome is unknown.
    unknown_pause: float = 30.0

    @property
    def base_file_url(self) -> str:
        root = self.base_url.rstrip("/").removesuffix("/bot")
        return f"{root}/file/bot"

    @property
    def webhook_path(self) -> str:
        return urlparse(self.webhook_url).path.strip("/") or "telegram"


def menu(assistant: Assistant) -> list[BotCommand]:
    """Telegram's command menu, generated from the one grammar."""
    return [
        BotCommand(command.name, command.help[:DESCRIPTION_MAX])
        for command in assistant.grammar.menu(channel="telegram")
    ]


class TelegramChannel:
    def __init__(self, config: TelegramConfig, assistant: Assistant) -> None:
        quiet_sensitive_loggers()
        self.config = config
        self.assistant = assistant
        self.limiter = SendLimiter(config.limits)
        self.ready = asyncio.Event()
        self._webhook: WebhookServer | None = None
        self.application = self._build()
        self.dispatcher = OutboxDispatcher(
            assistant.db,
            self.application.bot,
            self.limiter,
            assistant.services.clock,
            poll_interval=config.dispatcher_poll,
            unknown_pause=config.unknown_pause,
        )
        shared = self.application.bot_data[KEY]
        shared.on_queued = self.dispatcher.wake
        shared.unknown_pause = timedelta(seconds=config.unknown_pause)

    def _build(self) -> Application:
        config = self.config
        application = (
            Application.builder()
            .token(config.token)
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .request(
                HTTPXRequest(
                    connection_pool_size=64,
                    pool_timeout=30.0,
                    read_timeout=config.read_timeout,
                    write_timeout=config.write_timeout,
                    media_write_timeout=config.media_write_timeout,
                    connect_timeout=config.connect_timeout,
                )
            )
            .get_updates_request(GuardedUpdatesRequest(connection_pool_size=1))
            .rate_limiter(LimiterBridge(self.limiter))
            .concurrent_updates(PerChatUpdateProcessor(config.concurrent_updates))
            .post_init(self._post_init)
            .post_shutdown(self._post_shutdown)
            .build()
        )
        application.bot_data[KEY] = Deps(self.assistant)
        handlers.register(application)
        return application

    async def _post_init(self, application: Application) -> None:
        await application.bot.set_my_commands(menu(self.assistant))
        # The deep links of invitations name the bot as Telegram knows it.
        self.assistant.services.bot_username = application.bot.username

    async def _post_shutdown(self, application: Application) -> None:
        self.ready.clear()

    # -- lifecycle: what run_polling/run_webhook do, inside our own event loop --------------

    async def start(self) -> None:
        application = self.application
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        config = self.config
        if config.webhook_url:
            await self._start_webhook()
        else:
            await application.updater.start_polling(
                timeout=config.poll_timeout, allowed_updates=handlers.ALLOWED_UPDATES
            )
        await application.start()
        self.ready.set()
        log.info("telegram: %s as @%s", self.mode, application.bot.username)

    async def _start_webhook(self) -> None:
        config, bot = self.config, self.application.bot
        self._webhook = WebhookServer(
            bot, self.application.update_queue, config.webhook_path, config.webhook_secret
        )
        self._webhook.start(config.webhook_listen, config.webhook_port)
        await bot.set_webhook(
            url=config.webhook_url,
            secret_token=config.webhook_secret,
            allowed_updates=handlers.ALLOWED_UPDATES,
        )

    async def stop(self) -> None:
        application = self.application
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)

    @property
    def mode(self) -> str:
        return "webhook" if self.config.webhook_url else "polling"

    async def run_updates(self, stop: asyncio.Event) -> None:
        """Receive and handle updates until ``stop`` is set."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def run_dispatcher(self, stop: asyncio.Event) -> None:
        """Deliver the outbox once the bot is up, until ``stop`` is set."""
        waiter = asyncio.ensure_future(self.ready.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        if not stop.is_set():
            await self.dispatcher.run(stop)

    # -- several processes: the bot in each, polling only in the one holding the role --------

    async def run_bot(self, stop: asyncio.Event) -> None:
        """The bot without receiving (updates come from ``run_polling``), until ``stop``."""
        application = self.application
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        self.ready.set()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def run_polling(self, stop: asyncio.Event) -> None:
        """Long polling while this process holds the role; the bot must be up (``run_bot``)."""
        await self.ready.wait()
        updater = self.application.updater
        await updater.start_polling(
            timeout=self.config.poll_timeout, allowed_updates=handlers.ALLOWED_UPDATES
        )
        log.info("telegram: polling as @%s", self.application.bot.username)
        try:
            await stop.wait()
        finally:
            if updater.running:
                await updater.stop()
