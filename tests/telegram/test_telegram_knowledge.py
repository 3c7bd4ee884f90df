"""The knowledge collection in Telegram: /wissen lists the entries, the button sends the
file as a document through the same path as the /daten export."""

from __future__ import annotations

from core.kernel.clock import system_clock
from core.knowledge.files import FileStore
from core.knowledge.library import KnowledgeLibrary
from tests.knowledge_files import import_collection, pdf_bytes
from tests.telegram.helpers import add_telegram_member, button, has_button, has_text


async def test_wissen_lists_the_guide_and_its_file_arrives_as_a_document(
    db, tg, run_bot, services, tmp_path
):
    services.knowledge = KnowledgeLibrary(files=FileStore(tmp_path / "data"))
    await import_collection(db, services.knowledge, tmp_path / "docs", system_clock)
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    async with run_bot():
        tg.user_sends_command(anna.id, "wissen")
        await tg.wait_for_message(anna.id, has_text("Wonach möchten Sie suchen?"))

        tg.user_sends_command(anna.id, "wissen", "Bürgerbus")
        await tg.wait_for_message(anna.id, has_text("zu „Bürgerbus“ gefunden"))
        first = await tg.wait_for_message(anna.id, has_button("/wissen_datei"))
        assert first.text.startswith("1. Leitfaden Bürgerbus")
        assert "Warum: passt zu Bürgerbus" in first.text
        tg.user_presses_button(anna.id, first.message_id, button(first, "Datei zu 1"))
        sent = await tg.wait_for_message(anna.id, lambda m: m.document is not None)
        assert "Leitfaden Bürgerbus" in sent.text  # the caption

    [document] = tg.documents(anna.id)
    assert document.file_name == "buergerbus.pdf"
    assert document.mime_type == "application/pdf"
    assert document.content == (tmp_path / "docs" / "buergerbus.pdf").read_bytes()


async def test_a_document_with_wissen_vorschlagen_as_caption_is_a_suggestion(
    db, tg, run_bot, services, tmp_path
):
    services.knowledge = KnowledgeLibrary(files=FileStore(tmp_path / "data"))
    anna = tg.add_user()
    await add_telegram_member(db, "Anna Schmidt", "12073452", anna.id)
    guide = pdf_bytes("Leitfaden Dorfladen", ["Ein Dorfladen als Genossenschaft."])
    async with run_bot():
        tg.user_sends_document(
            anna.id, "dorfladen.pdf", guide, caption="/wissen_vorschlagen Leitfaden Dorfladen"
        )
        # The first entry loads the sentence encoder: on a busy machine that takes a while.
        await tg.wait_for_message(
            anna.id, has_text("liegt jetzt der Geschäftsstelle vor"), timeout=60
        )
        tg.user_sends_document(anna.id, "bild.png", b"\x89PNG\r\n", caption="/wissen_vorschlagen")
        await tg.wait_for_message(anna.id, has_text("„bild.png“ konnte ich nicht übernehmen"))
        tg.user_sends_document(anna.id, "notiz.pdf", guide)  # no command: not taken
        await tg.wait_for_message(anna.id, has_text("Hier verstehe ich nur Text"))

    async with db.uow() as uow:
        [entry] = await uow.knowledge.listing()
    assert (entry.title, entry.status, entry.file_name) == (
        "Leitfaden Dorfladen",
        "draft",
        "dorfladen.pdf",
    )
    assert services.knowledge.files.read(entry.file_sha256) == guide
    assert "Genossenschaft" in entry.text
