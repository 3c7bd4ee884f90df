"""Two mayors, two chats: invitation, consent, posts, proposals, acceptance, introduction."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from core.kernel.context import Sender
from tests.support.botapi import FakeTelegram
from tests.telegram.helpers import (
    add_telegram_member,
    button,
    has_button,
    has_text,
    outbox,
    queue_message,
    recorded_as_sent,
)

OFFER = "Wir teilen unser Bürgerbus-Konzept"

DEEP_LINK = re.compile(r"https://t\.me/(\w+)\?start=(\w+)")


def invite(db, tg: FakeTelegram, tmp_path, email: str, name: str, ags: str) -> str:
    """``zukunftsraum members invite`` as an operator runs it; returns the deep-link code."""
    env = {
        **os.environ,
        "ZR_DATABASE_URL": db.url,
        "ZR_TELEGRAM_BOT_USERNAME": tg.bot_user.username,
        "COLUMNS": "200",
    }
    args = ["members", "invite", "--email", email, "--name", name, "--municipality", ags]
    result = subprocess.run(
        [sys.executable, "-m", "zukunftsraum", *args, "--role", "mayor"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    bot, code = DEEP_LINK.search(result.stdout).groups()
    assert bot == tg.bot_user.username and "-" not in code
    return code


async def join(tg: FakeTelegram, chat_id: int, code: str, name: str) -> None:
    """Open the deep link (/start CODE) and consent by button."""
    tg.user_sends_command(chat_id, "start", code)
    welcome = await tg.wait_for_message(chat_id, has_text("Einladung ist eingelöst"))
    assert name in welcome.text and "Datenschutz" in welcome.text
    tg.user_presses_button(chat_id, welcome.message_id, button(welcome, "stimme zu"))
    await tg.wait_for_message(chat_id, has_text(f"Vielen Dank, {name}"))
    # The pressed question shows the choice and has no buttons left to press twice.
    await tg.wait_until(lambda: welcome.inline_keyboard == [])
    assert "Ihre Auswahl: Ja, ich stimme zu" in welcome.text


async def test_invited_mayors_meet_through_buttons(db, tg, run_bot, tmp_path):
    anna_code = invite(db, tg, tmp_path, "anna@prenzlau.example", "Anna Schmidt", "12073452")
    ben_code = invite(db, tg, tmp_path, "ben@zschopau.example", "Ben Wagner", "14521690")
    anna, ben = tg.add_user(first_name="Anna"), tg.add_user(first_name="Ben")

    async with run_bot():
        await join(tg, anna.id, anna_code, "Anna Schmidt")
        await join(tg, ben.id, ben_code, "Ben Wagner")

        tg.user_sends_command(anna.id, "biete", "Wir teilen unser Bürgerbus-Konzept")
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))
        tg.user_sends_command(ben.id, "suche", "Erfahrungen mit einem Bürgerbus")
        await tg.wait_for_message(ben.id, has_text("veröffentlicht"))

        # Ben sees the proposal in the reply; Anna gets hers from the outbox dispatcher.
        ben_proposal = await tg.wait_for_message(ben.id, has_button("/annehmen"))
        assert "Bürgerbus-Konzept" in ben_proposal.text
        anna_proposal = await tg.wait_for_message(anna.id, has_button("/annehmen"))
        assert "Erfahrungen mit einem Bürgerbus" in anna_proposal.text

        tg.user_presses_button(ben.id, ben_proposal.message_id, button(ben_proposal, "Ja"))
        await tg.wait_for_message(ben.id, has_text("Sobald die andere Seite"))
        tg.user_presses_button(anna.id, anna_proposal.message_id, button(anna_proposal, "Ja"))

        anna_intro = await tg.wait_for_message(anna.id, has_text("Sie sind verbunden"))
        ben_intro = await tg.wait_for_message(ben.id, has_text("Sie sind verbunden"))
        await recorded_as_sent(db)

    assert "Ben Wagner" in anna_intro.text and "Zschopau" in anna_intro.text
    assert "ben@zschopau.example" in anna_intro.text
    assert "Anna Schmidt" in ben_intro.text and "Prenzlau" in ben_intro.text
    assert f"tg://user?id={anna.id}" in ben_intro.text
    assert ben_proposal.inline_keyboard == [] and anna_proposal.inline_keyboard == []
    assert {m.status for m in await outbox(db)} == {"sent"}
    assert {a.callback_query_id for a in tg.callback_answers.values()}  # every press answered
    assert len(tg.callback_answers) == len(tg.calls("answerCallbackQuery")) == 4


async def test_decline_is_polite_and_final(db, tg, run_bot, tmp_path):
    anna_code = invite(db, tg, tmp_path, "anna@prenzlau.example", "Anna Schmidt", "12073452")
    ben_code = invite(db, tg, tmp_path, "ben@zschopau.example", "Ben Wagner", "14521690")
    anna, ben = tg.add_user(first_name="Anna"), tg.add_user(first_name="Ben")
    async with run_bot():
        await join(tg, anna.id, anna_code, "Anna Schmidt")
        await join(tg, ben.id, ben_code, "Ben Wagner")
        tg.user_sends_command(anna.id, "biete", "Wir teilen unser Bürgerbus-Konzept")
        await tg.wait_for_message(anna.id, has_text("veröffentlicht"))
        tg.user_sends_command(ben.id, "suche", "Erfahrungen mit einem Bürgerbus")
        proposal = await tg.wait_for_message(ben.id, has_button("/ablehnen"))
        no = button(proposal, "Nein")
        tg.user_presses_button(ben.id, proposal.message_id, no)
        await tg.wait_for_message(ben.id, has_text("nicht wieder vor"))
        # A second press of the vanished button gets a clear answer, nothing changes.
        tg.user_presses_button(ben.id, proposal.message_id, no, check=False)
        await tg.wait_for_message(ben.id, has_text("bereits abgelehnt"))
        tg.user_sends_command(ben.id, "treffer")
        await tg.wait_for_message(ben.id, has_text("keine Treffervorschläge"))


async def test_a_queued_proposal_settled_by_mail_is_not_sent(db, tg, run_bot, assistant):
    """Anna's proposal still waits in the Telegram outbox when Ben declines the pair by mail:
    the dispatcher drops it (recorded as obsolete, not failed) and sends what follows."""
    anna, ben = tg.add_user(first_name="Anna"), tg.add_user(first_name="Ben")
    a = await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    await add_telegram_member(db, "Ben Wagner", "14521690", ben.id, email="ben@zschopau.example")
    await assistant.handle(Sender("telegram", str(anna.id)), f"/biete {OFFER}")
    reply = await assistant.handle(
        Sender("telegram", str(ben.id)), "/suche Erfahrungen mit einem Bürgerbus"
    )
    [queued] = [m for m in await outbox(db) if m.kind == "match_proposal"]
    assert queued.member_id == a.id and any("/ablehnen" in c.command for c in reply[-1].choices)
    match_id = int(queued.ref.removeprefix("match:"))
    declined = await assistant.handle(
        Sender("email", "ben@zschopau.example"), f"/ablehnen {match_id}"
    )
    assert "nicht wieder vor" in declined[0].text

    async with run_bot():
        later = await queue_message(db, a.id, "Ein neuer Termin für Sie")
        await tg.wait_for_message(anna.id, has_text("Ein neuer Termin"))
        await recorded_as_sent(db, kind="test")

    assert not [m for m in tg.sent_messages(anna.id) if "/annehmen" in " ".join(m.button_data())]
    rows = {m.id: m for m in await outbox(db)}
    assert rows[queued.id].status == "obsolete"
    assert rows[queued.id].meta["obsolete"] == "match declined"
    assert rows[queued.id].attempts == 0 and rows[queued.id].sent_at is None
    assert rows[later].status == "sent"
