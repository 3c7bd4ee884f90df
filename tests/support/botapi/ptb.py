"""Run a real python-telegram-bot Application against a FakeTelegram."""

import contextlib
from collections.abc import AsyncIterator, Sequence

from telegram.ext import Application, BaseHandler

from .server import FakeTelegram


@contextlib.asynccontextmanager
async def polling_application(
    tg: FakeTelegram,
    handlers: Sequence[BaseHandler] = (),
    application: Application | None = None,
    **polling: object,
) -> AsyncIterator[Application]:
    """Initialize, start and poll; everything is stopped again when the block ends.

    A short long-poll timeout keeps shutdown quick; pass ``timeout=`` etc. to override.
    """
    app = application or tg.application_builder().build()
    for handler in handlers:
        app.add_handler(handler)
    polling.setdefault("timeout", 1)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(**polling)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
