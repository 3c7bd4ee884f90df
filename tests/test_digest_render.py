"""A staff digest from core, rendered as an email with the chart inline (cid)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy

from core.digest_runs import DigestSchedule
from core.staff_digest import sweep_staff_digests
from mail.digest_render import render_digest
from tests.eventkit import BERLIN, add_people, outbox


async def test_staff_digest_email_embeds_chart_by_content_id(db):
    await add_people(db, datetime(2026, 11, 2, tzinfo=UTC), 1, role="network_staff")
    await add_people(db, datetime(2026, 11, 3, tzinfo=UTC), 2)  # to verify
    async with db.uow() as uow:
        now = datetime(2026, 11, 4, 7, 0, tzinfo=UTC)
        await sweep_staff_digests(uow, now, DigestSchedule(tz=BERLIN))
        await uow.commit()
    [message] = await outbox(db, "staff_digest")
    mail = render_digest(
        sender="assistent@zukunftsraum.example",
        to=message.address,
        subject=message.subject,
        text=message.text,
        attachments=message.attachments,
        domain="zukunftsraum.example",
    )
    parsed = message_from_bytes(bytes(mail), policy=policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    assert "Mitglieder zur Prüfung (2)" in parsed.get_body(("plain",)).get_content()
    image = next(p for p in parsed.walk() if p.get_content_type() == "image/png")
    html = parsed.get_body(("html",)).get_content()
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html
    assert image.get_content() == base64.b64decode(message.attachments[0]["data"])
    assert parsed["Auto-Submitted"] == "auto-generated"
