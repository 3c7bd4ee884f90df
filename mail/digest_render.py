"""Render a staff digest outbox message as an email: text + HTML with the chart inline.

multipart/alternative( text/plain, multipart/related( text/html, image/png by Content-ID ) ),
so mail clients show the chart inside the HTML part instead of as a loose attachment.
"""

from __future__ import annotations

import base64
import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def _html(text: str, cids: list[str]) -> str:
    blocks = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and all(line.startswith("• ") for line in lines[1:]) and len(lines) > 1:
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines[1:])
            blocks.append(f"<h3>{html.escape(lines[0])}</h3><ul>{items}</ul>")
        else:
            blocks.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    images = "".join(
        f'<p><img src="cid:{cid[1:-1]}" alt="" style="max-width:100%"></p>' for cid in cids
    )
    return (
        '<!DOCTYPE html><html lang="de"><body style="font-family:sans-serif">'
        + "".join(blocks)
        + images
        + "</body></html>"
    )


def render_digest(
    *, sender: str, to: str, subject: str, text: str, attachments: list[dict], domain: str
) -> EmailMessage:
    """``attachments`` as stored in the outbox: {"filename", "content_type", "data" (base64)}."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    images = [a for a in attachments if a["content_type"].startswith("image/")]
    cids = [make_msgid(domain=domain) for _ in images]
    message.add_alternative(_html(text, cids), subtype="html")
    html_part = message.get_payload()[1]
    for attachment, cid in zip(images, cids, strict=True):
        maintype, subtype = attachment["content_type"].split("/", 1)
        html_part.add_related(
            base64.b64decode(attachment["data"]),
            maintype=maintype,
            subtype=subtype,
            cid=cid,
            filename=attachment["filename"],
            disposition="inline",
        )
    return message
