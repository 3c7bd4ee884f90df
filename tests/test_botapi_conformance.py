"""The fake Bot API against the real material in ../shared/conformance/telegram.

- every real update/message/callback sample goes through the server to a real PTB Application;
- every response of every implemented method validates against the Bot API spec (api.json).
"""

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.ext import ContextTypes, TypeHandler

from tests.support.botapi import FakeTelegram
from tests.support.botapi.dispatch import IMPLEMENTED_METHODS
from tests.support.botapi.ptb import polling_application
from tests.support.botapi.schema import ApiSpec
from tests.support.shared import shared_path

TELEGRAM = ("conformance", "telegram")


def _records(name: str) -> list[dict[str, Any]]:
    path: Path = shared_path(*TELEGRAM, "update-samples", name)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def spec() -> ApiSpec:
    return ApiSpec.load(shared_path(*TELEGRAM, "bot-api-spec", "api.json"))


@pytest.fixture
async def tg():
    async with FakeTelegram() as server:
        yield server


def _sample_updates() -> list[dict[str, Any]]:
    """All samples as Updates; messages and callback queries get wrapped like Telegram does."""
    updates = [record["update"] for record in _records("updates.jsonl")]
    for number, record in enumerate(_records("messages.jsonl"), start=1):
        updates.append({"update_id": 500_000 + number, "message": record["message"]})
    for number, record in enumerate(_records("callback_queries.jsonl"), start=1):
        updates.append({"update_id": 600_000 + number, "callback_query": record["callback_query"]})
    return updates


def _kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _ptb_rejects(sample: dict[str, Any]) -> bool:
    try:
        Update.de_json(sample, None)
    except (TypeError, ValueError, KeyError):
        return True
    return False


def test_ptb_rejects_only_samples_that_violate_the_spec(spec):
    """PTB decodes every sample except those lacking a field the current spec requires.

    Some upstream samples predate fields that later became required (e.g. UniqueGift.gift_id);
    PTB follows the spec there, so such a rejection is the sample's fault, not PTB's or ours.
    """
    for sample in filter(_ptb_rejects, _sample_updates()):
        missing = [e for e in spec.errors(sample, "Update") if e.endswith("required field missing")]
        assert missing, f"PTB rejects a spec-conformant sample: {sample}"


def test_decoded_samples_keep_their_ids():
    for sample in _sample_updates():
        if _ptb_rejects(sample):
            continue
        update = Update.de_json(sample, None)
        assert update.update_id == sample["update_id"]
        if update.message is not None:
            assert update.message.message_id == sample["message"]["message_id"]
            assert update.message.chat.id == sample["message"]["chat"]["id"]


async def test_ptb_receives_every_sample_delivered_by_the_server(tg):
    # A sample PTB cannot decode would make it discard the whole getUpdates batch and retry it
    # forever, so those (see the test above) are left out here.
    samples = [sample for sample in _sample_updates() if not _ptb_rejects(sample)]
    received: list[Update] = []

    async def collect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received.append(update)

    # Opt in to every kind, including ones PTB does not know, so nothing is filtered out.
    kinds = sorted({_kind(sample) for sample in samples} | set(Update.ALL_TYPES))
    for sample in samples:
        tg.inject_update(sample)
    async with polling_application(tg, [TypeHandler(Update, collect)], allowed_updates=kinds):
        await tg.wait_until(lambda: len(received) == len(samples), timeout=10)

    assert [u.update_id for u in received] == [s["update_id"] for s in samples]
    for sample, update in zip(samples, received, strict=True):
        kind = _kind(sample)
        if kind in Update.ALL_TYPES:
            assert getattr(update, kind) is not None, f"PTB dropped {kind} of {sample}"
        else:
            assert kind in update.api_kwargs  # unknown kinds are kept, not lost


def test_every_implemented_method_is_in_the_spec(spec):
    for method in IMPLEMENTED_METHODS:
        assert spec.method(method) is not None, method


