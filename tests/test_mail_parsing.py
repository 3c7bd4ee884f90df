from __future__ import annotations

import base64

import pytest

from mail.parsing import MAX_TEXT_CHARS, MailParseError, parse_mail
from tests.mailbuilders import OUTLOOK_REPLY_DE, plain_mail


def test_plain_german_reply_fields():
    mail = parse_mail(plain_mail(OUTLOOK_REPLY_DE))
    assert mail.from_address == "anna.mueller@gemeinde-beispiel.de"
    assert mail.from_name == "Müller, Anna"
    assert mail.to_addresses == ("assistent+tok123@zukunftsraum.example",)
    assert mail.subject == "AW: Ihr Treffer: Bürgerbus für den ländlichen Raum"
    assert mail.message_id == "reply-1@gemeinde-beispiel.de"
    assert mail.in_reply_to == "match-42@zukunftsraum.example"
    assert mail.references == ("digest-1@zukunftsraum.example", "match-42@zukunftsraum.example")
    assert mail.date is not None and mail.date.year == 2024
    assert mail.text.startswith("Ja, gerne!")
    assert mail.header("in-reply-to") == "<match-42@zukunftsraum.example>"


def test_encoded_subject_and_sender_name():
    raw = (
        b"From: =?iso-8859-1?q?J=FCrgen_Sch=F6n?= <JS@Example.DE>\r\n"
        b"Subject: =?utf-8?b?TMOWU0NIRU4=?=\r\n"
        b"Delivered-To: assistent@zukunftsraum.example\r\n"
        b"\r\nBitte alles l\xf6schen.\r\n"
    )
    mail = parse_mail(raw)
    assert mail.from_name == "Jürgen Schön"
    assert mail.from_address == "js@example.de"
    assert mail.subject == "LÖSCHEN"
    assert mail.delivered_to == ("assistent@zukunftsraum.example",)
    assert mail.text.strip() == "Bitte alles löschen."  # no charset: Windows-1252 fallback


def test_quoted_printable_latin1():
    raw = (
        b"From: a@b.de\r\nSubject: Test\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Gr=FC=DFe aus D=FCren =80 5.000\r\n"
    )
    assert parse_mail(raw).text.strip() == "Grüße aus Düren € 5.000"


def test_unknown_charset_falls_back_to_detection():
    body = "Sehr geehrte Damen und Herren, wir möchten uns für das Seminar anmelden. Grüße"
    raw = (
        b"From: a@b.de\r\nSubject: Anmelden\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(body.encode("utf-8"))
    )
    assert parse_mail(raw).text.strip() == body


def test_wrong_charset_label_is_survived():
    raw = (
        b"From: a@b.de\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"M\xfcnchen und K\xf6ln\r\n"
    )
    text = parse_mail(raw).text
    assert "nchen" in text and "ln" in text  # decoded somehow, never raises


def test_html_only_mail_becomes_readable_text():
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>BIETE Beratung zum <b>Bürgerbus</b></p><div>Zweite&nbsp;Zeile &amp; mehr</div>"
        "<blockquote><p>Alter Text</p></blockquote><script>alert(1)</script></body></html>"
    )
    raw = (
        b"From: a@b.de\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
    )
    mail = parse_mail(raw)
    assert mail.text_from_html
    assert mail.text.splitlines()[0] == "BIETE Beratung zum Bürgerbus"
    assert "Zweite Zeile & mehr" in mail.text
    assert "> Alter Text" in mail.text
    assert "alert" not in mail.text and "color" not in mail.text


def test_nested_multipart_prefers_plain_and_lists_attachments():
    raw = (
        b"From: a@b.de\r\nSubject: Konzept\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\n"
        b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
        b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo Klartext\r\n"
        b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hallo HTML</p>\r\n"
        b"--inner--\r\n"
        b"--outer\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?Konzept_B=C3=BCrgerbus.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b"--outer--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.text.strip() == "Hallo Klartext"
    assert len(mail.attachments) == 1
    attachment = mail.attachments[0]
    assert attachment.filename == "Konzept Bürgerbus.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(b"%PDF-1.4\n")


def test_huge_mail_is_cut_and_says_so():
    raw = plain_mail("A" * (MAX_TEXT_CHARS + 5000))
    mail = parse_mail(raw)
    assert len(mail.text) == MAX_TEXT_CHARS
    assert mail.text_cut_chars >= 5000
    assert any("cut" in note for note in mail.notes)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.de\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"From: a@b.de\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nbroken",
        b"From: a@b.de\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"From: <<<>>>\r\nDate: not a date\r\nMessage-ID: garbage\r\nSubject: =?bad?q?x?=\r\n\r\nx",
        b"Subject: only a subject\r\n\r\n",
        b'From: a@b.de\r\nContent-Type: text/plain; charset=""\r\n\r\n\xff\xfe\x00body',
    ],
)
def test_malformed_input_never_raises(raw):
    mail = parse_mail(raw)
    assert isinstance(mail.text, str)


def test_missing_headers_are_none():
    mail = parse_mail(b"X-Other: 1\r\n\r\nHallo")
    assert mail.from_address is None
    assert mail.message_id is None
    assert mail.date is None
    assert mail.subject == ""
    assert mail.text.strip() == "Hallo"


def test_declared_boundary_missing_from_body_is_repaired():
    raw = (
        b"From: MAILER-DAEMON@mx.example.de\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="AAA"\r\n\r\n'
        b"--BBB\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n"
        b"--BBB\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.de\r\n\r\n"
        b"Final-Recipient: rfc822; weg@example.de\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--BBB--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.text.strip() == "User unknown"
    assert mail.reports and "weg@example.de" in mail.reports[0].text


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some words", b"\x00\x01\x02" * 100])
def test_not_a_mail_raises_parse_error(raw):
    with pytest.raises(MailParseError):
        parse_mail(raw)


def test_non_bytes_raise_parse_error():
    with pytest.raises(MailParseError):
        parse_mail("From: a@b.de\r\n\r\nx")  # type: ignore[arg-type]


def test_8bit_header_is_read_in_the_charset_of_a_nested_text_part():
    subject = "Приглашение".encode("koi8-r")  # not UTF-8: the body's charset decides
    raw = (
        b"From: a@b.de\r\nSubject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nHallo\r\n--x--\r\n"
    )
    assert parse_mail(raw).subject == "Приглашение"


def test_a_second_from_after_hundreds_of_headers_still_counts():
    from mail.parsing import MAX_HEADERS

    filler = b"".join(b"X-Filler-%d: y\r\n" % n for n in range(MAX_HEADERS + 10))
    raw = b"From: anna@x.example\r\n" + filler + b"From: mallory@evil.test\r\n\r\nJa\r\n"
    mail = parse_mail(raw)
    assert mail.sender is None and mail.sender_problem == "2 From headers"
