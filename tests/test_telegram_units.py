"""Rendering, the intake guard, the runner wiring and idempotent input, without a server."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.intake import sanitise_updates
from bot.render import CALLBACK_DATA_MAX, keyboard, render, split_text
from core.kernel.context import Sender
from core.kernel.replies import Attachment, Choice, Reply
from core.store.models import Post
from zukunftsraum.bootstrap import App
from zukunftsraum.runner import components
from zukunftsraum.settings import ConfigError, load_settings


def test_callback_data_longer_than_64_bytes_is_left_out():
    fits = "/annehmen 12"
    too_long = "/einstellungen " + "ü" * 30  # 15 + 60 bytes
    markup = keyboard([Choice("Ja", fits), Choice("Zu lang", too_long)])
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == [fits]
    assert all(len(d.encode()) <= CALLBACK_DATA_MAX for d in data)


def test_short_choices_share_rows_long_ones_get_their_own():
    short = keyboard([Choice("Ja, gern", "/annehmen 1"), Choice("Nein, danke", "/ablehnen 1")])
    assert [len(row) for row in short.inline_keyboard] == [2]
    towns = [Choice("Düren (Stadt), Kreis Düren, Nordrhein-Westfalen", "05358008")] * 2
    assert [len(row) for row in keyboard(towns).inline_keyboard] == [1, 1]


def test_long_text_is_split_and_the_keyboard_goes_last():
    reply = Reply(("Absatz. " * 300 + "\n\n") * 3, [Choice("Ja", "ja")])
    sends = render(reply)
    assert len(sends) > 1 and all(len(s.text) <= 4096 for s in sends)
    assert [s.keyboard is not None for s in sends] == [False] * (len(sends) - 1) + [True]
    assert "".join(split_text("x" * 9000)) == "x" * 9000


def test_attachment_carries_the_text_as_caption():
    reply = Reply("Ihre Daten", attachments=[Attachment("d.json", "application/json", b"{}")])
    [send] = render(reply)
    assert send.document.filename == "d.json" and send.text == "Ihre Daten"


def test_undecodable_updates_are_emptied_not_dropped():
    good = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}},
    }
    bad = {"update_id": 2, "message": {"message_id": "x"}}
    assert sanitise_updates([good, bad]) == [good, {"update_id": 2}]
    assert sanitise_updates(True) is True


async def test_same_event_twice_changes_nothing_the_second_time(assistant, db, person):
    anna = person("1001", "telegram")
    await anna.register("Anna Schmidt", "Prenzlau")
    sender = Sender("telegram", "1001")
    first = await assistant.handle(sender, "/biete Bürgerbus-Konzept", event=("telegram", "77"))
    again = await assistant.handle(sender, "/biete Bürgerbus-Konzept", event=("telegram", "77"))
    assert "veröffentlicht" in first[0].text and again == []
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Post)) == 1


def test_webhook_needs_a_secret(monkeypatch):
    monkeypatch.setenv("ZR_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    try:
        load_settings()
    except ConfigError as error:
        assert str(error).startswith("ZR_TELEGRAM_WEBHOOK_SECRET:")
    else:
        raise AssertionError("a webhook without a secret was accepted")
    monkeypatch.setenv("ZR_TELEGRAM_WEBHOOK_SECRET", "geheim-123")
    assert load_settings().telegram_webhook_secret == "geheim-123"


def test_runner_registers_telegram_when_a_token_is_set(assistant, db, services, monkeypatch):
    monkeypatch.setenv("ZR_TELEGRAM_TOKEN", "123:abc")
    app = App(load_settings(), db, services, assistant)
    active, hints = components(app)
    names = [c.name for c in active]
    assert "Telegram (polling)" in names and "Telegram-Zustellung" in names
    monkeypatch.delenv("ZR_TELEGRAM_TOKEN")
    active, hints = components(App(load_settings(), db, services, assistant))
    assert not [c for c in active if c.name.startswith("Telegram")]
    assert any("ZR_TELEGRAM_TOKEN" in h for h in hints)


def test_rejected_webhook_updates_are_logged_without_content(caplog):
    import logging

    from bot.intake import quiet_sensitive_loggers

    quiet_sensitive_loggers()
    with caplog.at_level(logging.INFO):
        logging.getLogger("telegram.ext.Updater").critical(
            "Something went wrong. Received data was *not* processed! Received data was: %r",
            {"message": {"text": "Geheimer Inhalt"}},
        )
    assert "Geheimer Inhalt" not in caplog.text and "content not logged" in caplog.text
