from __future__ import annotations

import pytest

from mail.loops import is_automatic
from mail.parsing import parse_mail
from tests.mailbuilders import plain_mail


def test_human_reply_is_not_automatic():
    assert is_automatic(parse_mail(plain_mail("Ja"))) is None


def test_auto_submitted_no_is_human():
    mail = parse_mail(plain_mail("Ja", extra_headers={"Auto-Submitted": "no"}))
    assert is_automatic(mail) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "auto-generated; x=1"}, "Auto-Submitted: auto-generated"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"List-Id": "<info.gemeinde.example>"}, "mailing list (List-Id)"),
        ({"X-Autoreply": "yes"}, "X-Autoreply header"),
        ({"X-Autorespond": "Urlaub"}, "X-Autorespond header"),
        ({"X-Auto-Response-Suppress": "All"}, "X-Auto-Response-Suppress header"),
        ({"Return-Path": "<>"}, "null return path"),
    ],
)
def test_headers_mark_automatic_mail(headers, expected):
    assert is_automatic(parse_mail(plain_mail("Text", extra_headers=headers))) == expected


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.gemeinde.de", "postmaster@example.de", "noreply@portal.example"],
)
def test_automatic_senders(sender):
    assert is_automatic(parse_mail(plain_mail("Text", sender=sender))).startswith(
        "automatic sender"
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Abwesenheitsnotiz: Ihr Treffer",
        "Automatische Antwort: Ihr Treffer",
        "Out of Office: Ihr Treffer",
        "Autoreply: test",
        "Unzustellbar: Ihr Treffer",
    ],
)
def test_automatic_subjects(subject):
    reason = is_automatic(parse_mail(plain_mail("Ich bin bis Montag nicht da.", subject=subject)))
    assert reason is not None and reason.startswith("automatic subject")


def test_delivery_status_report_is_automatic():
    raw = (
        b"From: Mail Delivery System <postfix@mx.example.de>\r\nSubject: Hinweis\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Final-Recipient: rfc822; a@b.de\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    assert is_automatic(parse_mail(raw)) == "delivery or disposition report"
