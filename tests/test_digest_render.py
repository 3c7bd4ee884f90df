"""The staff digest as it leaves the email dispatcher: the chart inside the HTML (cid)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.digest_runs import DigestSchedule
from core.feature_set import all_features
from core.staff_digest import sweep_staff_digests
from tests.email_world import MailWorld
from tests.eventkit import BERLIN, add_people


async def test_staff_digest_email_embeds_chart_by_content_id(db, assistant, clock, tmp_path):
    await add_people(db, datetime(2026, 11, 2, tzinfo=UTC), 1, role="network_staff")
    await add_people(db, datetime(2026, 11, 3, tzinfo=UTC), 2)  # to verify
    async with db.uow() as uow:
        now = datetime(2026, 11, 4, 7, 0, tzinfo=UTC)
        await sweep_staff_digests(uow, now, DigestSchedule(tz=BERLIN), all_features().staff_digest)
        await uow.commit()
    clock.now = now
    world = MailWorld(db, assistant, clock, tmp_path)
    await world.dispatcher.drain()
    [mail] = world.sent()
    assert [p.get_content_type() for p in mail.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "image/png",
    ]
    assert "Mitglieder zur Prüfung (2)" in mail.get_body(("plain",)).get_content()
    inline, attached = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    html = mail.get_body(("html",)).get_content()
    assert f'src="cid:{inline["Content-ID"].strip("<>")}"' in html
    assert inline.get_content_disposition() == "inline"
    # The same picture is attached too, for clients that block inline images.
    assert attached.get_content_disposition() == "attachment"
    assert inline.get_content() == attached.get_content()
    assert inline.get_content().startswith(b"\x89PNG")
    assert mail["Auto-Submitted"] == "auto-generated"
