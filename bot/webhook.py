"""Receiving updates by webhook.

Telegram POSTs each update as JSON and presents the secret token in a header. A request
without the right token is refused with 403; a request with it whose body is not an update
(malformed JSON, JSON of another shape) with 400 and one log line, never a 500 or a traceback.
``read_update`` holds that decision so any HTTP server can use it; ``WebhookServer`` is the
small tornado server the channel runs when a webhook URL is configured.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from http import HTTPStatus

import tornado.httpserver
import tornado.web
from telegram import Bot, Update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BODY_MAX = 1_000_000  # Telegram's updates are far smaller; a bigger body is not one of them


class NotAnUpdate(ValueError):
    """The body is not a Telegram update; ``str()`` says why in a few words."""


def secret_matches(presented: str | None, secret: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), secret.encode())


def read_update(body: bytes, bot: Bot) -> Update:
    """The update in a webhook body, or ``NotAnUpdate``."""
    if len(body) > BODY_MAX:
        raise NotAnUpdate(f"body of {len(body)} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAnUpdate(f"no JSON: {type(error).__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise NotAnUpdate(f"JSON {type(data).__name__} without an integer update_id")
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # any decoding error of PTB: a field of the wrong shape
        raise NotAnUpdate(
            f"update {data['update_id']} undecodable: {type(error).__name__}"
        ) from None
    if update is None:
        raise NotAnUpdate("empty update")
    return update


class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: Bot, queue: asyncio.Queue, secret: str) -> None:
        self.bot = bot
        self.queue = queue
        self.secret = secret

    async def post(self) -> None:
        if not secret_matches(self.request.headers.get(SECRET_HEADER), self.secret):
            log.debug("webhook: request without the right secret token refused")
            self.set_status(HTTPStatus.FORBIDDEN)
            return
        try:
            update = read_update(self.request.body, self.bot)
        except NotAnUpdate as error:
            log.warning("webhook: refused a request that is not an update (%s)", error)
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        # Callback data of buttons is resolved as by PTB's own webhook handler.
        self.bot.insert_callback_data(update)
        await self.queue.put(update)

    def log_exception(self, typ, value, tb) -> None:
        # Anything else that goes wrong is one line, not a traceback with the request.
        if value is not None and not isinstance(value, tornado.web.HTTPError):
            log.error("webhook: request failed: %s", type(value).__name__)


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """The handler logs what matters; tornado's access log would repeat each request."""


class WebhookServer:
    """Serves the webhook path; updates go into the Application's update queue."""

    def __init__(self, bot: Bot, queue: asyncio.Queue, path: str, secret: str) -> None:
        shared = {"bot": bot, "queue": queue, "secret": secret}
        app = tornado.web.Application(
            [(rf"/{path.strip('/')}/?", _UpdateHandler, shared)], log_function=_no_access_log
        )
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=BODY_MAX)

    def start(self, listen: str, port: int) -> None:
        self._server.listen(port, address=listen)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
