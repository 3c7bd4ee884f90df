"""/healthz and /metrics of a real ``zukunftsraum run`` (ZR_HTTP_PORT), fetched over HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from core.store.unit_of_work import async_url
from tests.conftest import database_url
from tests.support.mailservers import free_port
from tests.support.service import ServiceUnderTest

STRANGER = "neu@beispiel-gemeinde.de"


async def _until(check, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except httpx.HTTPError as error:
            last = error
        else:
            if last:
                return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"waited {seconds:g} s in vain for {what} (last: {last!r})")


def _value(metrics: str, series: str) -> float | None:
    match = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.M)
    return float(match.group(1)) if match else None


def _drop_mail(inbox: Path) -> None:
    for sub in ("tmp", "new", "cur"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    raw = (
        f"From: {STRANGER}\r\nTo: assistent@zukunftsraum.localhost\r\nSubject: HILFE\r\n"
        "Message-ID: <health-1@beispiel-gemeinde.de>\r\n\r\nHallo\r\n"
    ).encode()
    (inbox / "tmp" / "1.mail").write_bytes(raw)
    os.replace(inbox / "tmp" / "1.mail", inbox / "new" / "1.mail")


async def test_metrics_and_health_of_a_running_service(tmp_path):
    port = free_port()
    env = {
        "ZR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'zr.db'}",
        "ZR_MAIL_DIR": str(tmp_path / "mail"),
        "ZR_HTTP_PORT": str(port),
        "ZR_HTTP_LISTEN": "127.0.0.1",
    }
    service = ServiceUnderTest(tmp_path, env)
    await service.start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=10) as http:

            async def healthy():
                response = await http.get(f"{base}/healthz")
                return response if response.status_code == 200 else None

            health = (await _until(healthy, "/healthz")).json()
            assert health["database"] is True and health["status"] == "ok"
            _drop_mail(tmp_path / "mail" / "inbox")

            async def answered():
                body = (await http.get(f"{base}/metrics")).text
                done = _value(body, 'zr_outbox_outcomes_total{channel="email",outcome="sent"}')
                # The counter moves when the send returns; the row's status is read from the
                # database, and it is recorded a moment later.
                recorded = _value(body, 'zr_outbox_messages{channel="email",status="sent"}')
                return body if done == 1.0 and recorded == 1.0 else None

            metrics = await _until(answered, "the answer to the stranger's mail in /metrics")
            assert _value(metrics, 'zr_inbound_mails{status="done"}') == 1.0
            assert _value(metrics, 'zr_outbox_messages{channel="email",status="sent"}') == 1.0
            assert _value(metrics, 'zr_outbox_messages{channel="telegram",status="pending"}') == 0
            assert _value(metrics, "zr_database_up") == 1.0
            assert _value(metrics, 'zr_role_held{role="scheduler"}') == 1.0
            assert _value(metrics, "zr_telegram_throttled_total") == 0.0
            assert re.search(
                r"^zr_sweep_duration_seconds_count\{sweep=\"\w+\"\} [1-9]", metrics, re.M
            )
            assert "zr_match_duration_seconds_bucket" in metrics
            assert "text/plain" in (await http.get(f"{base}/metrics")).headers["content-type"]

            health = (await http.get(f"{base}/healthz")).json()
            assert "scheduler" in health["roles"]
            assert any(role.startswith("imap:maildir:") for role in health["roles"])
            assert health["last_tick_age_seconds"] is not None
            assert (await http.get(f"{base}/nichts")).status_code == 404

        # A second process cannot have the same port: one line, and it ends.
        second = ServiceUnderTest(tmp_path / "second", env)
        second.workdir.mkdir()
        await second.start()
        assert await asyncio.wait_for(second.process.wait(), 120) == 1
        output = second.output()
        assert "Gesundheit und Metriken" in output and "Fehler" in output
        assert "Traceback" not in output
    finally:
        await service.stop()
    assert "Traceback" not in service.output() and "Beendet." in service.output()


@pytest.mark.skipif(
    database_url().startswith("sqlite"),
    reason="stopping and restoring the database server is shown on PostgreSQL",
)
async def test_healthz_is_503_while_the_database_is_away_and_200_when_it_is_back(tmp_path):
    admin_url = make_url(async_url(database_url()))
    name = f"{admin_url.database}_health"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    port = free_port()
    env = {
        "ZR_DATABASE_URL": admin_url.set(database=name).render_as_string(hide_password=False),
        "ZR_MAIL_DIR": str(tmp_path / "mail"),
        "ZR_HTTP_PORT": str(port),
        "ZR_HTTP_LISTEN": "127.0.0.1",
        "ZR_ROLE_CHECK_SECONDS": "1",
    }
    service = ServiceUnderTest(tmp_path, env)
    await service.start()
    base = f"http://127.0.0.1:{port}"

    async def away(allowed: bool) -> None:
        # The database refuses new connections and loses the open ones: for the service it
        # is gone, as when the server stops, without touching other databases.
        async with admin.connect() as conn:
            await conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {allowed}'))
            if not allowed:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                )

    try:
        async with httpx.AsyncClient(timeout=10) as http:

            async def health(status: int, with_scheduler: bool):
                response = await http.get(f"{base}/healthz")
                body = response.json()
                ok = response.status_code == status and (
                    ("scheduler" in body["roles"]) == with_scheduler
                )
                return body if ok else None

            await _until(lambda: health(200, True), "a healthy service holding the scheduler")
            await away(False)
            body = await _until(lambda: health(503, False), "503 without the database")
            assert body == {**body, "status": "unavailable", "database": False, "roles": []}
            metrics = (await http.get(f"{base}/metrics")).text
            assert _value(metrics, "zr_database_up") == 0.0
            assert _value(metrics, 'zr_role_held{role="scheduler"}') == 0.0
            await away(True)
            body = await _until(lambda: health(200, True), "200 once the database is back")
            assert body["database"] is True
            assert _value((await http.get(f"{base}/metrics")).text, "zr_database_up") == 1.0
    finally:
        await service.stop()
        async with admin.connect() as conn:
            await conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
    output = service.output()
    assert "Rolle abgegeben: scheduler" in output and "Traceback" not in output
