"""Reminder times as operators write them: accepted forms and one-line German errors."""

import pytest

from core.events.timing import parse_reminders
from core.kernel.errors import UserError


@pytest.mark.parametrize("text", ["1 Tag;2 Stunden", "1 Tag/2 Std", "2 Stunden!"])
def test_an_unknown_separator_after_a_unit_is_the_german_reminder_error(text):
    with pytest.raises(UserError) as refused:
        parse_reminders(text)
    assert "Ungültige Erinnerung" in str(refused.value)


def test_thousands_of_empty_reminders_are_echoed_shortened():
    with pytest.raises(UserError) as refused:
        parse_reminders("," * 3000)
    assert len(str(refused.value)) < 300 and "…" in str(refused.value)


@pytest.mark.parametrize("text", ["7 Tage\u2028x", "P9\u0085X", "40 Tage\u000b"])
def test_a_bad_reminder_with_a_line_break_is_echoed_on_one_line(text):
    with pytest.raises(UserError) as refused:
        parse_reminders(text)
    assert len(str(refused.value).splitlines()) == 1, refused.value


def test_a_line_break_separates_reminders_like_a_comma():
    assert parse_reminders("7 Tage\n1 Tag") == ["P7D", "P1D"]
    assert parse_reminders("7 Tage\r\n2 Stunden,\n30 Minuten") == ["P7D", "PT2H", "PT30M"]


def test_und_combines_two_parts_into_one_reminder():
    assert parse_reminders("1 Tag und 2 Stunden, 1 Woche") == ["P7D", "P1DT2H"]


@pytest.mark.parametrize("text", ["1 Tag 2 Stunden", "7 Tage, 1 Woche 30 Minuten"])
def test_two_parts_without_comma_are_refused_naming_the_value(text):
    with pytest.raises(UserError) as refused:
        parse_reminders(text)
    message = str(refused.value)
    assert "Komma" in message and "„7 Tage, 1 Tag, 2 Stunden“" in message
    assert f"„{text.split(', ')[-1]}“" in message and len(message.splitlines()) == 1


@pytest.mark.parametrize("text", ["\u0661 Tag", "\uff11 Tag", "2\u0663 Stunden"])
def test_only_ascii_digits_count_as_numbers(text):
    with pytest.raises(UserError) as refused:
        parse_reminders(text)
    assert "Ungültige Erinnerung" in str(refused.value)
