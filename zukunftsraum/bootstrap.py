"""Wiring: settings -> database, indexes, services, the assistant."""

from __future__ import annotations

from dataclasses import dataclass

from core.conversation.assistant import Assistant
from core.exchange.match_index import MatchIndex
from core.feature_set import all_features
from core.kernel.clock import Clock, system_clock
from core.kernel.context import Services
from core.knowledge.files import FileStore
from core.knowledge.library import MB, KnowledgeLibrary
from core.municipalities.reference import ensure_municipalities, load_municipality_index
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from zukunftsraum.settings import Settings


@dataclass
class App:
    settings: Settings
    db: Database
    services: Services
    assistant: Assistant

    async def close(self) -> None:
        await self.db.dispose()


def knowledge_library(settings: Settings) -> KnowledgeLibrary:
    return KnowledgeLibrary(
        files=FileStore(settings.data_dir),
        max_bytes=settings.knowledge_max_mb * MB,
        mail_attachment_bytes=settings.knowledge_mail_attachment_mb * MB,
    )


async def build_app(settings: Settings, *, clock: Clock = system_clock) -> App:
    """Open the database (migrated, reference data present) and wire the assistant."""
    db = Database(settings.database_url)
    await upgrade(db)
    await ensure_municipalities(db)
    services = Services(
        index=MatchIndex(),
        municipalities=await load_municipality_index(db),
        clock=clock,
        tz=settings.tz,
        bot_username=settings.telegram_bot_username,
        grants=settings.grant_programme,
        features=all_features(),
        knowledge=knowledge_library(settings),
    )
    return App(settings=settings, db=db, services=services, assistant=Assistant(db, services))
