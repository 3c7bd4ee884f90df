"""Shared fixtures: a real database (SQLite in memory, or PostgreSQL when
``ZR_TEST_DATABASE_URL`` is set), real indexes and a controllable clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex, use_encoder
from core.kernel.context import Sender, Services
from core.matching.semantic import StoredEncoder, UniversalSentenceEncoder
from core.municipalities.directory import MunicipalityIndex, bundled_index
from core.municipalities.reference import _row
from core.store.unit_of_work import Database
from tests.support.shared import shared_path

DATA = Path(__file__).resolve().parent / "data"

# A handful of real municipalities keeps each test's database small and fast.
TEST_AGS = (
    "05358008",  # Düren (Stadt)
    "05358",  # Kreis Düren
    "12073452",  # Prenzlau, Uckermark
    "12073572",  # Templin, Uckermark
    "12073",  # Landkreis Uckermark
    "14626110",  # Görlitz
    "08311000",  # Freiburg im Breisgau
    "14521690",  # Zschopau
)


# Embeddings of the real model for the texts the tests use: encoding them costs nothing, and a
# text not in the file is encoded by the real model. ZR_SAVE_TEST_EMBEDDINGS=1 adds those to
# the file at the end of the run.
EMBEDDINGS = DATA / "embeddings.npz"


@pytest.fixture(scope="session", autouse=True)
def stored_embeddings():
    encoder = StoredEncoder(EMBEDDINGS, UniversalSentenceEncoder)
    if not EMBEDDINGS.exists():
        encoder.encode(["Bürgerbus"])  # load the real model now, not inside a timed wait
    use_encoder(encoder)
    yield encoder
    use_encoder(None)
    if encoder.misses and os.environ.get("ZR_SAVE_TEST_EMBEDDINGS") == "1":
        encoder.save()


def require_shared(subpath: str) -> Path:
    """Path below ../shared; skip when absent, but fail under CI where it must be present."""
    return shared_path(*Path(subpath).parts)


def read_id_list(name: str) -> set[str]:
    """Ids of conformance cases that pass and are kept as regression tests."""
    lines = (DATA / name).read_text("utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def test_municipalities():
    index = bundled_index()
    return [index.get(ags) for ags in TEST_AGS]


def database_url() -> str:
    return os.environ.get("ZR_TEST_DATABASE_URL", "sqlite+aiosqlite://")


@asynccontextmanager
async def prepared_database(url: str, municipalities):
    """A fresh schema with the given municipalities, dropped again afterwards."""
    database = Database(url)
    await database.drop_all()
    await database.create_all()
    async with database.uow() as uow:
        await uow.municipalities.upsert_many(_row(r) for r in municipalities)
        await uow.commit()
    try:
        yield database
    finally:
        await database.drop_all()
        await database.dispose()


@pytest.fixture
async def db(test_municipalities):
    async with prepared_database(database_url(), test_municipalities) as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(test_municipalities, clock) -> Services:
    return Services(
        index=MatchIndex(), municipalities=MunicipalityIndex(test_municipalities), clock=clock
    )


@pytest.fixture
def assistant(db, services) -> Assistant:
    return Assistant(db, services)


class Person:
    """A member-to-be talking to the assistant through one channel."""

    def __init__(self, assistant: Assistant, sender: Sender) -> None:
        self.assistant = assistant
        self.sender = sender
        self.last = []

    async def say(self, text: str):
        self.last = await self.assistant.handle(self.sender, text)
        return self.last

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def choice(self, label_part: str) -> str:
        for reply in self.last:
            for choice in reply.choices:
                if label_part.lower() in choice.label.lower():
                    return choice.command
        raise AssertionError(f"no choice like {label_part!r} in {self.last!r}")

    async def register(self, name: str, town: str, role: str = "mayor"):
        await self.say("/start")
        await self.say(name)
        await self.say(town)
        if self.last[0].choices and "wählen" in self.last[0].text:
            await self.say(self.last[0].choices[0].command)
        await self.say(role)
        if self.sender.channel == "telegram":
            await self.say("-")
        await self.say("ja")
        assert "registriert" in self.text, self.text


@pytest.fixture
def person(assistant):
    def make(address: str, channel: str = "terminal") -> Person:
        return Person(assistant, Sender(channel, address))

    return make


# --- the command line as operators use it: real processes, a real SQLite file ---------


def _invoke(args, env, cwd, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "zukunftsraum", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """A migrated database with the municipality list, made once and copied per test."""
    folder = tmp_path_factory.mktemp("template")
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{folder / 'zr.db'}"}
    assert _invoke(["municipalities", "import"], env, folder).returncode == 0
    return folder / "zr.db"


@pytest.fixture
def cli(tmp_path, template_db):
    shutil.copy(template_db, tmp_path / "zr.db")
    env = {
        **os.environ,
        "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}",
        "ZR_MAIL_DIR": str(tmp_path / "mail"),
        "COLUMNS": "200",
    }

    def run(*args: str, stdin: str = "", env_extra: dict | None = None):
        return _invoke(args, {**env, **(env_extra or {})}, tmp_path, stdin)

    return run


@pytest.fixture
def dovecot():
    """A real Dovecot (skips locally without it, fails under CI)."""
    from tests.support.mailservers import dovecot_root, start_dovecot

    root = dovecot_root()
    server = start_dovecot(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def smtp():
    """An SMTP sink (aiosmtpd) that keeps every message."""
    from tests.support.mailservers import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()
