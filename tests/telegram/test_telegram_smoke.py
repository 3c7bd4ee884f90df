from __future__ import annotations


async def test_help_command(tg, run_bot):
    anna = tg.add_user(first_name="Anna")
    async with run_bot():
        tg.user_sends_command(anna.id, "hilfe")
        reply = await tg.wait_for_message(anna.id)
    assert "/biete" in reply.text
    assert [c["command"] for c in tg.commands()][:2] == ["start", "hilfe"]
