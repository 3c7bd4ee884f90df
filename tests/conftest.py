"""Shared fixtures: a real database (SQLite in memory, or PostgreSQL when
``ZR_TEST_DATABASE_URL`` is set), real indexes and a controllable clock."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import traceback
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex
from core.feature_set import make_services
from core.kernel.context import Sender, Services
from core.knowledge.files import FileStore
from core.knowledge.library import KnowledgeLibrary
from core.matching.semantic import SentenceEncoder, StoredEncoder, use_encoder
from core.municipalities.directory import MunicipalityIndex, bundled_index
from core.municipalities.reference import _row
from core.store.unit_of_work import Database
from tests.support.shared import shared_path
from zukunftsraum.cli import app

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
    encoder = StoredEncoder(EMBEDDINGS, SentenceEncoder)
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


def pytest_configure(config):
    """Under pytest-xdist each worker gets a PostgreSQL database of its own beside the
    configured one (the tests drop and create the schema), made on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("ZR_TEST_DATABASE_URL", "")
    if worker and url and not url.startswith("sqlite"):
        os.environ["ZR_TEST_DATABASE_URL"] = asyncio.run(_worker_database(url, worker))


async def _worker_database(url: str, worker: str) -> str:
    import asyncpg  # the PostgreSQL driver, installed with the dev extras

    base = make_url(url)
    name = f"{base.database}_{worker}"
    connection = await asyncpg.connect(
        host=base.host,
        port=base.port,
        user=base.username,
        password=base.password,
        database=base.database,
    )
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.set(database=name).render_as_string(hide_password=False)


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
def services(test_municipalities, clock, tmp_path) -> Services:
    return make_services(
        index=MatchIndex(),
        municipalities=MunicipalityIndex(test_municipalities),
        clock=clock,
        knowledge=KnowledgeLibrary(files=FileStore(tmp_path / "data")),
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
        if self.sender.channel == "email":  # one form instead of the guided steps
            await self.say(f"Name: {name}\nKommune: {town}\nRolle: {role}\nEinverstanden: Ja")
            if self.last[0].choices and "mehrere" in self.last[0].text:
                await self.say(self.last[0].choices[0].command)
            assert "registriert" in self.text, self.text
            return
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


def invoke_process(args, env, cwd, stdin=""):
    """The console script as a process of its own (the smoke tests of the real entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "zukunftsraum", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def _invoke(args, env, cwd, stdin=""):
    """The command line run in this process through Typer's CliRunner: the same code as the
    console script without starting an interpreter per call. An unexpected exception shows
    up as a traceback on stderr, as it would in a real process."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), input=stdin, env=env, prog_name="zukunftsraum")
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, stderr)


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
