"""The command menu comes from the one grammar; /hilfe answers from it too."""

from __future__ import annotations

from core.feature_set import all_features

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it


async def test_menu_and_help_come_from_the_grammar(tg, run_bot):
    anna = tg.add_user(first_name="Anna")
    async with run_bot():
        tg.user_sends_command(anna.id, "hilfe")
        reply = await tg.wait_for_message(anna.id)
    menu = tg.commands()
    assert [c["command"] for c in menu] == [c.name for c in GRAMMAR.menu(channel="telegram")]
    assert "abbestellen" not in {c["command"] for c in menu}  # email only
    assert all(1 <= len(c["description"]) <= 256 for c in menu)
    assert "/biete" in reply.text and "ABBESTELLEN" not in reply.text
