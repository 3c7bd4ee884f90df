"""Prometheus metrics of one ``zukunftsraum run`` process.

Two kinds: what this process counted since it started (``core.kernel.telemetry`` reports: outcomes,
429s, sweep and match timings) and what the database holds (queue depths, read at every
scrape, the same whichever process is asked). Every metric is described in
docs/operations.md.
"""

from __future__ import annotations

import math
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest

from core.kernel import telemetry
from core.runtime.service_figures import QueueFigures

CHANNELS = ("telegram", "email")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "unrouted", "obsolete")
INBOUND_STATUSES = ("new", "done", "failed")  # others (bounce, ignored, ...) once seen
OUTCOMES = ("sent", "retried", "failed", "unknown", "uncertain", "unreachable", "obsolete")
# Matching takes milliseconds to a second; sweeps up to minutes on a large network.
MATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # the *_created series say nothing an operator needs
        self.registry = CollectorRegistry()
        r = self.registry
        self.outbox = Gauge(
            "zr_outbox_messages",
            "Outbox messages in the database by channel and status",
            ["channel", "status"],
            registry=r,
        )
        self.attempts = Gauge(
            "zr_outbox_failed_attempts",
            "Failed delivery attempts recorded on the outbox messages in the database",
            ["channel"],
            registry=r,
        )
        self.unconfirmed = Gauge(
            "zr_outbox_unconfirmed",
            "Sends of unknown outcome (timeouts, takeovers) recorded in the database",
            ["channel"],
            registry=r,
        )
        self.inbound = Gauge(
            "zr_inbound_mails", "Stored incoming mails by status", ["status"], registry=r
        )
        self.outcomes = Counter(
            "zr_outbox_outcomes",
            "Delivery outcomes this process recorded",
            ["channel", "outcome"],
            registry=r,
        )
        self.throttled = Counter(
            "zr_telegram_throttled",
            "429 Too Many Requests answers from the Bot API to this process",
            registry=r,
        )
        self.sweeps = Histogram(
            "zr_sweep_duration_seconds",
            "Duration of one sweep in one scheduler tick",
            ["sweep"],
            buckets=SWEEP_BUCKETS,
            registry=r,
        )
        self.matching = Histogram(
            "zr_match_duration_seconds",
            "Ranking a new or changed post and recording its matches",
            buckets=MATCH_BUCKETS,
            registry=r,
        )
        self.roles = Gauge(
            "zr_role_held", "1 while this process holds the singleton role", ["role"], registry=r
        )
        self.database_up = Gauge(
            "zr_database_up", "1 when the last check reached the database", registry=r
        )
        self.last_tick = Gauge(
            "zr_scheduler_last_tick_age_seconds",
            "Seconds since this process last completed a scheduler tick (NaN: never)",
            registry=r,
        )
        for channel in CHANNELS:
            for outcome in OUTCOMES:
                self.outcomes.labels(channel, outcome)

    # -- core.kernel.telemetry sink ---------------------------------------------------------------

    def count(self, name: str, amount: float, labels: dict[str, str]) -> None:
        if name == "outbox_outcomes":
            self.outcomes.labels(labels["channel"], labels["outcome"]).inc(amount)
        elif name == "telegram_throttled":
            self.throttled.inc(amount)

    def observe(self, name: str, seconds: float, labels: dict[str, str]) -> None:
        if name == "sweep_seconds":
            self.sweeps.labels(labels["sweep"]).observe(seconds)
        elif name == "match_seconds":
            self.matching.observe(seconds)

    def install(self) -> None:
        telemetry.install(self)

    # -- state read at a scrape ------------------------------------------------------------

    def set_queues(self, figures: QueueFigures) -> None:
        channels = set(CHANNELS) | {channel for channel, _ in figures.outbox}
        for channel in channels:
            for status in set(OUTBOX_STATUSES) | {s for c, s in figures.outbox if c == channel}:
                self.outbox.labels(channel, status).set(figures.outbox.get((channel, status), 0))
            self.attempts.labels(channel).set(figures.attempts.get(channel, 0))
            self.unconfirmed.labels(channel).set(figures.unconfirmed.get(channel, 0))
        for status in set(INBOUND_STATUSES) | set(figures.inbound):
            self.inbound.labels(status).set(figures.inbound.get(status, 0))

    def set_roles(self, wanted: set[str], held: set[str]) -> None:
        for role in wanted:
            self.roles.labels(role).set(1 if role in held else 0)

    def set_last_tick(self, last_tick: float | None) -> None:
        self.last_tick.set(math.nan if last_tick is None else time.time() - last_tick)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
