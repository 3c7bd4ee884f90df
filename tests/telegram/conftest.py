"""Telegram end to end: the real PTB Application against the local fake Bot API server.

These tests run the bot the way ``zukunftsraum run`` does: concurrent handlers and a dispatcher
next to them, so the database is a migrated file (SQLite) or PostgreSQL, never the in-memory
SQLite with its one shared connection; and the clock is the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.channel import TelegramChannel, TelegramConfig
from bot.limits import SendLimits
from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex
from core.feature_set import make_services
from core.kernel.clock import system_clock
from core.kernel.context import Services
from core.municipalities.directory import MunicipalityIndex
from core.municipalities.reference import _row
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from tests.conftest import database_url
from tests.support.botapi import FakeTelegram


async def _reset(db: Database) -> None:
    await db.drop_all()
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
async def db(test_municipalities, tmp_path):
    url = database_url()
    if url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'zr.db'}"
    database = Database(url)
    await _reset(database)
    await upgrade(database)
    async with database.uow() as uow:
        await uow.municipalities.upsert_many(_row(r) for r in test_municipalities)
        await uow.commit()
    yield database
    await _reset(database)
    await database.dispose()


@pytest.fixture
def services(test_municipalities) -> Services:
    return make_services(
        index=MatchIndex(),
        municipalities=MunicipalityIndex(test_municipalities),
        clock=system_clock,
    )


@pytest.fixture
async def tg():
    async with FakeTelegram() as server:
        yield server


# Fast enough for tests; the real limits have their own tests (test_telegram_limits.py).
TEST_LIMITS = SendLimits.unlimited()


def config_for(tg: FakeTelegram, **overrides) -> TelegramConfig:
    values = {
        "token": tg.token,
        "base_url": tg.base_url,
        "limits": TEST_LIMITS,
        "poll_timeout": 1,
        "dispatcher_poll": 0.05,
    }
    return TelegramConfig(**(values | overrides))


@contextlib.asynccontextmanager
async def running(
    tg: FakeTelegram, assistant: Assistant, **overrides
) -> AsyncIterator[TelegramChannel]:
    """The channel as ``zukunftsraum run`` starts it: updates and the outbox dispatcher."""
    channel = TelegramChannel(config_for(tg, **overrides), assistant)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(channel.run_updates(stop)),
        asyncio.create_task(channel.run_dispatcher(stop)),
    ]
    try:
        await asyncio.wait_for(channel.ready.wait(), 10)
        yield channel
    finally:
        stop.set()
        await asyncio.gather(*tasks)


@pytest.fixture
def run_bot(tg, assistant):
    def start(**overrides):
        return running(tg, assistant, **overrides)

    return start
