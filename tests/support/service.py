"""``zukunftsraum run`` as a separate process, to be killed the hard way (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path


class ServiceUnderTest:
    """One ``zukunftsraum run`` after another, on the same database and configuration."""

    def __init__(self, workdir: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.workdir = Path(workdir)
        self.env = env
        self.args = args  # after ``run``, e.g. ("--roles", "outbox")
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"run-{self.starts}.log"

    async def start(self) -> None:
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZR_")} | self.env
        env["PYTHONUNBUFFERED"] = "1"
        log = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "zukunftsraum",
            "run",
            *self.args,
            cwd=self.workdir,  # no .env of the developer's
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()

    def output(self, start: int | None = None) -> str:
        path = self.workdir / f"run-{start or self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def kill(self) -> None:
        """kill -9: no cleanup, no last words."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    async def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()
        self.process = None


def service_env(database_url: str, tg, workdir: Path, **extra: str) -> dict[str, str]:
    """Settings for a service talking to the local Bot API ``tg``; mail as files."""
    return {
        "ZR_DATABASE_URL": database_url,
        "ZR_TELEGRAM_TOKEN": tg.token,
        "ZR_TELEGRAM_BASE_URL": tg.base_url,
        "ZR_MAIL_DIR": str(Path(workdir) / "mail"),
        **extra,
    }
