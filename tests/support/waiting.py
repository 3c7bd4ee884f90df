"""Waiting in tests for something that happens elsewhere (a server, a dispatcher, a process).

One rule for all of them: probe every few hundredths of a second, give up after ``timeout``
seconds with an AssertionError that says what was awaited. Waiting is never a figure that a
test asserts on; the timeouts are generous so a loaded machine only makes a test slower.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


def _what(probe: Callable[[], Any], what: str | None) -> str:
    return what or getattr(probe, "__name__", "the condition")


async def eventually(
    probe: Callable[[], Any], timeout: float = 10.0, what: str | None = None
) -> Any:
    """Wait until ``probe()`` (plain or async) gives something truthy, and return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout:g} s in vain for {_what(probe, what)}")
        await asyncio.sleep(0.05)


def wait_until(probe: Callable[[], Any], timeout: float = 60.0, what: str | None = None) -> Any:
    """The same for a test that is not async (it watches a separate process)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s in vain for {_what(probe, what)}")
        time.sleep(0.2)
