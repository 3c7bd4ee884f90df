from __future__ import annotations

import pytest

from mail.bounces import classify, severity_for
from mail.parsing import parse_mail
from tests.mailbuilders import plain_mail


def _dsn(action: str, status: str, diagnostic: str, recipient: str = "alt@gemeinde.de") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.zukunftsraum.example (Mail Delivery System)\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.zukunftsraum.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Ihr Treffer\r\n--b1--\r\n"
    ).encode()


def test_dsn_user_unknown_is_hard():
    result = classify(parse_mail(_dsn("failed", "5.1.1", "550 5.1.1 User unknown")))
    assert (result.kind, result.severity, result.status) == ("bounce", "hard", "5.1.1")
    assert result.failed_addresses == ("alt@gemeinde.de",)
    assert result.reason == "userunknown"


def test_dsn_mailbox_full_is_soft():
    result = classify(parse_mail(_dsn("failed", "5.2.2", "552 Mailbox full")))
    assert (result.kind, result.severity, result.reason) == ("bounce", "soft", "mailboxfull")


def test_dsn_delay_is_soft_even_with_permanent_wording():
    result = classify(parse_mail(_dsn("delayed", "4.4.1", "Host not found, still trying")))
    assert (result.kind, result.severity) == ("bounce", "soft")


def test_dsn_success_is_not_a_bounce():
    assert classify(parse_mail(_dsn("delivered", "2.0.0", "250 OK"))).kind == "other"


def test_german_non_standard_bounce_with_failed_recipient():
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mail.gemeinde.de>\r\n"
        "Subject: Unzustellbar: Ihr Treffer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Ihre Nachricht konnte nicht zugestellt werden.\r\n\r\n"
        "<buergerbuero@gemeinde.de>: Empfänger unbekannt\r\n"
    ).encode()
    result = classify(parse_mail(raw))
    assert (result.kind, result.severity) == ("bounce", "hard")
    assert result.failed_addresses == ("buergerbuero@gemeinde.de",)


def test_qmail_style_bounce():
    raw = (
        b"From: MAILER-DAEMON@mail.example.de\r\nSubject: failure notice\r\n\r\n"
        b"Hi. This is the qmail-send program at mail.example.de.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        b"<voll@example.de>:\r\nmailbox is full (#5.2.2)\r\n"
    )
    result = classify(parse_mail(raw))
    assert (result.kind, result.severity, result.status) == ("bounce", "soft", "5.2.2")
    assert result.failed_addresses == ("voll@example.de",)


def test_exim_failed_recipients_header():
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.de>\r\n"
        b"X-Failed-Recipients: nobody@nirgendwo.example\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"  nobody@nirgendwo.example\r\n    Unrouteable address\r\n"
    )
    result = classify(parse_mail(raw))
    assert result.severity == "hard"
    assert result.failed_addresses == ("nobody@nirgendwo.example",)


def test_exchange_ndr_text():
    raw = (
        b"From: postmaster@verwaltung.example.de\r\nSubject: Unzustellbar: Termine\r\n\r\n"
        b"Your message did not reach some or all of the intended recipients.\r\n"
        b"    weg@verwaltung.example.de\r\n"
        b"Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'\r\n"
    )
    result = classify(parse_mail(raw))
    assert result.kind == "bounce" and result.severity == "hard"


def test_vacation_reply():
    mail = parse_mail(
        plain_mail(
            "Ich bin bis zum 20. März nicht im Büro.",
            subject="Abwesenheitsnotiz: Ihr Treffer",
            extra_headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert classify(mail).kind == "vacation"


def test_arf_feedback_report():
    raw = (
        b"From: abuse@provider.example\r\nSubject: Abuse report\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="f"\r\n\r\n'
        b"--f\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report\r\n"
        b"--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        b"--f--\r\n"
    )
    assert classify(parse_mail(raw)).kind == "feedback"


def test_ordinary_reply_is_other():
    assert classify(parse_mail(plain_mail("Ja, gerne"))).kind == "other"


@pytest.mark.parametrize(
    ("reason", "status", "expected"),
    [
        ("userunknown", "5.1.1", "hard"),
        ("userunknown", "4.1.1", "soft"),
        ("hostunknown", None, "hard"),
        ("mailboxfull", "5.2.2", "soft"),
        ("suspend", "5.2.1", "soft"),
        ("spamdetected", "5.7.1", "soft"),
    ],
)
def test_severity_mapping(reason, status, expected):
    assert severity_for(reason, status) == expected
