"""The HTTP side: a tornado server on 127.0.0.1 with an ephemeral port.

tornado is already installed as part of python-telegram-bot's webhooks extra and gives a
robust HTTP/1.1 implementation (keep-alive, multipart parsing) on the running asyncio loop.
"""

import asyncio
import contextlib
import json
import socket

from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from .dispatch import dispatch
from .errors import ApiError
from .params import decode_request
from .state import BotState


class _ApiHandler(RequestHandler):
    def initialize(self, state: BotState) -> None:
        self.state = state

    _call: asyncio.Task | None = None

    async def get(self, token: str, method: str) -> None:
        try:
            params = decode_request(self.request)
        except ApiError as error:  # malformed bodies become a Bot API 400, never a crash
            status, body = error.code, error.body()
        else:
            self._call = asyncio.ensure_future(dispatch(self.state, token, method, params))
            try:
                status, body = await self._call
            except asyncio.CancelledError:
                return  # the client hung up (see on_connection_close); nobody to answer
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        # The client may have given up on a long poll, e.g. PTB stopping its updater.
        with contextlib.suppress(StreamClosedError):
            await self.finish(json.dumps(body))

    post = get

    def on_connection_close(self) -> None:
        # A long poll whose client went away must end now; otherwise the next getUpdates would
        # "terminate" it and log a spurious 409 conflict.
        if self._call is not None:
            self._call.cancel()


class _FileHandler(RequestHandler):
    def initialize(self, state: BotState) -> None:
        self.state = state

    def get(self, token: str, path: str) -> None:
        if token != self.state.token:
            self.send_error(401)
            return
        document = next((d for d in self.state.documents.values() if d.file_path == path), None)
        if document is None:
            self.send_error(404)
            return
        self.set_header("Content-Type", document.mime_type)
        self.finish(document.content)


class BotApiHttpServer:
    def __init__(self, state: BotState) -> None:
        routes = [
            (r"/bot([^/]+)/([A-Za-z0-9_]+)/?", _ApiHandler, {"state": state}),
            (r"/file/bot([^/]+)/(.+)", _FileHandler, {"state": state}),
        ]
        # No access log: 4xx answers are expected in tests and would only add noise.
        self._app = Application(routes, log_function=lambda handler: None)
        self._server: HTTPServer | None = None
        self.port = 0

    async def start(self) -> None:
        sockets = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(self._app, max_body_size=60 * 1024 * 1024)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None
