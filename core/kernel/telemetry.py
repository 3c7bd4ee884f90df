"""What the process counts and times, for whoever exposes it (``zukunftsraum.metrics``).

Core and the adapters report events here without knowing how they are exported; until a
sink is installed the reports go nowhere. Names are fixed in ``COUNTERS`` and ``TIMINGS``
so that a typo fails at once instead of creating a metric nobody reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

COUNTERS = {
    # a dispatcher recorded an outcome: labels channel, outcome (sent|retried|failed|unknown|
    # uncertain|unreachable|obsolete: a question settled before it was sent)
    "outbox_outcomes",
    # Telegram answered 429 Too Many Requests
    "telegram_throttled",
}
TIMINGS = {
    "sweep_seconds",  # one sweep in one tick; label sweep
    "match_seconds",  # ranking a new or changed post and recording its matches
}


class Sink(Protocol):
    def count(self, name: str, amount: float, labels: dict[str, str]) -> None: ...

    def observe(self, name: str, seconds: float, labels: dict[str, str]) -> None: ...


class _Nowhere:
    def count(self, name: str, amount: float, labels: dict[str, str]) -> None:
        return None

    def observe(self, name: str, seconds: float, labels: dict[str, str]) -> None:
        return None


_sink: Sink = _Nowhere()


def install(sink: Sink | None) -> None:
    """Send the reports to ``sink`` (None: nowhere again)."""
    global _sink
    _sink = sink or _Nowhere()


def count(name: str, amount: float = 1, **labels: str) -> None:
    if name not in COUNTERS:
        raise KeyError(f"unknown counter {name!r}")
    _sink.count(name, amount, labels)


def observe(name: str, seconds: float, **labels: str) -> None:
    if name not in TIMINGS:
        raise KeyError(f"unknown timing {name!r}")
    _sink.observe(name, seconds, labels)


@contextmanager
def timed(name: str, **labels: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        observe(name, time.perf_counter() - started, **labels)
