"""Keeps the in-memory matching engine in step with the database.

The engine answers in milliseconds because it lives in memory; the database
stays the truth. Before each use the index reads the posts changed since its
last look, so several processes sharing one database converge.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from core.clock import aware
from core.matching import Candidate, MatchEngine, PostDoc
from core.models import Post
from core.store import UnitOfWork

# Transactions commit out of timestamp order; re-reading a short overlap catches them.
OVERLAP = timedelta(minutes=5)


def post_doc(post: Post) -> PostDoc:
    town = post.municipality
    return PostDoc(
        id=post.id,
        kind=post.kind,
        title=post.title,
        body=post.body,
        topics=tuple(post.topics or ()),
        municipality_ags=post.municipality_ags,
        kreis_ags=town.kreis_ags if town else None,
        land=town.land if town else None,
        lat=town.lat if town else None,
        lon=town.lon if town else None,
        municipality_type=town.bbsr_type if town else None,
        structurally_weak=town.is_structurally_weak if town else False,
    )


class MatchIndex:
    def __init__(self, engine: MatchEngine | None = None) -> None:
        self.engine = engine or MatchEngine()
        self._seen_until: datetime | None = None
        # updated_at of the posts read inside the overlap window, so that re-reading the
        # window (every transaction) only loads and re-indexes posts that really changed.
        self._stamps: dict[int, datetime] = {}

    async def refresh(self, uow: UnitOfWork) -> int:
        if self._seen_until is None:
            changed = list(await uow.posts.changed_since(None))
        else:
            since = self._seen_until - OVERLAP
            stamps = await uow.posts.stamps_since(since)
            fresh = [i for i, stamp in stamps if self._stamps.get(i) != aware(stamp)]
            self._stamps = {i: s for i, s in self._stamps.items() if s >= since}
            changed = []
            for start in range(0, len(fresh), 1000):
                changed += (await uow.posts.many(fresh[start : start + 1000])).values()
            changed.sort(key=lambda post: (aware(post.updated_at), post.id))
        for post in changed:
            self.put(post)
            stamp = aware(post.updated_at)
            self._stamps[post.id] = stamp
            if self._seen_until is None or stamp > self._seen_until:
                self._seen_until = stamp
        return len(changed)

    def put(self, post: Post) -> None:
        if post.status == "open":
            self.engine.upsert(post_doc(post))
        else:
            self.engine.remove(post.id)

    def put_after_commit(self, uow: UnitOfWork, post: Post) -> None:
        """Index the post as it is now, once (and only if) the transaction commits."""
        if post.status == "open":
            doc = post_doc(post)
            uow.after_commit(lambda: self.engine.upsert(doc))
        else:
            post_id = post.id
            uow.after_commit(lambda: self.engine.remove(post_id))

    def candidates(
        self, post: Post, k: int, exclude: Collection[int], threshold: float | None = None
    ) -> list[Candidate]:
        return self.engine.candidates(post_doc(post), k=k, exclude=exclude, threshold=threshold)

    def __len__(self) -> int:
        return len(self.engine)
