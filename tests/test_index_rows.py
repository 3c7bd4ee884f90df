"""The start's bulk read of posts (PostRepo.index_rows) gives topics and stamps exactly as
the ORM reads them, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.kernel.clock import aware
from core.store.models import Member, Post

NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
TOPICS = [
    [],
    ["Mobilität"],
    ["Mobilität", "Ehrenamt"],
    ["Mobilität"],  # the same list again (converted once on SQLite)
    ["Ärztliche Versorgung", "Dorf-Laden"],
]


async def test_index_rows_give_topics_and_stamps_as_the_orm_reads_them(db, test_municipalities):
    ags = test_municipalities[0].ags
    async with db.uow() as uow:
        author = Member(
            email="a@example.org",
            name="A",
            role="mayor",
            municipality_ags=ags,
            created_at=NOW,
            consent_at=NOW,
        )
        uow.session.add(author)
        await uow.session.flush()
        for i, topics in enumerate(TOPICS):
            # Two posts share a stamp (written together), the others have their own.
            stamp = NOW + timedelta(seconds=max(i - 1, 0))
            uow.session.add(
                Post(
                    kind="offer",
                    title=f"Angebot {i}",
                    body="Text",
                    topics=topics,
                    municipality_ags=ags,
                    author_id=author.id,
                    status="open",
                    created_at=NOW,
                    updated_at=stamp,
                    expires_at=NOW,
                )
            )
        await uow.commit()

    async with db.uow() as uow:
        orm = await uow.posts.many(range(1, 100))
        values = uow.posts.index_values()
        read = [row async for rows in uow.posts.index_rows(chunk=2) for row in rows]

    assert [row.id for row in read] == sorted(orm)
    for row in read:
        post = orm[row.id]
        assert values.topics(row.topics) == tuple(post.topics)
        assert aware(values.stamp(row.updated_at)) == aware(post.updated_at)


async def test_reading_ahead_gives_every_part_in_order_and_stops_with_the_caller():
    import asyncio

    from core.exchange.match_index import _fetching_ahead

    asked: list[int] = []

    async def parts(count: int):
        for part in range(count):
            asked.append(part)
            await asyncio.sleep(0)  # as a read from the database's thread
            yield part

    assert [part async for part in _fetching_ahead(parts(4))] == [0, 1, 2, 3]
    assert [part async for part in _fetching_ahead(parts(0))] == []
    asked.clear()
    async for part in _fetching_ahead(parts(4)):
        assert part == 0
        break
    await asyncio.sleep(0)
    assert asked == [0, 1]  # one part read ahead, no more
