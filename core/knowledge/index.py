"""Keeps the in-memory knowledge search in step with the database, as
``core.exchange.match_index`` does for posts: the first look loads every published entry, later
looks read the entries changed since (with a short overlap, because transactions commit
out of timestamp order)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import numpy as np

from core.kernel.clock import aware
from core.knowledge.search import EntryDoc, Hit, KnowledgeEngine, Query
from core.matching.semantic import Encoder, default_encoder, from_bytes, post_text, quantize
from core.store.unit_of_work import UnitOfWork

OVERLAP = timedelta(minutes=5)


def embedded_text(title: str, summary: str, topics) -> str:
    return post_text(title, summary, topics or ())


class KnowledgeIndex:
    def __init__(self, engine: KnowledgeEngine | None = None, encoder: Encoder | None = None):
        self._engine = engine
        self._encoder = encoder
        self._seen_until: datetime | None = None
        self._stamps: dict[int, datetime] = {}

    @property
    def engine(self) -> KnowledgeEngine:
        if self._engine is None:  # the thesaurus and lexicon are read on first use
            self._engine = KnowledgeEngine()
        return self._engine

    @property
    def encoder(self) -> Encoder:
        return self._encoder or default_encoder()

    def vector(self, title: str, summary: str, topics) -> tuple[bytes, str]:
        """The stored form of an entry's embedding and the model that made it."""
        encoded = self.encoder.encode([embedded_text(title, summary, topics)])
        return quantize(encoded)[0].tobytes(), self.encoder.model_id

    async def refresh(self, uow: UnitOfWork) -> None:
        since = None if self._seen_until is None else self._seen_until - OVERLAP
        rows = await uow.knowledge.index_rows(since)
        fresh = [r for r in rows if self._stamps.get(r.id) != aware(r.updated_at)]
        model = self.encoder.model_id if fresh else ""
        self.engine.bulk_upsert(_doc(r, model) for r in fresh if r.status == "published")
        for row in fresh:
            if row.status != "published":
                self.engine.remove(row.id)
            stamp = aware(row.updated_at)
            self._stamps[row.id] = stamp
            if self._seen_until is None or stamp > self._seen_until:
                self._seen_until = stamp
        if self._seen_until is not None:
            floor = self._seen_until - OVERLAP
            self._stamps = {i: s for i, s in self._stamps.items() if s >= floor}

    async def search(self, uow: UnitOfWork, text: str, k: int = 5, exclude=()) -> list[Hit]:
        await self.refresh(uow)
        if not len(self.engine):
            return []
        vector = (await asyncio.to_thread(self.encoder.encode, [text]))[0]
        return self.engine.search(Query(text, vector, tuple(exclude)), k)


def _doc(row, model: str) -> EntryDoc:
    vector: np.ndarray | None = None
    if row.vector is not None and row.vector_model == model:
        vector = from_bytes(row.vector)
        vector = vector if vector.size else None
    return EntryDoc(
        id=row.id,
        title=row.title,
        summary=row.summary,
        topics=tuple(row.topics or ()),
        text=row.text,
        vector=vector,
    )
