"""/loeschen on Telegram: typing the confirmation asks; only the question's button erases."""

from __future__ import annotations

from tests.telegram.helpers import add_telegram_member, button, has_button, has_text

ANNA = "anna.schmidt@prenzlau.example"


async def _exists(db, email: str) -> bool:
    async with db.uow() as uow:
        return await uow.members.by_email(email) is not None


async def test_on_telegram_only_the_button_of_the_question_erases(db, tg, run_bot):
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id, ANNA)
    async with run_bot():
        tg.user_sends_command(anna.id, "loeschen", "bestaetigen")
        question = await tg.wait_for_message(anna.id, has_button("/loeschen bestaetigen"))
        assert "wirklich" in question.text and await _exists(db, ANNA)
        tg.user_presses_button(anna.id, question.message_id, button(question, "endgültig"))
        await tg.wait_for_message(anna.id, has_text("gelöscht"))
    assert not await _exists(db, ANNA)
