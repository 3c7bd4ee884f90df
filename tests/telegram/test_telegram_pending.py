"""Through the real Application: an imported mayor's first /biete survives the consent."""

from __future__ import annotations

from core.kernel.clock import system_clock
from core.members.accounts import NewMember, add_member
from tests.telegram.helpers import button, has_text, posts

OFFER = "Wir teilen unser Bürgerbus-Konzept"


async def test_offer_written_before_consent_is_posted_after_the_button(db, tg, run_bot):
    anna = tg.add_user(first_name="Anna")
    async with db.uow() as uow:  # as `import members` leaves her: chat known, no consent
        await add_member(
            uow,
            NewMember("Anna Schmidt", "mayor", "12073452", telegram_chat_id=anna.id),
            system_clock(),
        )
        await uow.commit()

    async with run_bot():
        tg.user_sends_command(anna.id, "biete", OFFER)
        question = await tg.wait_for_message(anna.id, has_text("Datenschutz"))
        assert await posts(db) == []
        tg.user_presses_button(anna.id, question.message_id, button(question, "stimme zu"))
        await tg.wait_for_message(anna.id, has_text("Ich erledige jetzt"))
        await tg.wait_for_message(anna.id, has_text(OFFER))

    [post] = await posts(db)
    assert (post.kind, post.title) == ("offer", OFFER)
