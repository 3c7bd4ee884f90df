"""Keeps the in-memory matching engine in step with the database.

The engine answers in milliseconds because it lives in memory; the database
stays the truth. Before each use the index reads the posts changed since its
last look, so several processes sharing one database converge.

Each post's sentence embedding and its analysed text are computed once per text and stored
beside the post (post_embeddings, post_terms), so a restart reads vectors and terms instead
of running the model and the analyser.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np

from core.kernel.clock import aware
from core.matching import Candidate, MatchEngine, PostDoc
from core.matching.memory import give_back_free_memory
from core.matching.semantic import (
    BATCH,
    Encoder,
    default_encoder,
    from_bytes,
    post_text,
    quantize,
    text_key,
)
from core.matching.stored_terms import StoredTerms, term_list
from core.store.models import Post
from core.store.unit_of_work import Database, UnitOfWork

# Transactions commit out of timestamp order; re-reading a short overlap catches them.
OVERLAP = timedelta(minutes=5)
# Vectors of recently written posts, kept so matching right after a create needs no read.
RECENT = 2_000
# Posts analysed and indexed between two chances for other work on the event loop.
UPSERT_SLICE = 16
REINDEX_SLICE = 500  # posts encoded and stored per transaction by ``reindex``
# Posts indexed together at start (MatchEngine.bulk): fewer, larger chunks cost less CPU per
# post (each chunk appends once to the postings of every term it contains) and hold more
# temporary memory (about 3.5 MB per 1,000 posts). At 100,000 posts, 10,000 a chunk made
# the start's peak RSS 37 MB higher than 2,500 for about 5 % more CPU.
LOAD_CHUNK = 2_500

Progress = Callable[[int], None]
T = TypeVar("T")


# Where a post is, for the matching: Kreis, Land, latitude, longitude, BBSR type and
# whether it is structurally weak (the staff's override already applied).
_NOWHERE = (None, None, None, None, None, False)


def _current_vector(row, topics: tuple[str, ...], model: str, analyser: str) -> np.ndarray | None:
    """The stored vector of an ``index_rows`` row (with its ``topics``) if its vector and
    terms are those of the current text, model and analyser; None when they must be
    computed again."""
    key = text_key(post_text(row.title, row.body, topics))
    vector = from_bytes(row.vector) if row.vector is not None else None
    if (
        vector is None
        or row.model != model
        or row.text_key != key
        or not vector.size
        or row.analysis != analyser
        or row.terms_key != key
    ):
        return None
    return vector


def _terms_current(row, key: str, analyser: str) -> bool:
    """The stored terms are those of this text and analyser, and intact."""
    return row.analysis == analyser and row.text_key == key and term_list(row) is not None


def post_doc(
    post: Post, vector: np.ndarray | None = None, terms: StoredTerms | None = None
) -> PostDoc:
    town = post.municipality
    place = _NOWHERE
    if town is not None:
        weak = town.is_structurally_weak
        place = (town.kreis_ags, town.land, town.lat, town.lon, town.bbsr_type, weak)
    kreis_ags, land, lat, lon, municipality_type, weak = place
    return PostDoc(
        id=post.id,
        kind=post.kind,
        title=post.title,
        body=post.body,
        topics=tuple(post.topics or ()),
        municipality_ags=post.municipality_ags,
        kreis_ags=kreis_ags,
        land=land,
        lat=lat,
        lon=lon,
        municipality_type=municipality_type,
        structurally_weak=bool(weak),
        vector=vector,
        terms=terms,
    )


def _row_place(row) -> tuple:
    """The fields of the Place (core.matching.region) of an ``index_rows`` row."""
    weak = row.structurally_weak if row.weak_override is None else row.weak_override
    return (
        row.municipality_ags,
        row.kreis_ags,
        row.land,
        row.lat,
        row.lon,
        row.bbsr_type,
        bool(weak),
    )


def _row_terms(row) -> StoredTerms:
    return StoredTerms(row.analysis, row.terms, row.tfs, row.marks, row.length, row.expansions)


async def _fetching_ahead(parts: AsyncIterator[T]) -> AsyncIterator[T]:
    """The parts of ``parts``, the next one asked for before the caller gets this one: the
    database's thread reads it while the caller works (at 100,000 posts the reading took
    a tenth of the start)."""
    upcoming = asyncio.ensure_future(anext(parts))
    try:
        while True:
            try:
                part = await upcoming
            except StopAsyncIteration:
                return
            upcoming = asyncio.ensure_future(anext(parts))
            await asyncio.sleep(0)  # lets the request reach the database's thread
            yield part
    finally:
        # The caller stopped early (an error): the read ahead is not wanted, nor its error.
        upcoming.cancel()
        if upcoming.done() and not upcoming.cancelled():
            upcoming.exception()


def embedded_text(post: Post) -> str:
    return post_text(post.title, post.body, post.topics or ())


class MatchIndex:
    def __init__(self, engine: MatchEngine | None = None, encoder: Encoder | None = None) -> None:
        self.engine = engine or MatchEngine()
        self._encoder = encoder
        self._seen_until: datetime | None = None
        # updated_at of the posts read inside the overlap window, so that re-reading the
        # window (every transaction) only loads and re-indexes posts that really changed.
        self._stamps: dict[int, datetime] = {}
        self._recent: OrderedDict[int, tuple[str, np.ndarray]] = OrderedDict()
        self._refreshing = False

    @property
    def encoder(self) -> Encoder:
        return self._encoder or default_encoder()

    @property
    def refreshing(self) -> bool:
        """A refresh is under way (another request of this process may skip its own)."""
        return self._refreshing

    async def refresh(self, uow: UnitOfWork) -> int:
        self._refreshing = True
        try:
            return await self._refresh(uow)
        finally:
            self._refreshing = False

    async def _refresh(self, uow: UnitOfWork) -> int:
        if self._seen_until is None:
            return await self._load(uow)
        since = self._seen_until - OVERLAP
        stamps = await uow.posts.stamps_since(since)
        fresh = [i for i, stamp in stamps if self._stamps.get(i) != aware(stamp)]
        self._stamps = {i: s for i, s in self._stamps.items() if s >= since}
        changed = []
        for start in range(0, len(fresh), 1000):
            changed += (await uow.posts.many(fresh[start : start + 1000])).values()
        changed.sort(key=lambda post: (aware(post.updated_at), post.id))
        still_open = [p for p in changed if p.status == "open"]
        vectors = await self.vectors(uow, still_open)
        terms = await self.terms(uow, still_open)
        opened = [post_doc(p, vectors.get(p.id), terms.get(p.id)) for p in still_open]
        for post in changed:
            if post.status != "open":
                self.engine.remove(post.id)
        for start in range(0, len(opened), UPSERT_SLICE):
            self.engine.bulk_upsert(opened[start : start + UPSERT_SLICE])
            # The text analysis is CPU work on the event loop: let answers through between
            # slices when many posts arrive at once (a bulk import in another process).
            await asyncio.sleep(0)
        for post in changed:
            stamp = aware(post.updated_at)
            self._stamps[post.id] = stamp
            if self._seen_until is None or stamp > self._seen_until:
                self._seen_until = stamp
        return len(changed)

    async def _load(self, uow: UnitOfWork) -> int:
        """The first look: every open post with its stored vector and terms, streamed
        from the database straight into the engine; only posts without a current vector or
        current terms are then read as objects, encoded or analysed, and stored."""
        model = self.encoder.model_id
        analyser = self.engine.analysis_id
        stale: list[int] = []
        count = 0
        seen: datetime | None = None
        kept = 0  # stamps left by the last trim
        last_read: datetime | None = None
        last_stamp: datetime | None = None
        values = uow.posts.index_values()
        with self.engine.bulk(LOAD_CHUNK) as load:
            async for rows in _fetching_ahead(uow.posts.index_rows()):
                for row in rows:
                    count += 1
                    if row.updated_at != last_read:
                        last_read, last_stamp = row.updated_at, aware(values.stamp(row.updated_at))
                    # Posts written together (an import) share one stamp object instead of
                    # keeping a datetime each (48 bytes) while they are in the window.
                    stamp = last_stamp
                    seen = stamp if seen is None or stamp > seen else seen
                    self._stamps[row.id] = stamp
                    if row.status != "open":
                        continue
                    topics = values.topics(row.topics)
                    vector = _current_vector(row, topics, model, analyser)
                    if vector is None:
                        stale.append(row.id)
                        continue
                    if not load.add_stored(row.id, row.kind, _row_place(row), vector, row):
                        stale.append(row.id)  # damaged terms: analysed again and stored
                if seen is not None and len(self._stamps) > 2 * max(kept, len(rows)):
                    # Only the overlap window before the newest stamp is kept (below); what
                    # falls out of it behind the newest stamp so far never comes back. Trimmed
                    # when the stamps have doubled since the last trim: when most posts fall in
                    # the window (a bulk import), trimming after every part cost seconds.
                    self._stamps = {i: s for i, s in self._stamps.items() if s >= seen - OVERLAP}
                    kept = len(self._stamps)
        for start in range(0, len(stale), 1000):
            posts = list((await uow.posts.many(stale[start : start + 1000])).values())
            vectors = await self.vectors(uow, posts)
            terms = await self.terms(uow, posts)
            self.engine.bulk_upsert(post_doc(p, vectors.get(p.id), terms.get(p.id)) for p in posts)
        if seen is not None:
            # Only the overlap window needs its stamps: older posts are read again only
            # when their updated_at moves into it.
            self._stamps = {i: s for i, s in self._stamps.items() if s >= seen - OVERLAP}
        self._seen_until = seen
        give_back_free_memory()
        return count

    async def reindex(self, db: Database, progress: Progress | None = None) -> tuple[int, int]:
        """Store the current embedding and analysed text of every open post whose stored ones
        are missing or from another model or analyser (after an update of either), so the
        next start reads them instead of computing them while members wait.
        Returns (open posts, posts brought up to date); ``progress`` counts the latter."""
        model, analyser = self.encoder.model_id, self.engine.analysis_id
        stale: list[int] = []
        count = 0
        async with db.uow() as uow:
            values = uow.posts.index_values()
            async for rows in uow.posts.index_rows():
                for row in rows:
                    if row.status == "open":
                        count += 1
                        topics = values.topics(row.topics)
                        current = _current_vector(row, topics, model, analyser) is not None
                        if not current or term_list(row) is None:  # or damaged terms
                            stale.append(row.id)
        for start in range(0, len(stale), REINDEX_SLICE):
            chunk = stale[start : start + REINDEX_SLICE]
            async with db.uow() as uow:
                posts = list((await uow.posts.many(chunk)).values())
                await self.vectors(uow, posts)
                await self.terms(uow, posts)
                await uow.commit()
            if progress:
                progress(len(chunk))
        return count, len(stale)

    async def vectors(
        self, uow: UnitOfWork, posts: Iterable[Post], progress: Progress | None = None
    ) -> dict[int, np.ndarray]:
        """The current embedding of each post: stored ones are read, missing or outdated ones
        (edited text, another model) are encoded in batches and stored."""
        posts = list(posts)
        model = self.encoder.model_id
        keys = {p.id: text_key(embedded_text(p)) for p in posts}
        result: dict[int, np.ndarray] = {}
        unknown = []
        for post in posts:
            hit = self._recent.get(post.id)
            if hit is not None and hit[0] == keys[post.id]:
                result[post.id] = hit[1]
            else:
                unknown.append(post.id)
        stored = {}
        for start in range(0, len(unknown), 1000):
            stored.update(await uow.posts.embeddings(unknown[start : start + 1000]))
        missing = []
        for post in posts:
            if post.id in result:
                continue
            row = stored.get(post.id)
            vector = from_bytes(row.vector) if row is not None else None
            if (
                row is None
                or row.model != model
                or row.text_key != keys[post.id]
                or not vector.size
            ):
                missing.append(post)
            else:
                result[post.id] = vector
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            # The model's work runs beside the event loop (it releases the GIL): tens of
            # milliseconds per post that members' answers need not wait for.
            texts = [embedded_text(p) for p in batch]
            encoded = quantize(await asyncio.to_thread(self.encoder.encode, texts))
            for post, vector in zip(batch, encoded, strict=True):
                await uow.posts.save_embedding(
                    post.id, model, keys[post.id], vector.tobytes(), stored.get(post.id)
                )
                result[post.id] = vector
                self._remember(post.id, keys[post.id], vector)
            if progress:
                progress(len(batch))
        return result

    async def terms(self, uow: UnitOfWork, posts: Iterable[Post]) -> dict[int, StoredTerms]:
        """The current analysed text of each post: stored terms are read, missing or
        outdated ones (edited text, another analyser) are analysed and stored."""
        posts = list(posts)
        stored = {}
        for start in range(0, len(posts), 1000):
            chunk = [p.id for p in posts[start : start + 1000]]
            stored.update(await uow.posts.terms(chunk))
        result: dict[int, StoredTerms] = {}
        for post in posts:
            key = text_key(embedded_text(post))
            row = stored.get(post.id)
            if row is not None and _terms_current(row, key, self.engine.analysis_id):
                result[post.id] = _row_terms(row)
                continue
            result[post.id] = self.engine.stored_terms(post_doc(post))
            await uow.posts.save_terms(post.id, key, result[post.id], row)
        return result

    def encode(self, texts: list[str]) -> list[tuple[str, np.ndarray]]:
        """(text key, vector) of each text, with no transaction open: a bulk import encodes
        before it writes, so its transactions stay short."""
        encoded: list[tuple[str, np.ndarray]] = []
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            vectors = quantize(self.encoder.encode(batch))
            encoded += zip((text_key(text) for text in batch), vectors, strict=True)
        return encoded

    async def keep(self, uow: UnitOfWork, post: Post, key: str, vector: np.ndarray) -> None:
        """Store a vector ``encode`` computed for a new post."""
        await uow.posts.save_embedding(post.id, self.encoder.model_id, key, vector.tobytes(), None)
        self._remember(post.id, key, vector)

    def _remember(self, post_id: int, key: str, vector: np.ndarray) -> None:
        self._recent[post_id] = (key, vector)
        self._recent.move_to_end(post_id)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    async def put_after_commit(self, uow: UnitOfWork, post: Post) -> None:
        """Index the post as it is now, once (and only if) the transaction commits; its
        embedding is computed now and stored in the same transaction."""
        if post.status == "open":
            vector = (await self.vectors(uow, [post])).get(post.id)
            terms = (await self.terms(uow, [post])).get(post.id)
            doc = post_doc(post, vector, terms)
            uow.after_commit(lambda: self.engine.upsert(doc))
        else:
            post_id = post.id
            uow.after_commit(lambda: self.engine.remove(post_id))

    async def candidates(
        self,
        uow: UnitOfWork,
        post: Post,
        k: int,
        exclude: Collection[int],
        threshold: float | None = None,
    ) -> list[Candidate]:
        vector = (await self.vectors(uow, [post])).get(post.id)
        return self.engine.candidates(
            post_doc(post, vector), k=k, exclude=exclude, threshold=threshold
        )

    def __len__(self) -> int:
        return len(self.engine)
