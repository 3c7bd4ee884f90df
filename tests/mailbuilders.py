"""Builders for realistic test mails (German clients, bounces, auto-replies)."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP


def plain_mail(
    body: str,
    *,
    subject: str = "AW: Ihr Treffer: Bürgerbus für den ländlichen Raum",
    sender: str = '"Müller, Anna" <Anna.Mueller@Gemeinde-Beispiel.de>',
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "assistent+tok123@zukunftsraum.example"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 12 Mar 2024 10:15:00 +0100"
    msg["Message-ID"] = "<reply-1@gemeinde-beispiel.de>"
    msg["In-Reply-To"] = "<match-42@zukunftsraum.example>"
    msg["References"] = "<digest-1@zukunftsraum.example> <match-42@zukunftsraum.example>"
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


OUTLOOK_REPLY_DE = """Ja, gerne!

Mit freundlichen Grüßen
Anna Müller
Gemeinde Beispiel – Bürgerbüro
Tel. 01234 56789

Von: Zukunftsraum Assistent <assistent+tok123@zukunftsraum.example>
Gesendet: Montag, 11. März 2024 09:00
An: Müller, Anna <anna.mueller@gemeinde-beispiel.de>
Betreff: Ihr Treffer: Bürgerbus für den ländlichen Raum

Guten Tag Frau Müller,
die Gemeinde Musterstadt bietet ein Konzept für einen Bürgerbus an.
Antworten Sie mit "Ja", wenn Sie vorgestellt werden möchten.
"""
