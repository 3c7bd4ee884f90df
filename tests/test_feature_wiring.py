"""What the features declare reaches the running service: proven through `zukunftsraum run`.

An operator adds staff and a mayor, the mayor applies for a grant in the chat, staff approve
it from the shell; then the service runs as in production (mail as files). Its scheduler
must send the invoice-deadline reminder of the grants feature, and the staff digest must
carry the grant queue and budget with the charts inline (``cid:``) and attached.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import signal
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import core
from core.feature_set import all_features
from core.kernel.features import Feature, PrivacyHook, Sweep, assemble
from core.kernel.grammar import Command
from tests.support.maildir import delivered
from tests.support.waiting import wait_until
from tests.test_grants_cli import OPEN, _apply

BERLIN = ZoneInfo("Europe/Berlin")
STAFF = "sabine.kluge@example.org"
MAYOR = "fritz.lange@example.org"


def _invoice_deadline(today: date) -> str:
    """Today's date in Berlin as the invoice deadline: its reminders (14 and 3 days before)
    are due, within the budget year the application was made in. The programme refuses
    02-29 as a deadline (not every year has it); on that day the next one serves."""
    if (today.month, today.day) == (2, 29):
        return "03-01"
    return today.strftime("%m-%d")


def _mails(folder: Path) -> list:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default) for path in delivered(folder)
    ]


def _to(mails: list, address: str) -> list:
    return [m for m in mails if address in str(m["To"])]


def _reminders(mails: list) -> list:
    return [m for m in _to(mails, MAYOR) if str(m["Subject"]).startswith("Erinnerung")]


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def network(cli):
    """Staff, a verified mayor with an approved grant, all made through the shell and chat."""
    staff = cli(
        "members", "add", "--email", STAFF, "--name", "Sabine Kluge",
        "--municipality", "14626110", "--role", "network_staff", "--verified",
    )  # fmt: skip
    assert staff.returncode == 0, staff.stderr
    _apply(
        cli, MAYOR, "Fritz Lange", "14626110",
        "1\nDemografie-Werkstatt\nEine moderierte Werkstatt zur Prognose.\nfertig\n"
        "Beratung 2 Tage à 800 €\nfertig\nja\n",
    )  # fmt: skip
    approved = cli("grants", "approve", "1", "--amount", "1.200,00", env_extra=OPEN)
    assert approved.returncode == 0, approved.stderr
    return cli


def test_running_service_sends_grant_reminder_and_staff_digest_with_inline_charts(
    network, tmp_path
):
    env = {
        **os.environ,
        "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}",
        "ZR_MAIL_DIR": str(tmp_path / "mail"),
        "ZR_SWEEP_SECONDS": "1",
        "ZR_GRANT_APPLICATION_DEADLINE": "12-31",
        "ZR_GRANT_INVOICE_DEADLINE": _invoice_deadline(datetime.now(BERLIN).date()),
    }
    outbox = tmp_path / "mail" / "outbox" / "new"
    service = subprocess.Popen(
        [sys.executable, "-m", "zukunftsraum", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def arrived(mails):
            reminders = _reminders(mails)
            digests = [m for m in _to(mails, STAFF) if "übersicht" in str(m["Subject"])]
            return reminders and digests

        mails = wait_until(lambda: arrived(_mails(outbox)) and _mails(outbox), 120, "the mails")
    finally:
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    assert service.returncode == 0, output
    assert "Traceback" not in output, output

    [reminder] = _reminders(mails)
    assert "Antrag Nr. 1 „Demografie-Werkstatt“ fehlt noch der Verwendungsnachweis" in _plain(
        reminder
    )

    [digest] = [m for m in _to(mails, STAFF) if "übersicht" in str(m["Subject"])]
    text = _plain(digest)
    assert "Mikroförderung – zur Prüfung: 0" in text
    assert "Entscheidungen seit der letzten Übersicht: 1" in text
    assert "1.200,00 € bewilligt, 0,00 € in Prüfung" in text
    assert "Görlitz" in text and "1.200,00 € von 5.000,00 € (24 %)" in text
    assert "Sachsen: 1.200,00 € (Kommunen: 1)" in text

    html = digest.get_body(("html",))
    related = [p for p in digest.walk() if p.get_content_type() == "multipart/related"]
    assert related, [p.get_content_type() for p in digest.walk()]
    inline = [p for p in related[0].iter_parts() if p.get_content_type() == "image/png"]
    assert {p.get_filename() for p in inline} == {
        "zusammenfassung-aktivitaet.png",
        "zusammenfassung-foerderbudget.png",
        "zusammenfassung-netzwerkkarte.png",
    }
    assert "Mitglieder: 1 aus 1 Kommune" in text  # the map section (staff are not counted)
    for image in inline:
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
        assert image.get_content().startswith(b"\x89PNG")
    attached = [p.get_filename() for p in digest.iter_attachments()]
    assert "zusammenfassung-foerderbudget.png" in attached


def test_digest_send_now_reports_the_grant_queue(network, tmp_path):
    """`digest send --staff --now` builds the digest with the queue, weak regions first."""
    _apply(
        network, "greta.hahn@example.org", "Greta Hahn", "08311000",
        "2\nBesuch in Görlitz\nWir besuchen das Projekt Probewohnen.\nGörlitz\nfertig\n"
        "Fahrt Freiburg–Görlitz 240 €\nfertig\nja\n",
    )  # fmt: skip
    sent = network("digest", "send", "--staff", "--now", env_extra=OPEN)
    assert sent.returncode == 0, sent.stderr
    with sqlite3.connect(tmp_path / "zr.db") as connection:
        [(text,)] = connection.execute(
            "SELECT text FROM outbox WHERE kind = 'staff_digest'"
        ).fetchall()
    assert "Mikroförderung – zur Prüfung: 1" in text
    assert "Nr. 2 Freiburg im Breisgau" in text and "240,00 €, eingereicht am" in text
    assert "1.200,00 € bewilligt, 240,00 € in Prüfung; Kommunen mit Förderung: 2" in text
    assert "Baden-Württemberg: 240,00 € (Kommunen: 1)" in text


def test_assembly_refuses_a_sweep_declared_twice():
    async def nothing(uow, ctx):
        return 0

    twice = Feature("a", sweeps=(Sweep("same", nothing),))
    other = Feature("b", sweeps=(Sweep("same", nothing),))
    with pytest.raises(ValueError, match="sweep 'same' is declared twice"):
        assemble([twice, other])
    with pytest.raises(ValueError, match="feature 'a' is declared twice"):
        assemble([twice, twice])


def _defined_in_core(wanted) -> dict[str, object]:
    """Coroutine functions of core's modules (defined there, not imported) that ``wanted``
    accepts by name."""
    found = {}
    for module in pkgutil.walk_packages(core.__path__, "core."):
        if ".migrations" in module.name:  # Alembic's scripts run only under Alembic
            continue
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            own = getattr(value, "__module__", None) == loaded.__name__
            if wanted(name) and own and inspect.iscoroutinefunction(value):
                found[f"{loaded.__name__}.{name}"] = value
    return found


def test_every_sweep_function_in_core_is_declared_by_a_feature():
    """A sweep written in core but not declared would never run in the service: each
    ``sweep_*`` function of core must be called by the code of a declared sweep."""
    declared = all_features().sweeps
    assert {"reminders", "expiry", "grant_reminders", "staff_digest", "member_digest"} <= {
        sweep.name for sweep in declared
    }
    called = {name for sweep in declared for name in sweep.run.__code__.co_names}
    defined = {f.__name__ for f in _defined_in_core(lambda n: n.startswith("sweep_")).values()}
    assert len(defined) >= 5
    assert defined - called == set()


def test_every_staff_section_in_core_is_declared_by_a_feature():
    sections = _defined_in_core(lambda name: name.endswith("_section"))
    assert len(sections) >= 6
    assert {n for n, f in sections.items() if f not in all_features().staff_digest} == set()


def test_a_privacy_hook_cannot_take_a_key_of_the_member_export():
    with pytest.raises(ValueError, match="privacy hook 'posts' is declared twice"):
        assemble([Feature("a", privacy=(PrivacyHook("posts"),))])


def test_assembly_refuses_a_command_word_or_a_dialogue_step_declared_twice():
    async def handler(ctx, args):
        return None

    first = Feature("a", commands=(Command("suche", handler),), steps={("f", "s"): handler})
    same_word = Feature("b", commands=(Command("finden", handler, aliases=("suche",)),))
    same_step = Feature("c", steps={("f", "s"): handler})
    with pytest.raises(ValueError, match="'suche' is defined twice"):
        assemble([first, same_word])
    with pytest.raises(ValueError, match="dialogue step 'f/s' is declared twice"):
        assemble([first, same_step])


def test_every_declared_step_and_command_is_reached_through_the_assembled_features():
    features = all_features()
    assert features.grammar.find("antrag") in features.commands
    assert ("grant", "costs") in features.steps and ("register", "name") in features.steps
    menu = [command.name for command in features.grammar.menu(channel="telegram")]
    assert menu[:2] == ["start", "hilfe"] and menu.index("biete") < menu.index("einstellungen")
