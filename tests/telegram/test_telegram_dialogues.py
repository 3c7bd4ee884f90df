"""Self-registration with buttons, a dialogue across a restart, and the member's own data."""

from __future__ import annotations

import json

from tests.telegram.helpers import add_telegram_member, button, has_button, has_text, posts


async def press(tg, chat_id: int, message, label_part: str):
    tg.user_presses_button(chat_id, message.message_id, button(message, label_part))


async def test_self_registration_then_a_dialogue_survives_a_restart(db, tg, run_bot):
    anna = tg.add_user(first_name="Anna")
    async with run_bot():
        tg.user_sends_command(anna.id, "start")
        await tg.wait_for_message(anna.id, has_text("Wie heißen Sie"))
        tg.user_sends_text(anna.id, "Anna Schmidt")
        await tg.wait_for_message(anna.id, has_text("Für welche Kommune"))
        tg.user_sends_text(anna.id, "Düren")
        towns = await tg.wait_for_message(anna.id, has_text("wählen Sie Ihre Kommune"))
        await press(tg, anna.id, towns, "Düren (Stadt)")
        roles = await tg.wait_for_message(anna.id, has_text("in welcher Funktion"))
        await press(tg, anna.id, roles, "Bürgermeister")
        email = await tg.wait_for_message(anna.id, has_text("E-Mail-Adresse"))
        await press(tg, anna.id, email, "Überspringen")
        consent = await tg.wait_for_message(anna.id, has_text("Datenschutz"))
        await press(tg, anna.id, consent, "stimme zu")
        await tg.wait_for_message(anna.id, has_text("Sie sind registriert"))

        tg.user_sends_command(anna.id, "biete")
        await tg.wait_for_message(anna.id, has_text("Was möchten Sie anbieten"))
        tg.user_sends_text(anna.id, "Unser Bürgerbus-Konzept")
        await tg.wait_for_message(anna.id, has_text("Beschreibung ergänzen"))

    async with run_bot():  # a new Application, same database: the dialogue goes on
        tg.user_sends_text(anna.id, "Seit 2019 fährt ein ehrenamtlich betriebener Bürgerbus.")
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))

    [post] = await posts(db)
    assert post.title == "Unser Bürgerbus-Konzept" and "2019" in post.body
    assert post.municipality_ags == "05358008"


async def test_cancel_leaves_the_dialogue(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    async with run_bot():
        tg.user_sends_command(anna.id, "suche")
        question = await tg.wait_for_message(anna.id, has_text("Was suchen Sie"))
        await press(tg, anna.id, question, "Abbrechen")
        await tg.wait_for_message(anna.id, has_text("Abgebrochen"))
        tg.user_sends_text(anna.id, "Mitfahrbänke")  # no longer a title: not understood
        await tg.wait_for_message(anna.id, has_text("nicht verstanden"))
    assert await posts(db) == []


async def test_own_posts_settings_export_and_erasure(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id, "anna@prenzlau.example")
    async with run_bot():
        tg.user_sends_command(anna.id, "biete", "Wir teilen unser Bürgerbus-Konzept")
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))

        tg.user_sends_command(anna.id, "meine")
        line = await tg.wait_for_message(anna.id, has_button("/pausieren"))
        await press(tg, anna.id, line, "Pausieren")
        await tg.wait_for_message(anna.id, has_text("pausiert"))

        tg.user_sends_command(anna.id, "einstellungen")
        current = await tg.wait_for_message(anna.id, has_text("Zusammenfassung"))
        await press(tg, anna.id, current, "täglich")
        await tg.wait_for_message(anna.id, has_text("täglich"))

        tg.user_sends_command(anna.id, "daten")
        export = await tg.wait_for_message(anna.id, lambda m: m.document is not None)
        assert "alle Daten" in export.text  # the text travels as the document's caption

        tg.user_sends_command(anna.id, "loeschen")
        confirm = await tg.wait_for_message(anna.id, has_button("/loeschen bestaetigen"))
        await press(tg, anna.id, confirm, "endgültig")
        await tg.wait_for_message(anna.id, has_text("gelöscht"))

    data = json.loads(tg.documents(anna.id)[-1].content)
    assert data["member"]["name"] == "Anna Schmidt"
    assert data["member"]["digest"] == "daily"
    assert [p["title"] for p in data["posts"]] == ["Wir teilen unser Bürgerbus-Konzept"]
    assert tg.documents(anna.id)[-1].mime_type == "application/json"
