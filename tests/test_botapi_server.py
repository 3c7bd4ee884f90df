"""End to end: the real PTB Application against the local fake Bot API server."""

import socket

import httpx
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, TypeHandler

from tests.support.botapi import FakeTelegram, RateLimits
from tests.support.botapi.ptb import polling_application

# PTB itself reads RetryAfter.retry_after while formatting the error (deprecated int form).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Biete", callback_data="offer")],
        [InlineKeyboardButton("Suche", callback_data="seek")],
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("Hallo", reply_markup=KEYBOARD)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Auswahl: {query.data}")
    await query.edit_message_text(f"Du hast {query.data} gewählt.")


HANDLERS = [CommandHandler("start", start), CallbackQueryHandler(choose)]


@pytest.fixture
async def tg():
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def app(tg):
    async with polling_application(tg, HANDLERS) as application:
        yield application


async def test_start_command_gets_hallo_with_buttons(tg, app):
    anna = tg.add_user(first_name="Anna")
    tg.user_sends_command(anna.id, "start")

    reply = await tg.wait_for_message(anna.id)

    assert reply.text == "Hallo"
    assert reply.api["from"]["id"] == tg.bot_user.id
    assert reply.button_data() == ["offer", "seek"]


async def test_button_press_is_answered_and_edits_the_message(tg, app):
    anna = tg.add_user(first_name="Anna")
    tg.user_sends_command(anna.id, "start")
    reply = await tg.wait_for_message(anna.id)

    press = tg.user_presses_button(anna.id, reply.message_id, "seek")

    answer = await tg.wait_until(lambda: tg.answer_for(press))
    assert answer.text == "Auswahl: seek"
    await tg.wait_until(lambda: reply.text == "Du hast seek gewählt.")
    assert reply.inline_keyboard == []  # editing text without markup drops the keyboard
    assert len(reply.edits) == 1


async def test_pressing_a_button_that_does_not_exist_is_a_test_error(tg, app):
    anna = tg.add_user()
    tg.user_sends_command(anna.id, "start")
    reply = await tg.wait_for_message(anna.id)
    with pytest.raises(LookupError, match="no button"):
        tg.user_presses_button(anna.id, reply.message_id, "nonsense")


async def test_group_chat_uses_negative_id(tg, app):
    anna, ben = tg.add_user(first_name="Anna"), tg.add_user(first_name="Ben")
    group = tg.add_group("Zukunftsraum Kiez", [anna, ben])
    tg.user_sends_command(group.id, "start", user=ben)

    reply = await tg.wait_for_message(group.id)

    assert group.id < 0
    assert reply.api["chat"] == {"id": group.id, "type": "group", "title": "Zukunftsraum Kiez"}


