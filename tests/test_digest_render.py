"""The staff digest as it leaves the email dispatcher: the chart inside the HTML (cid)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.digests.schedule import DigestSchedule
from core.digests.staff import sweep_staff_digests
from core.feature_set import all_features
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
    types = [p.get_content_type() for p in mail.walk()]
    assert types[:5] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
    ]
    assert "Mitglieder zur Prüfung (2)" in mail.get_body(("plain",)).get_content()
    related = next(p for p in mail.walk() if p.get_content_type() == "multipart/related")
    inline = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    attached = list(mail.iter_attachments())
    # The activity chart and the network map, each inline and attached as a file too
    # (for clients that block inline images).
    names = ["zusammenfassung-aktivitaet.png", "zusammenfassung-netzwerkkarte.png"]
    assert [p.get_filename() for p in inline] == names
    assert [p.get_filename() for p in attached] == names
    html = mail.get_body(("html",)).get_content()
    for picture, file in zip(inline, attached, strict=True):
        assert f'src="cid:{picture["Content-ID"].strip("<>")}"' in html
        assert picture.get_content_disposition() == "inline"
        assert file.get_content_disposition() == "attachment"
        assert picture.get_content() == file.get_content()
        assert picture.get_content().startswith(b"\x89PNG")
    assert mail["Auto-Submitted"] == "auto-generated"
