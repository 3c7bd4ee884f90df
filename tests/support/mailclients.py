"""Replies as German mail clients write them: Gmail, Outlook (two styles) and Apple Mail.

Each takes the assistant's mail as received and returns the raw reply, with the client's
typical reply header, quoting, threading headers and (where the client sends one) HTML part.
"""

from __future__ import annotations

import html
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy
from email.utils import formataddr, parseaddr

DATE = "Mon, 02 Nov 2026 10:05:00 +0100"


def _message_id(sender: str) -> str:
    return f"<{uuid.uuid4().hex}@{parseaddr(sender)[1].split('@')[-1]}>"


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=default_policy)


def plain_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _reply_skeleton(original: EmailMessage, sender: str, prefix: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = original.get("Reply-To") or original["From"]
    subject = str(original["Subject"])
    reply["Subject"] = f"{prefix} {subject}"
    reply["Date"] = DATE
    reply["Message-ID"] = _message_id(sender)
    reply["In-Reply-To"] = original["Message-ID"]
    references = str(original.get("References") or "").split()
    reply["References"] = " ".join([*references, str(original["Message-ID"])])
    return reply


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _sender_label(original: EmailMessage) -> str:
    name, address = parseaddr(str(original["From"]))
    return f"{name} <{address}>"


def gmail(original: EmailMessage, sender: str, answer: str) -> bytes:
    """Gmail (German UI): top posting, "Am … um … Uhr schrieb …:", text and HTML parts."""
    reply = _reply_skeleton(original, sender, "Re:")
    header = f"Am Mo., 2. Nov. 2026 um 10:00 Uhr schrieb {_sender_label(original)}:"
    quoted = plain_text(original)
    reply.set_content(f"{answer}\n\n{header}\n\n{_quoted(quoted)}\n")
    body_html = html.escape(quoted).replace("\n", "<br>\n")
    reply.add_alternative(
        f'<div dir="ltr">{html.escape(answer)}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">{html.escape(header)}<br></div>'
        f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">{body_html}'
        "</blockquote></div>\n",
        subtype="html",
    )
    return reply.as_bytes(policy=SMTP)


def outlook(original: EmailMessage, sender: str, answer: str, *, classic: bool = False) -> bytes:
    """Outlook (German): "AW:", the original below a "Von:/Gesendet:/An:/Betreff:" block.

    ``classic`` writes the older "-----Ursprüngliche Nachricht-----" separator instead.
    """
    reply = _reply_skeleton(original, sender, "AW:")
    name, address = parseaddr(str(original["From"]))
    block = [
        f"Von: {name} <{address}>",
        "Gesendet: Montag, 2. November 2026 10:00",
        f"An: {parseaddr(sender)[0]} <{parseaddr(sender)[1]}>",
        f"Betreff: {original['Subject']}",
    ]
    if classic:
        block.insert(0, "-----Ursprüngliche Nachricht-----")
    signature = "Mit freundlichen Grüßen\nBerta Beispiel\nGemeinde Templin\nTel. 03987 123456"
    text = f"{answer}\n\n{signature}\n\n" + "\n".join(block) + f"\n\n{plain_text(original)}\n"
    reply.set_content(text, cte="quoted-printable")
    return reply.as_bytes(policy=SMTP)


def apple(original: EmailMessage, sender: str, answer: str) -> bytes:
    """Apple Mail on the iPhone: footer, then the quoted "Am … um … schrieb …:" line."""
    reply = _reply_skeleton(original, sender, "Re:")
    header = f"Am 02.11.2026 um 10:00 schrieb {_sender_label(original)}:"
    quoted = _quoted(f"{header}\n\n{plain_text(original)}")
    reply.set_content(f"{answer}\n\nVon meinem iPhone gesendet\n\n{quoted}\n")
    return reply.as_bytes(policy=SMTP)


def new_mail(sender: str, to: str, subject: str, body: str, **headers: str) -> bytes:
    """A fresh mail (not a reply), e.g. a post written to the assistant's address."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = _message_id(sender)
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


def address(name: str, email: str) -> str:
    return formataddr((name, email))
