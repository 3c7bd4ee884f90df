from __future__ import annotations

import time

import pytest

from mail import replies
from mail.html_text import html_to_text
from mail.replies import extract_reply, extract_signature
from tests.mailbuilders import OUTLOOK_REPLY_DE


def test_outlook_german_reply_keeps_only_new_text():
    assert extract_reply(OUTLOOK_REPLY_DE) == "Ja, gerne!"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Ursprüngliche Nachricht-----",
        "-----Original Message-----",
        "-------- Original-Nachricht --------",
        "---------- Weitergeleitete Nachricht ----------",
    ],
)
def test_separator_lines(separator):
    text = f"Anmelden\n\n{separator}\nVon: assistent@zukunftsraum.example\nBetreff: Seminar\n\nText"
    assert extract_reply(text) == "Anmelden"


def test_gmail_german_header_wrapped_over_two_lines():
    text = (
        "Nein, danke.\n\n"
        "Am Di., 12. März 2024 um 10:15 Uhr schrieb Zukunftsraum Assistent <\n"
        "assistent+tok@zukunftsraum.example>:\n\n"
        "> Guten Tag,\n> wir haben einen Treffer für Sie.\n"
    )
    assert extract_reply(text) == "Nein, danke."


def test_english_on_wrote_and_iphone_footer():
    text = (
        "Yes please\n\nSent from my iPhone\n\n"
        "On 12 Mar 2024, at 10:15, Assistant <a@zukunftsraum.example> wrote:\n\n> Hello"
    )
    assert extract_reply(text) == "Yes please"


def test_german_iphone_footer_and_apple_mail_header():
    text = (
        "Ja\n\nVon meinem iPhone gesendet\n\n"
        "> Am 12.03.2024 um 10:15 schrieb Zukunftsraum Assistent <a@z.example>:\n>\n> Hallo"
    )
    assert extract_reply(text) == "Ja"


def test_thunderbird_bottom_post_keeps_new_text():
    text = (
        "Am 12.03.24 um 10:15 schrieb Zukunftsraum Assistent:\n"
        "> Möchten Sie vorgestellt werden?\n\n"
        "Ja, sehr gern.\n"
    )
    assert extract_reply(text) == "Ja, sehr gern."


def test_signature_after_dash_dash_space():
    text = "SUCHE Moderation für Bürgerdialog\n\n-- \nAnna Müller\nBürgermeisterin"
    assert extract_reply(text) == "SUCHE Moderation für Bürgerdialog"


def test_sign_off_block_is_cut_but_not_mid_text_greeting():
    text = "Danke für den Hinweis.\n\nViele Grüße\nAnna Müller\nTel. 01234 5678"
    assert extract_reply(text) == "Danke für den Hinweis."
    long_text = "Viele Grüße\n" + "\n".join(f"Zeile {i}" for i in range(20))
    assert extract_reply(long_text).startswith("Viele Grüße\nZeile 0")


def test_sent_from_in_a_sentence_is_kept():
    text = "Gesendet von meinem Kollegen, der leider krank ist, bitte melden Sie sich."
    assert extract_reply(text) == text


def test_windows_line_endings_and_empty_input():
    assert extract_reply("Ja\r\n\r\n> alt\r\n") == "Ja"
    assert extract_reply("") == ""
    assert extract_reply("> nur Zitat\n> mehr Zitat") == ""


def test_html_reply_blockquote_is_stripped():
    html = (
        "<div>Ja, bitte vorstellen.</div><div><br></div>"
        '<div class="gmail_quote">Am Mo., 11. März 2024 um 09:00 schrieb Assistent '
        "&lt;a@z.example&gt;:<br><blockquote><p>Guten Tag</p></blockquote></div>"
    )
    assert extract_reply(html_to_text(html)) == "Ja, bitte vorstellen."


def test_pathological_input_is_fast():
    text = ("On a line that looks like a header\n" + "x " * 400 + "\n") * 400
    started = time.perf_counter()
    extract_reply(text)
    assert time.perf_counter() - started < 2


def test_many_sign_off_lines_are_read_a_bounded_number_of_times(monkeypatch):
    """Each sign-off line must not rescan the rest of the mail: "lg\\n" * 33333 (under the
    parser's 100,000 characters) took half a minute per call when it did."""
    reads = 0

    class Line(str):
        def strip(self, chars=None):
            nonlocal reads
            reads += 1
            return super().strip(chars)

    drop_quoted = replies._drop_quoted_history
    monkeypatch.setattr(
        replies,
        "_drop_quoted_history",
        lambda lines: [None if line is None else Line(line) for line in drop_quoted(lines)],
    )
    count = 3000
    text = "lg\n" * count
    assert extract_reply(text) == "\n".join(["lg"] * (count - 9))
    assert extract_signature(text) == "\n".join(["lg"] * 9)
    assert reads <= 10 * count


@pytest.mark.parametrize(
    "block",
    [
        "\n".join(f"Zeile {n}" for n in range(1, 14)) + "\nStadt Templin",
        "\nErika Muster\n\nBürgermeisterin\n\nRathaus\n\nMarktplatz 1\n\nTelefon 03987 123"
        "\n\nStadt Templin",
    ],
    ids=["fourteen-lines", "blank-between-lines"],
)
def test_signature_keeps_a_whole_block_below_the_last_sign_off(block):
    text = f"Hallo,\nwir planen einen Dorfladen.\n\nMit freundlichen Grüßen\n{block}"
    signature = extract_signature(text + "\n\n> zitiert")
    assert signature.splitlines()[0] == "Mit freundlichen Grüßen"
    assert signature.endswith("\nStadt Templin")


def test_signature_after_a_delimiter_is_cut_after_fourteen_lines():
    footer = "\n\n".join(f"Zeile {n}" for n in range(1, 30))
    signature = extract_signature(f"Ja\n-- \n{footer}")
    assert signature.splitlines()[0] == "--"
    assert signature.endswith("\nZeile 14")