async def _exercise_every_method(tg: FakeTelegram, bot) -> None:
    anna = tg.add_user(first_name="Anna", username="anna_kiez")
    group = tg.add_group("Kiezgruppe", [anna], supergroup=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="ja")]])
    await bot.get_me()
    await bot.set_my_commands([("start", "Anfangen")])
    await bot.get_my_commands()
    await bot.delete_my_commands()
    first = await bot.send_message(
        anna.id, "<i>Hallo</i>", parse_mode="HTML", reply_markup=keyboard
    )
    await bot.send_message(group.id, "Hallo Gruppe", reply_markup=ReplyKeyboardMarkup([["Ja"]]))
    await bot.send_message(anna.id, "Antwort", reply_to_message_id=first.message_id)
    await bot.edit_message_text("Hallo *neu*", anna.id, first.message_id, parse_mode="MarkdownV2")
    await bot.edit_message_reply_markup(anna.id, first.message_id, reply_markup=keyboard)
    press = tg.user_presses_button(anna.id, first.message_id, "ja")
    await bot.answer_callback_query(press["callback_query"]["id"], text="Danke")
    document = await bot.send_document(anna.id, b"%PDF-1.4", filename="plan.pdf", caption="Plan")
    await bot.get_file(document.document.file_id)
    await bot.send_chat_action(anna.id, "typing")
    await bot.delete_message(anna.id, first.message_id)
    await bot.get_updates(timeout=0)
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="geheim")
    await bot.get_webhook_info()
    await bot.delete_webhook()
    await bot.get_webhook_info()
    await bot.close()
    await bot.log_out()


async def test_responses_validate_against_the_spec(tg, spec):
    async with tg.application_builder().build() as app:
        await _exercise_every_method(tg, app.bot)

    calls = tg.calls()
    assert {call.method.lower() for call in calls} >= IMPLEMENTED_METHODS
    for call in calls:
        assert call.status == 200, (call.method, call.response)
        assert spec.result_errors(call.method, call.response["result"]) == [], call.method
        assert spec.unknown_params(call.method, call.params) == [], call.method


async def test_error_responses_have_the_documented_shape(tg):
    anna = tg.add_user()
    tg.block_bot(anna.id, notify=False)
    async with tg.application_builder().build() as app:
        with pytest.raises(Exception, match="blocked"):
            await app.bot.send_message(anna.id, "Hallo")
    error = tg.calls("sendMessage")[-1].response
    assert error == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }


def test_simulated_updates_validate_against_the_spec(spec):
    tg = FakeTelegram()
    anna = tg.add_user(first_name="Anna", last_name="Beispiel", username="anna_b")
    ben = tg.add_user(first_name="Ben")
    group = tg.add_group("Gruppe", [anna, ben])
    updates = [
        tg.user_sends_text(anna.id, "Biete Bohrmaschine"),
        tg.user_sends_command(anna.id, "start", "ref123"),
        tg.user_sends_text(group.id, "/suche@zukunftsraum_test_bot Leiter", user=ben),
        tg.user_sends_document(anna.id, "liste.csv", b"a;b\n", caption="Liste"),
        tg.user_sends_text(anna.id, "Als Antwort", reply_to=1),
    ]
    tg.block_bot(ben.id)
    tg.unblock_bot(ben.id)
    updates += [u for u in _queued(tg) if "my_chat_member" in u]
    for update in updates:
        assert spec.errors(update, "Update") == [], update


def _queued(tg: FakeTelegram) -> list[dict[str, Any]]:
    return tg.state.updates.take(100)


def test_validator_catches_broken_objects(spec):
    """Guard against a validator that accepts everything."""
    errors = spec.errors({"message_id": "1", "chat": {"id": 1}, "colour": "blau"}, "Message")
    assert "$.message_id: expected Integer, got '1'" in errors
    assert "$.date: required field missing" in errors
    assert "$.chat.type: required field missing" in errors
    assert "$.colour: unexpected field" in errors
