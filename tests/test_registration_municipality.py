"""The municipality step of the chat registration: a town is taken only when it was named."""

from __future__ import annotations

import pytest

GUESS = "Meinen Sie diese Kommune?"


async def _at_municipality(eva) -> None:
    await eva.say("/start")
    await eva.say("Eva Roth")


async def _at_the_guess(person):
    """Eva, who typed only the beginning of Prenzlau and is asked about it."""
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say("Prenz")
    return eva


async def test_a_named_town_is_taken_at_once(person):
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say("Templin")
    assert "Templin" in eva.text and "in welcher Funktion" in eva.text


@pytest.mark.parametrize("answer", ["ja", "Ja, genau", "the button"])
async def test_a_single_guess_is_asked_about_and_taken_when_confirmed(person, answer):
    eva = await _at_the_guess(person)
    assert GUESS in eva.text and "in welcher Funktion" not in eva.text
    await eva.say(eva.choice("Prenzlau") if answer == "the button" else answer)
    assert "Prenzlau" in eva.text and "in welcher Funktion" in eva.text


async def test_no_to_the_guess_asks_for_the_town_again(person):
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say("Zscho")
    assert GUESS in eva.text and "Zschopau" in str(eva.last[0].choices)
    await eva.say("Nein")
    assert "Für welche Kommune" in eva.text
    await eva.say("ja")  # no longer an answer to a guess: searched as a name
    assert "in welcher Funktion" not in eva.text
    await eva.say("Templin")
    assert "Templin" in eva.text and "in welcher Funktion" in eva.text


async def test_another_name_instead_of_confirming_is_searched(person):
    eva = await _at_the_guess(person)
    await eva.say("Templin")
    assert "Templin" in eva.text and "in welcher Funktion" in eva.text


async def test_the_guess_is_asked_again_after_a_command_in_between(person):
    eva = await _at_the_guess(person)
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    assert "merke ich mir" in eva.text and GUESS in eva.text
    await eva.say("ja")
    assert "Prenzlau" in eva.text and "in welcher Funktion" in eva.text


async def test_the_pick_list_is_shown_again_after_a_command(person):
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say("Dür")
    assert "Bitte wählen Sie Ihre Kommune" in eva.text
    first = eva.last[0].choices[0]
    await eva.say("/suche Erfahrungen mit einem Dorfladen")
    assert "merke ich mir" in eva.text and "Bitte wählen Sie Ihre Kommune" in eva.text
    await eva.say(eva.choice(first.label))
    assert first.label in eva.text and "in welcher Funktion" in eva.text


@pytest.mark.parametrize(
    "typed", ["Tem\u00adplin", "\ufeffTemplin\u200b", "Temp\x01lin", "Templin\ud800"]
)
async def test_invisible_characters_from_copy_and_paste_do_not_hide_the_town(person, typed):
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say(typed)
    assert "Templin" in eva.text and "in welcher Funktion" in eva.text


async def test_a_name_of_invisible_characters_only_is_asked_again(person):
    eva = person("eva@example.org")
    await eva.say("/start")
    await eva.say("\u200b\u200d\u00ad")
    assert "Ihren Namen" in eva.text and "Für welche Kommune" not in eva.text


async def test_an_input_of_invisible_characters_asks_for_the_town_again(person):
    eva = person("eva@example.org")
    await _at_municipality(eva)
    await eva.say("\u200b")
    assert "Für welche Kommune" in eva.text and "„“" not in eva.text
