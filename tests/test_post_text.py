"""How a post written in one go is split into title and body, and shown under its title."""

from __future__ import annotations

import pytest

from core.exchange.posts import TITLE_MAX, body_lines, split_text
from core.store.models import Post

# Too long for a title, with no sentence, colon or dash after the first 30 characters.
RUN_ON = "Kurz gesagt: " + " ".join(["Mitfahrbänke und Fahrdienste"] * 6)
LONG_TAIL = (
    "Wer kein Auto hat, setzt sich auf die Bank am Ortsrand und wird von Nachbarn mitgenommen."
)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Bürgerbus gesucht", "Bürgerbus gesucht"),
        (f"Mitfahrbänke in fünf Ortsteilen: {LONG_TAIL}", "Mitfahrbänke in fünf Ortsteilen"),
        (
            f"Mitfahrbänke in allen fünf Ortsteilen – {LONG_TAIL}",
            "Mitfahrbänke in allen fünf Ortsteilen",
        ),
        (f"Wir haben Mitfahrbänke aufgestellt. {LONG_TAIL}", "Wir haben Mitfahrbänke aufgestellt."),
        # A boundary too early would make a title of nothing: cut at a space instead.
        (RUN_ON, None),
        ("Titel\nDie Beschreibung in der zweiten Zeile.", "Titel"),
    ],
)
def test_title_of_a_post_written_in_one_go(text, title):
    got, body = split_text(text)
    assert len(got) <= TITLE_MAX
    if title is None:
        assert got.endswith("…") and text.startswith(got.removesuffix("…"))
    else:
        assert got == title
    assert body == (text if text != got else "")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"Mitfahrbänke in fünf Ortsteilen: {LONG_TAIL}", f"\n{LONG_TAIL}"),
        ("Titel\nDie Beschreibung.", "\nDie Beschreibung."),
        ("Nur ein Titel", ""),
        (RUN_ON, "\n…"),  # goes on where the title was cut
    ],
)
def test_body_under_its_title_does_not_repeat_it(text, shown):
    title, body = split_text(text)
    lines = body_lines(Post(title=title, body=body))
    assert lines.startswith(shown)
    assert title.removesuffix("…") not in lines


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Dorfladen", "Wir suchen Erfahrungen mit einem Dorfladen."),
        # Title and body typed one after the other: a body that starts like the title is
        # shown whole, never cut in a word ("arbeit für Senioren") or short of a word.
        ("Garten", "Gartenarbeit für Senioren"),
        ("Hilfe", "Hilfe beim Umzug"),
        ("Wir möchten…", "Wir möchten einen Dorfladen gründen."),
    ],
)
def test_body_of_a_post_with_separate_title_is_shown_whole(title, body):
    assert body_lines(Post(title=title, body=body)) == f"\n{body}"


def test_a_first_line_typed_with_an_ellipsis_is_not_repeated():
    title, body = split_text("Wir möchten…\nEinen Dorfladen gründen.")
    assert body_lines(Post(title=title, body=body)) == "\nEinen Dorfladen gründen."
