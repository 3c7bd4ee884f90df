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
