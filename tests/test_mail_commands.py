from __future__ import annotations

import pytest

from mail.commands_text import detect_command, normalize_word, strip_subject_prefixes

COMMANDS = ["biete", "suche", "meine", "treffer", "termine", "anmelden", "hilfe", "abbestellen",
            "daten", "loeschen", "ja", "nein"]  # fmt: skip


@pytest.mark.parametrize("word", ["LÖSCHEN", "löschen", "Löschen", "loeschen", "LOESCHEN"])
def test_umlaut_and_case_insensitive(word):
    assert detect_command(word, "", COMMANDS) == ("loeschen", "")


@pytest.mark.parametrize(
    "subject",
    ["Re: AW: WG: Fwd: Antw: HILFE", "AW:AW: hilfe", "RE[2]: Hilfe", "Aw: [Extern] Hilfe"],
)
def test_reply_prefixes_are_ignored(subject):
    assert detect_command(subject, "", COMMANDS) == ("hilfe", "")


def test_first_body_line_wins_over_subject():
    body = "\n\nJa\nich freue mich auf den Kontakt."
    assert detect_command("AW: Ihr Treffer", body, COMMANDS) == (
        "ja",
        "ich freue mich auf den Kontakt.",
    )


def test_subject_command_with_rest():
    found = detect_command("BIETE Beratung zum Bürgerbus", "Wir haben Erfahrung.", COMMANDS)
    assert found == ("biete", "Beratung zum Bürgerbus")


def test_body_command_with_rest_of_line_and_body():
    body = "Suche: Moderation für einen Bürgerdialog\nim Herbst 2024"
    assert detect_command("", body, COMMANDS) == (
        "suche",
        "Moderation für einen Bürgerdialog\nim Herbst 2024",
    )


def test_aliases_map_to_command_names():
    aliases = {"stopp": "abbestellen", "abmelden": "abbestellen", "löschen": "loeschen"}
    assert detect_command("Abmelden", "", aliases) == ("abbestellen", "")
    assert detect_command("", "Löschen", aliases) == ("loeschen", "")


def test_unknown_words_and_prefix_words_are_not_commands():
    assert detect_command("Re: Ihr Treffer", "Vielen Dank!", COMMANDS) is None
    assert detect_command("Jahresbericht", "", COMMANDS) is None  # "ja" only as a whole word
    assert detect_command("", "", COMMANDS) is None


def test_helpers():
    assert normalize_word("Straße") == "strasse"
    assert normalize_word("Café") == "cafe"
    assert strip_subject_prefixes("AW: WG: Re: Termine") == "Termine"