async def test_blocked_user_gives_403(tg, app):
    anna = tg.add_user()
    tg.block_bot(anna.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(anna.id, "Hallo?")
    assert tg.sent_messages(anna.id) == []


async def test_unknown_chat_gives_400(tg, app):
    with pytest.raises(BadRequest, match="Chat not found"):
        await app.bot.send_message(424242, "Hallo?")


async def test_private_chat_limit_answers_429_with_retry_after(tg, app):
    tg.enable_rate_limits()
    anna = tg.add_user()
    await app.bot.send_message(anna.id, "eins")

    with pytest.raises(RetryAfter, match="Retry in 1"):
        await app.bot.send_message(anna.id, "zwei")

    assert tg.too_many_requests == 1
    assert [m.text for m in tg.sent_messages(anna.id)] == ["eins"]
    rejected = tg.calls("sendMessage")[-1]
    assert rejected.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


async def test_group_and_global_limits(tg, app):
    tg.enable_rate_limits(RateLimits(enabled=True, global_per_second=5, group_per_minute=3))
    group = tg.add_group("Gruppe", [tg.add_user()])
    for number in range(3):
        await app.bot.send_message(group.id, f"Nachricht {number}")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(group.id, "zu viel")

    users = [tg.add_user() for _ in range(3)]
    await app.bot.send_message(users[0].id, "a")
    await app.bot.send_message(users[1].id, "b")
    with pytest.raises(RetryAfter):  # 5 messages within one second across all chats
        await app.bot.send_message(users[2].id, "c")
    assert tg.too_many_requests == 2


async def test_rate_limits_are_off_by_default(tg, app):
    anna = tg.add_user()
    for number in range(5):
        await app.bot.send_message(anna.id, str(number))
    assert tg.too_many_requests == 0
    assert len(tg.limiter.accepted) == 5  # timestamps are recorded anyway


async def test_parse_errors_and_formatting(tg, app):
    anna = tg.add_user()
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await app.bot.send_message(anna.id, "1 < 2 <b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="reserved"):
        await app.bot.send_message(anna.id, "Ende.", parse_mode="MarkdownV2")

    await app.bot.send_message(anna.id, "<b>fett</b> &amp; gut", parse_mode="HTML")

    message = tg.last_message(anna.id)
    assert message.text == "fett & gut"
    assert message.raw_text == "<b>fett</b> &amp; gut"
    assert message.api["entities"] == [{"type": "bold", "offset": 0, "length": 4}]


async def test_reply_keyboard_and_link_preview_are_recorded(tg, app):
    anna = tg.add_user()
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Ja"), KeyboardButton("Nein")]])
    preview = LinkPreviewOptions(is_disabled=True)

    sent = await app.bot.send_message(
        anna.id, "https://example.org", reply_markup=keyboard, link_preview_options=preview
    )

    message = tg.last_message(anna.id)
    assert message.reply_markup["keyboard"][0][1]["text"] == "Nein"
    assert "reply_markup" not in message.api  # Telegram only echoes inline keyboards
    assert sent.link_preview_options.is_disabled is True


async def test_documents_are_stored_and_downloadable(tg, app):
    anna = tg.add_user()
    sent = await app.bot.send_document(
        anna.id, document=b"name;ort\nAnna;Kiez\n", filename="liste.csv", caption="Liste"
    )

    (document,) = tg.documents(anna.id)
    assert (document.file_name, document.content) == ("liste.csv", b"name;ort\nAnna;Kiez\n")
    assert sent.document.file_name == "liste.csv"
    file = await app.bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == document.content


async def test_commands_round_trip(tg, app):
    await app.bot.set_my_commands([("start", "Anfangen"), ("hilfe", "Hilfe anzeigen")])
    commands = await app.bot.get_my_commands()
    assert [c.command for c in commands] == ["start", "hilfe"]
    assert tg.commands()[1]["description"] == "Hilfe anzeigen"
    await app.bot.delete_my_commands()
    assert await app.bot.get_my_commands() == ()


async def test_duplicate_update_is_delivered_again(tg):
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    async with polling_application(tg, [TypeHandler(Update, record)]):
        anna = tg.add_user()
        update = tg.user_sends_text(anna.id, "Biete Fahrrad")
        await tg.wait_until(lambda: len(seen) == 1)
        tg.redeliver(update)
        await tg.wait_until(lambda: len(seen) == 2)

    assert seen == [update["update_id"], update["update_id"]]


async def test_bad_token_and_unknown_method(tg):
    with pytest.raises(InvalidToken):
        await tg.application_builder(token="1:wrong").build().initialize()
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.base_url}{tg.token}/sendTelepathy")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_mode_sends_the_secret_and_bot_refuses_without_it(tg):
    app = tg.application_builder().build()
    for handler in HANDLERS:
        app.add_handler(handler)
    port = _free_port()
    await app.initialize()
    await app.start()
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token="geheim-123",
    )
    try:
        assert tg.webhook.secret_token == "geheim-123"
        anna = tg.add_user()
        update = tg.user_sends_command(anna.id, "start")
        assert (await tg.wait_for_message(anna.id)).text == "Hallo"
        assert tg.webhook_deliveries[0].secret_sent and tg.webhook_deliveries[0].status == 200

        assert await tg.post_to_webhook(update, secret_token=None) == 403
        assert await tg.post_to_webhook(update, secret_token="falsch") == 403
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
