"""Delivery of pending updates to a webhook, one at a time and in order, like Telegram."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .state import BotState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Delivery:
    update_id: int
    url: str
    secret_sent: bool
    status: int | None  # None when the connection failed
    at: float


class WebhookDeliverer:
    def __init__(self, state: BotState, attempts: int = 3, retry_delay: float = 0.2) -> None:
        self.state = state
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.deliveries: list[Delivery] = []
        self._client = httpx.AsyncClient(timeout=10.0)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._client.aclose()

    async def post(self, update: dict[str, Any], url: str, secret: str | None) -> int | None:
        """POST one update; tests call this directly to try a wrong or missing secret."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        try:
            response = await self._client.post(url, json=update, headers=headers)
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        delivery = Delivery(
            update.get("update_id", 0), url, secret is not None, status, time.monotonic()
        )
        self.deliveries.append(delivery)
        self.state.notify()
        return status

    async def _run(self) -> None:
        while True:
            hook = self.state.webhook
            batch = self.state.updates.take(1) if hook is not None else []
            if not batch:
                # Polling keeps this simple: setWebhook needs no extra wake-up channel.
                await self.state.updates.changed(timeout=0.05)
                continue
            await self._deliver(batch[0], hook.url, hook.secret_token)

    async def _deliver(self, update: dict[str, Any], url: str, secret: str | None) -> None:
        for attempt in range(self.attempts):
            status = await self.post(update, url, secret)
            if status is not None and 200 <= status < 300:
                break
            self._record_error(status)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.retry_delay)
        self.state.updates.remove_first()

    def _record_error(self, status: int | None) -> None:
        if self.state.webhook is None:
            return
        self.state.webhook.last_error_date = self.state.now()
        reason = (
            "Connection refused" if status is None else f"Wrong response from the webhook: {status}"
        )
        self.state.webhook.last_error_message = reason
