"""``ZR_HTTP_PORT``: ``/healthz`` (JSON; 503 when the database cannot be reached) and
``/metrics`` (Prometheus text format), served by tornado, which python-telegram-bot's webhook
extra brings along.

A port of its own, not the webhook's: the webhook server belongs to python-telegram-bot's
updater (its secret-token check and its answers to bad requests), and it runs only in
webhook mode, while health checks are wanted in every process and every mode.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import tornado.web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core.runtime.service_figures import database_reachable, queue_figures
from zukunftsraum.metrics import Metrics

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 3.0


class Health:
    """What both endpoints read: the app, the election (roles) and the ticker (last tick)."""

    def __init__(self, app, wiring, metrics: Metrics) -> None:
        self.app = app
        self.wiring = wiring
        self.metrics = metrics

    @property
    def wanted_roles(self) -> set[str]:
        election = self.wiring.election
        return set(election.components) if election is not None else set()

    @property
    def held_roles(self) -> set[str]:
        election = self.wiring.election
        return election.held if election is not None else set()

    @property
    def last_tick(self) -> float | None:
        ticker = self.wiring.ticker
        return getattr(ticker, "last_tick", None)

    async def database_up(self) -> bool:
        try:
            return await asyncio.wait_for(database_reachable(self.app.db), DATABASE_TIMEOUT_SECONDS)
        except Exception as error:
            log.warning("health check: database not reachable: %s", type(error).__name__)
            return False

    async def report(self) -> tuple[int, dict]:
        up = await self.database_up()
        last = self.last_tick
        body = {
            "status": "ok" if up else "unavailable",
            "database": up,
            "roles": sorted(self.held_roles),
            "last_tick_age_seconds": None if last is None else round(time.time() - last, 1),
            "process_id": self.wiring.owner.id,
        }
        return (200 if up else 503), body

    async def refresh_metrics(self) -> None:
        up = await self.database_up()
        self.metrics.database_up.set(1 if up else 0)
        if up:
            try:
                figures = await asyncio.wait_for(
                    queue_figures(self.app.db), DATABASE_TIMEOUT_SECONDS
                )
            except Exception as error:  # the queue figures stay as last read
                log.warning("metrics: queue figures not read: %s", type(error).__name__)
                self.metrics.database_up.set(0)
            else:
                self.metrics.set_queues(figures)
        self.metrics.set_roles(self.wanted_roles, self.held_roles)
        self.metrics.set_last_tick(self.last_tick)


class HealthHandler(tornado.web.RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        status, body = await self.health.report()
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        await self.health.refresh_metrics()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(self.health.metrics.exposition())


def make_app(health: Health) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/healthz", HealthHandler, {"health": health}),
            (r"/metrics", MetricsHandler, {"health": health}),
        ],
        log_function=lambda handler: None,  # scrapes every few seconds: no access log
    )


async def serve_http(app, wiring, stop: asyncio.Event) -> None:
    metrics = Metrics()
    metrics.install()
    server = make_app(Health(app, wiring, metrics)).listen(
        app.settings.http_port, address=app.settings.http_listen
    )
    log.info("health and metrics on port %s", app.settings.http_port)
    try:
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()


def health_component(app, wiring):
    from zukunftsraum.runner import Component

    settings = app.settings
    return Component(
        f"Gesundheit und Metriken (http://{settings.http_listen}:{settings.http_port}/healthz, "
        "/metrics)",
        lambda _app, stop: serve_http(app, wiring, stop),
    )
