"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from core.store.models import Base
from core.store.schema import upgrade
from core.store.unit_of_work import Database
from tests.conftest import database_url


def _diff(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def _fresh(tmp_path) -> Database:
    url = database_url()
    if url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    db = Database(url)
    await db.drop_all()
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return db


async def test_migrations_produce_the_models_schema(tmp_path):
    db = await _fresh(tmp_path)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        await upgrade(db)  # a second run is a no-op
    finally:
        await db.drop_all()
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await db.dispose()
