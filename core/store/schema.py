"""Schema migrations (Alembic), applied through the async engine."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.store.unit_of_work import Database

# Any constant works; it only has to be the same for every process of the assistant.
MIGRATION_LOCK = 0x5A52_0001


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("core.store").joinpath("migrations")))
    return config


def _upgrade(connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; concurrent starters on PostgreSQL wait in turn."""
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            await conn.run_sync(_upgrade, revision)
            await conn.commit()
        finally:
            if not db.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                await conn.commit()
