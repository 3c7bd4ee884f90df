"""Persistence: the database handle, the unit of work and its repositories.

This is the only module (with ``core.store.models`` and the migrations) that knows
SQL. Use cases receive a ``UnitOfWork``; one unit of work is one transaction,
so a change and the outbox messages it causes commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Text,
    and_,
    bindparam,
    cast,
    event,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import NullType

from core.store.batches import in_chunks
from core.store.events import EventRepo
from core.store.grants import GrantRepo
from core.store.interests import DigestRunRepo, InterestRepo
from core.store.knowledge import KnowledgeRepo
from core.store.mail import InboundMailRepo, ProcessedEventRepo, ReplyTokenRepo
from core.store.models import (
    Base,
    Dialogue,
    Match,
    Member,
    Municipality,
    OneTimeCode,
    OutboxMessage,
    Post,
    PostEmbedding,
    PostTerms,
)
from core.store.processes import ProcessRepo
from core.store.write_gate import WriteGate, WritePriority

if TYPE_CHECKING:  # the store keeps what the matching computed; it does not compute
    from core.matching.stored_terms import StoredTerms


def async_url(url: str) -> str:
    """Map plain URLs to the async drivers the assistant uses."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class Database:
    """Owns the engine; hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        kwargs: dict = {"echo": echo}
        if is_sqlite(self.url):
            database = make_url(self.url).database
            if not database or database == ":memory:":
                # One shared connection, otherwise every session sees its own empty database.
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_ReadOnlySession
        )
        self.gate = WriteGate()

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    def uow(self, priority: WritePriority | None = None) -> UnitOfWork:
        """A transaction; with ``priority`` it queues for the process's write gate first
        (SQLite only, see core/store/write_gate.py): for transactions that write at once."""
        turn = self.gate.turn(priority) if priority is not None and self.is_sqlite else None
        return UnitOfWork(self._sessions, turn)

    async def ping(self) -> bool:
        """One round trip to the database; raises when it cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    def reader(self) -> UnitOfWork:
        """A transaction that only reads: it queues for no write gate, and a write in it
        (a flush, an INSERT/UPDATE/DELETE statement) raises ``WriteAttempted`` before
        anything reaches the database. Changes left unflushed at the end are the caller's
        to notice (``UnitOfWork.changed``); they are rolled back on leaving."""
        return UnitOfWork(self._readers)

    async def create_all(self) -> None:
        """Create the schema directly (tests); production uses migrations."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def drop_all(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


class WriteAttempted(Exception):
    """A transaction opened with ``Database.reader`` tried to write."""


class _ReadOnlySession(Session):
    """The session of ``Database.reader``: refuses every write."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_flush(session, _context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise WriteAttempted("flush in a read-only transaction")


@event.listens_for(_ReadOnlySession, "do_orm_execute")
def _refuse_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteAttempted("write statement in a read-only transaction")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL is crash-safe for the application (no fsync per commit; only a power
    # loss may drop the last commits).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class UnitOfWork:
    """One transaction. Leaving the block without ``commit()`` rolls back."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        turn: AbstractAsyncContextManager | None = None,
    ) -> None:
        self._sessions = sessions
        self._turn = turn
        self.session: AsyncSession
        self._after_commit: list[Callable[[], None]] = []

    async def __aenter__(self) -> UnitOfWork:
        if self._turn is not None:
            await self._turn.__aenter__()
        self.session = self._sessions()
        self._open_repos()
        return self

    def _open_repos(self) -> None:
        self.municipalities = MunicipalityRepo(self.session)
        self.members = MemberRepo(self.session)
        self.codes = CodeRepo(self.session)
        self.posts = PostRepo(self.session)
        self.matches = MatchRepo(self.session)
        self.dialogues = DialogueRepo(self.session)
        self.outbox = OutboxRepo(self.session)
        self.grants = GrantRepo(self.session)
        self.events = EventRepo(self.session)
        self.interests = InterestRepo(self.session)
        self.digest_runs = DigestRunRepo(self.session)
        self.knowledge = KnowledgeRepo(self.session)
        self.inbound = InboundMailRepo(self.session)
        self.processed = ProcessedEventRepo(self.session)
        self.reply_tokens = ReplyTokenRepo(self.session)
        self.processes = ProcessRepo(self.session)

    async def __aexit__(self, *exc_info) -> None:
        # close() rolls back what was not committed; unlike rollback() it leaves loaded
        # objects readable (detached), which callers use after the block.
        try:
            await self.session.close()
        finally:
            if self._turn is not None:
                await self._turn.__aexit__(None, None, None)

    async def commit(self) -> None:
        await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        """Undo this transaction's changes and forget its after-commit callbacks."""
        await self.session.rollback()
        self._after_commit = []
        self._open_repos()  # their caches hold objects the rollback expired

    @asynccontextmanager
    async def attempt(self) -> AsyncIterator[None]:
        """A part of the transaction that an error undoes alone (a savepoint): what was
        written before it stays, and so does the rest of the transaction after it."""
        callbacks = len(self._after_commit)
        part = await self.session.begin_nested()
        try:
            yield
        except BaseException:
            await part.rollback()
            del self._after_commit[callbacks:]
            self._open_repos()  # their caches may hold objects of the undone part
            raise
        await part.commit()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed (e.g. update caches)."""
        self._after_commit.append(callback)

    @property
    def has_after_commit(self) -> bool:
        """Whether some effect of this transaction reaches the process only on commit."""
        return bool(self._after_commit)

    @property
    def changed(self) -> bool:
        """Whether objects were added, changed or deleted and not flushed yet."""
        return bool(self.session.new or self.session.dirty or self.session.deleted)

    async def flush(self) -> None:
        await self.session.flush()

    async def refresh(self, obj: Base, attributes: list[str] | None = None) -> None:
        """Read an object's columns (or the named relations) again from the database."""
        await self.session.refresh(obj, attributes)

    def add(self, obj: Base) -> None:
        self.session.add(obj)


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class MunicipalityRepo(_Repo):
    async def get(self, ags: str) -> Municipality | None:
        return await self.session.get(Municipality, ags)

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Municipality)) or 0

    async def all(self) -> Sequence[Municipality]:
        return (await self.session.scalars(select(Municipality))).all()

    async def map_points(self) -> Sequence[tuple[str, float, float, bool]]:
        """(AGS, latitude, longitude, structurally weak) of every placed municipality."""
        weak = func.coalesce(Municipality.weak_override, Municipality.structurally_weak)
        stmt = select(Municipality.ags, Municipality.lat, Municipality.lon, weak).where(
            Municipality.lat.is_not(None), Municipality.lon.is_not(None)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def upsert_many(self, rows: Iterable[dict]) -> int:
        """Insert or refresh reference rows, keeping staff overrides."""
        existing = set((await self.session.scalars(select(Municipality.ags))).all())
        count = 0
        for row in rows:
            if row["ags"] in existing:
                await self.session.execute(
                    update(Municipality).where(Municipality.ags == row["ags"]).values(**row)
                )
            else:
                self.session.add(Municipality(**row))
            count += 1
        return count


class MemberRepo(_Repo):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        # Members found by address in this transaction: a channel looks the sender up more
        # than once per input, and a batch of mails preloads all its senders at once.
        self._by_email: dict[str, Member] = {}

    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def many(self, ids: Iterable[int]) -> dict[int, Member]:
        """The members with these ids, in one query (erased ones included)."""
        wanted = set(ids)
        if not wanted:
            return {}
        rows = await self.session.scalars(select(Member).where(Member.id.in_(wanted)))
        return {member.id: member for member in rows}

    async def by_email(self, email: str) -> Member | None:
        key = email.strip().lower()
        member = self._by_email.get(key)
        if member is not None and member in self.session and (member.email or "").lower() == key:
            return member  # the same object the query would return (emails are unique)
        member = await self.session.scalar(select(Member).where(func.lower(Member.email) == key))
        if member is not None:
            self._by_email[key] = member
        return member

    async def preload_emails(self, emails: Iterable[str]) -> None:
        """Load the members with these addresses in one query, for ``by_email`` to find."""
        keys = {e.strip().lower() for e in emails if e}
        if keys:
            rows = await self.session.scalars(
                select(Member).where(func.lower(Member.email).in_(keys))
            )
            self._by_email.update({(m.email or "").lower(): m for m in rows})

    async def by_telegram(self, chat_id: int) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.telegram_chat_id == chat_id))

    async def digest_readers(self, frequencies: Sequence[str]) -> Sequence[Member]:
        """Members who consented, are not erased and read a digest this often."""
        stmt = select(Member).where(
            Member.erased_at.is_(None),
            Member.consent_at.is_not(None),
            Member.digest.in_(frequencies),
        )
        return (await self.session.scalars(stmt)).all()

    async def list(self, *, unverified_only: bool = False) -> Sequence[Member]:
        stmt = select(Member).where(Member.erased_at.is_(None)).order_by(Member.id)
        if unverified_only:
            stmt = stmt.where(Member.verified_at.is_(None))
        return (await self.session.scalars(stmt)).all()

    async def emails(self) -> set[str]:
        rows = await self.session.scalars(select(Member.email).where(Member.email.is_not(None)))
        return {e.lower() for e in rows}

    async def staff(self) -> Sequence[Member]:
        """The network's staff (not erased), by id."""
        stmt = (
            select(Member)
            .where(Member.role == "network_staff", Member.erased_at.is_(None))
            .order_by(Member.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def email_suspended(self) -> Sequence[Member]:
        stmt = select(Member).where(
            Member.email_suspended_at.is_not(None), Member.erased_at.is_(None)
        )
        return (await self.session.scalars(stmt)).all()

    async def telegram_unreachable(self) -> Sequence[Member]:
        stmt = select(Member).where(
            Member.telegram_unreachable_at.is_not(None), Member.erased_at.is_(None)
        )
        return (await self.session.scalars(stmt)).all()

    async def per_municipality(self) -> dict[str, int]:
        """How many members (not erased, not staff) each municipality has."""
        stmt = (
            select(Member.municipality_ags, func.count())
            .where(Member.erased_at.is_(None), Member.role != "network_staff")
            .group_by(Member.municipality_ags)
        )
        return {ags: count for ags, count in (await self.session.execute(stmt)).all()}


class CodeRepo(_Repo):
    async def by_hash(self, code_hash: str) -> OneTimeCode | None:
        return await self.session.scalar(
            select(OneTimeCode).where(OneTimeCode.code_hash == code_hash)
        )


class PostRepo(_Repo):
    async def get(self, post_id: int) -> Post | None:
        return await self.session.get(Post, post_id)

    async def expiring(self, statuses: Sequence[str], until: datetime) -> Sequence[Post]:
        """Posts in one of ``statuses`` whose expiry is no later than ``until``."""
        stmt = select(Post).where(Post.status.in_(statuses), Post.expires_at <= until)
        return (await self.session.scalars(stmt)).unique().all()

    async def created_between(self, since: datetime, until: datetime) -> Sequence[Post]:
        """Posts created in [since, until) and not deleted, oldest first."""
        stmt = select(Post).where(*_created_between(since, until)).order_by(Post.created_at)
        return (await self.session.scalars(stmt)).all()

    async def creation_times(self, since: datetime, until: datetime) -> Sequence[datetime]:
        """When the posts of ``created_between`` were created."""
        stmt = select(Post.created_at).where(*_created_between(since, until))
        return (await self.session.scalars(stmt)).all()

    async def by_author(self, member_id: int) -> Sequence[Post]:
        stmt = (
            select(Post)
            .where(Post.author_id == member_id, Post.status != "deleted")
            .order_by(Post.created_at.desc(), Post.id.desc())
        )
        return (await self.session.scalars(stmt)).all()

    async def open_by_authors(self, author_ids: Sequence[int]) -> dict[int, list[Post]]:
        """The open posts of many authors, newest first."""
        found: dict[int, list[Post]] = {}
        for chunk in in_chunks(author_ids):
            stmt = (
                select(Post)
                .where(Post.author_id.in_(chunk))
                .where(Post.status == "open")
                .order_by(Post.created_at.desc(), Post.id.desc())
            )
            for post in await self.session.scalars(stmt):
                found.setdefault(post.author_id, []).append(post)
        return found

    async def changed_since(self, since: datetime | None) -> Sequence[Post]:
        stmt = select(Post).order_by(Post.updated_at, Post.id)
        if since is not None:
            stmt = stmt.where(Post.updated_at >= since)
        return (await self.session.scalars(stmt)).all()

    async def stamps_since(self, since: datetime) -> list[tuple[int, datetime]]:
        """(id, updated_at) of the posts changed since ``since``: a cheap look for changes."""
        stmt = select(Post.id, Post.updated_at).where(Post.updated_at >= since)
        return [(post_id, stamp) for post_id, stamp in (await self.session.execute(stmt)).all()]

    async def many(self, ids: Iterable[int]) -> dict[int, Post]:
        ids = list(ids)
        if not ids:
            return {}
        rows = await self.session.scalars(select(Post).where(Post.id.in_(ids)))
        return {p.id: p for p in rows}

    async def index_rows(self, chunk: int = 1_000) -> AsyncIterator[Sequence[Row]]:
        """Every post as the matching index needs it at start: plain columns, the
        municipality's place and the stored embedding, streamed in chunks without ORM
        objects (100,000 posts would otherwise be loaded with their authors). A row with its
        text, terms and vector takes about 8 KB: at start the chunk is held beside the
        growing index, so it is kept small (5,000 rows raised the peak RSS by 40 MB).

        ``topics`` and ``updated_at`` come as the driver gives them: ``index_values``
        turns them into a tuple and a datetime, once per distinct value."""
        stmt = (
            select(
                Post.id,
                Post.kind,
                Post.title,
                Post.body,
                type_coerce(Post.topics, NullType()).label("topics"),
                Post.municipality_ags,
                Post.status,
                type_coerce(Post.updated_at, NullType()).label("updated_at"),
                Municipality.kreis_ags,
                Municipality.land,
                Municipality.lat,
                Municipality.lon,
                Municipality.bbsr_type,
                Municipality.structurally_weak,
                Municipality.weak_override,
                PostEmbedding.model,
                PostEmbedding.text_key,
                PostEmbedding.vector,
                PostTerms.analysis,
                PostTerms.text_key.label("terms_key"),
                PostTerms.length,
                PostTerms.terms,
                PostTerms.tfs,
                PostTerms.marks,
                PostTerms.expansions,
            )
            .join(Municipality, Municipality.ags == Post.municipality_ags, isouter=True)
            .join(PostEmbedding, PostEmbedding.post_id == Post.id, isouter=True)
            .join(PostTerms, PostTerms.post_id == Post.id, isouter=True)
            .order_by(Post.id)
            .execution_options(yield_per=chunk)
        )
        result = await self.session.stream(stmt)
        async for rows in result.partitions(chunk):
            yield rows

    def index_values(self) -> IndexValues:
        """The converters for the raw ``topics`` and ``updated_at`` of ``index_rows``."""
        dialect = self.session.get_bind().dialect
        return IndexValues(
            _result_processor(Post.__table__.c.topics, dialect),
            _result_processor(Post.__table__.c.updated_at, dialect),
        )

    async def embeddings(self, ids: Collection[int]) -> dict[int, PostEmbedding]:
        if not ids:
            return {}
        stmt = select(PostEmbedding).where(PostEmbedding.post_id.in_(list(ids)))
        return {row.post_id: row for row in await self.session.scalars(stmt)}

    async def save_embedding(
        self, post_id: int, model: str, key: str, vector: bytes, row: PostEmbedding | None
    ) -> None:
        if row is None:
            self.session.add(
                PostEmbedding(post_id=post_id, model=model, text_key=key, vector=vector)
            )
        else:
            row.model, row.text_key, row.vector = model, key, vector

    async def terms(self, ids: Collection[int]) -> dict[int, PostTerms]:
        if not ids:
            return {}
        stmt = select(PostTerms).where(PostTerms.post_id.in_(list(ids)))
        return {row.post_id: row for row in await self.session.scalars(stmt)}

    async def save_terms(
        self, post_id: int, key: str, terms: StoredTerms, row: PostTerms | None
    ) -> None:
        """Store a post's analysed text under the key of that text."""
        values = {
            "analysis": terms.analysis,
            "text_key": key,
            "length": terms.length,
            "terms": terms.terms,
            "tfs": terms.tfs,
            "marks": terms.marks,
            "expansions": terms.expansions,
        }
        if row is None:
            self.session.add(PostTerms(post_id=post_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)

    async def unmatched(self, ids: Collection[int], external_ids: Collection[str]) -> list[Post]:
        """Those of the given posts (by id or external id) that were never matched."""
        found: dict[int, Post] = {}
        ids, external_ids = list(ids), list(external_ids)
        for start in range(0, max(len(ids), len(external_ids)), 500):
            chosen = Post.id.in_(ids[start : start + 500]) | Post.external_id.in_(
                external_ids[start : start + 500]
            )
            stmt = select(Post).where(chosen, Post.matched_at.is_(None))
            found.update((p.id, p) for p in await self.session.scalars(stmt))
        return list(found.values())

    async def external_ids(self) -> set[str]:
        rows = await self.session.scalars(
            select(Post.external_id).where(Post.external_id.is_not(None))
        )
        return set(rows)


def _created_between(since: datetime, until: datetime) -> tuple:
    return (Post.created_at >= since, Post.created_at < until, Post.status != "deleted")


class MatchRepo(_Repo):
    async def get(self, match_id: int) -> Match | None:
        return await self.session.get(Match, match_id)

    async def partner_ids(self, post_id: int) -> set[int]:
        """Posts already paired with this one in any state (never proposed twice)."""
        stmt = select(Match.offer_id, Match.request_id).where(
            or_(Match.offer_id == post_id, Match.request_id == post_id)
        )
        return {o if r == post_id else r for o, r in (await self.session.execute(stmt)).all()}

    async def for_member(self, member_id: int, statuses: tuple[str, ...]) -> Sequence[Match]:
        own = select(Post.id).where(Post.author_id == member_id)
        stmt = (
            select(Match)
            .where(
                Match.status.in_(statuses),
                or_(Match.offer_id.in_(own), Match.request_id.in_(own)),
            )
            .order_by(Match.created_at.desc(), Match.score.desc())
        )
        return (await self.session.scalars(stmt)).unique().all()

    async def all(self, statuses: tuple[str, ...] | None = None) -> Sequence[Match]:
        stmt = select(Match).order_by(Match.id)
        if statuses:
            stmt = stmt.where(Match.status.in_(statuses))
        return (await self.session.scalars(stmt)).unique().all()

    async def statuses_created_between(self, since: datetime, until: datetime) -> list[str]:
        """The status of each match created in [since, until)."""
        stmt = select(Match.status).where(Match.created_at >= since, Match.created_at < until)
        return list(await self.session.scalars(stmt))

    async def creation_times(self, since: datetime, until: datetime) -> Sequence[datetime]:
        stmt = select(Match.created_at).where(Match.created_at >= since, Match.created_at < until)
        return (await self.session.scalars(stmt)).all()

    async def accepted_between(self, since: datetime, until: datetime) -> int:
        """How many matches were accepted in [since, until)."""
        stmt = (
            select(func.count())
            .select_from(Match)
            .where(Match.decided_at >= since, Match.decided_at < until, Match.status == "accepted")
        )
        return int(await self.session.scalar(stmt) or 0)

    async def answers(self, ids: Collection[int]) -> dict[int, tuple[str, dict[int, str | None]]]:
        """Each match's status and each side's answer by the side's author (one query)."""
        if not ids:
            return {}
        offer, request = aliased(Post), aliased(Post)
        stmt = (
            select(
                Match.id,
                Match.status,
                offer.author_id,
                Match.offer_answer,
                request.author_id,
                Match.request_answer,
            )
            .join(offer, offer.id == Match.offer_id)
            .join(request, request.id == Match.request_id)
            .where(Match.id.in_(set(ids)))
        )
        rows = (await self.session.execute(stmt)).all()
        return {
            match_id: (status, {offer_author: offer_answer, request_author: request_answer})
            for match_id, status, offer_author, offer_answer, request_author, request_answer in rows
        }

    async def stale_for_post(self, post_id: int) -> None:
        """A closed post's open proposals and suggestions can no longer be answered."""
        await self.session.execute(
            update(Match)
            .where(
                Match.status.in_(("proposed", "suggested")),
                or_(Match.offer_id == post_id, Match.request_id == post_id),
            )
            .values(status="stale")
        )


class DialogueRepo(_Repo):
    """Dialogues by sender key; what was looked up (found or not) is remembered for the
    transaction, because every command ends the sender's dialogue and most have none."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._known: dict[str, Dialogue | None] = {}

    async def get(self, key: str) -> Dialogue | None:
        if key not in self._known:
            self._known[key] = await self.session.get(Dialogue, key)
        return self._known[key]

    async def preload(self, keys: Iterable[str]) -> None:
        wanted = set(keys) - set(self._known)
        if wanted:
            found = await self.session.scalars(select(Dialogue).where(Dialogue.key.in_(wanted)))
            self._known.update(dict.fromkeys(wanted))
            self._known.update({d.key: d for d in found})

    def add(self, dialogue: Dialogue) -> None:
        self.session.add(dialogue)
        self._known[dialogue.key] = dialogue

    async def begin(self, key: str, flow: str, step: str, data: dict, now: datetime) -> None:
        """Start or advance the sender's dialogue (a new row, or the existing one changed)."""
        dialogue = await self.get(key)
        if dialogue is None:
            dialogue = Dialogue(key=key)
            self.add(dialogue)
        dialogue.flow = flow
        dialogue.step = step
        dialogue.data = dict(data)
        dialogue.updated_at = now

    async def clear(self, key: str) -> None:
        dialogue = await self.get(key)
        if dialogue in self.session.new:
            self.session.expunge(dialogue)  # added in this transaction, never written
        elif dialogue is not None:
            await self.session.delete(dialogue)
        self._known[key] = None


class OutboxRepo(_Repo):
    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def due(self, channel: str, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Messages of ``channel`` due now: pending, or sending with a lapsed lease. On
        PostgreSQL the rows are locked, and rows another transaction locked are skipped."""
        stmt = (
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.not_before <= now,
                or_(
                    OutboxMessage.status == "pending",
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
                ),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        if self.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return (await self.session.scalars(stmt)).all()

    async def unclaim(self, message_ids: Collection[int], owner: int | None) -> int:
        """Messages still being sent under ``owner``'s lease become pending; how many."""
        held = (
            OutboxMessage.claimed_by.is_(None)
            if owner is None
            else OutboxMessage.claimed_by == owner
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.status == "sending", held)
            .values(status="pending", claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    async def add_rows(self, rows: Sequence[dict]) -> None:
        """Queue many messages given as column values, in one statement."""
        if rows:
            await self.session.execute(insert(OutboxMessage.__table__), list(rows))

    async def figures(self) -> list[tuple[str, str, int, int, int]]:
        """Per channel and status: messages, failed attempts, sends of unknown outcome."""
        stmt = select(
            OutboxMessage.channel,
            OutboxMessage.status,
            func.count(),
            func.coalesce(func.sum(OutboxMessage.attempts), 0),
            func.coalesce(func.sum(OutboxMessage.unconfirmed), 0),
        ).group_by(OutboxMessage.channel, OutboxMessage.status)
        return [
            (channel, status, count, int(attempts), int(unconfirmed))
            for channel, status, count, attempts, unconfirmed in await self.session.execute(stmt)
        ]

    async def failed_channels_since(self, since: datetime) -> list[str]:
        """The channel of each message created since ``since`` and given up on."""
        stmt = select(OutboxMessage.channel).where(
            OutboxMessage.status == "failed", OutboxMessage.created_at >= since
        )
        return list(await self.session.scalars(stmt))

    async def unrouted_per_member(self, since: datetime) -> list[tuple[int, str, int]]:
        """(member id, name, count) of messages since ``since`` left without a channel."""
        stmt = (
            select(Member.id, Member.name, func.count(OutboxMessage.id))
            .join(OutboxMessage, OutboxMessage.member_id == Member.id)
            .where(
                OutboxMessage.status == "unrouted",
                OutboxMessage.created_at >= since,
                Member.erased_at.is_(None),
            )
            .group_by(Member.id, Member.name)
            .order_by(Member.id)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def failed(self, channel: str, limit: int) -> Sequence[OutboxMessage]:
        """Messages of ``channel`` given up on, oldest first."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == "failed")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def waiting_count(self, channel: str, kind: str) -> int:
        """Messages of ``kind`` for ``channel`` not yet sent (due later, or being sent)."""
        stmt = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.channel == channel,
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.kind == kind,
        )
        return int(await self.session.scalar(stmt) or 0)

    async def many(self, ids: Collection[int]) -> Sequence[OutboxMessage]:
        if not ids:
            return []
        stmt = select(OutboxMessage).where(OutboxMessage.id.in_(ids))
        return (await self.session.scalars(stmt)).all()

    async def by_external_ids(self, channel: str, ids: Collection[str]) -> Sequence[OutboxMessage]:
        """Sent messages by the channel's id for them (what an email reply refers to)."""
        if not ids:
            return []
        stmt = select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.external_id.in_(ids)
        )
        return (await self.session.scalars(stmt.order_by(OutboxMessage.id))).all()

    async def by_bounce_token(self, token: str) -> OutboxMessage | None:
        """The message whose envelope sender carried ``token`` (exact, case-sensitive)."""
        stmt = select(OutboxMessage).where(OutboxMessage.bounce_token == token.strip())
        return (await self.session.scalars(stmt)).first()

    async def for_member(self, member_id: int) -> Sequence[OutboxMessage]:
        stmt = select(OutboxMessage).where(OutboxMessage.member_id == member_id)
        return (await self.session.scalars(stmt.order_by(OutboxMessage.id))).all()

    async def exists(self, dedupe_key: str) -> bool:
        stmt = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        return (await self.session.scalar(stmt)) is not None

    async def existing_keys(self, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` are taken, in one query however many there are.

        The keys travel as one parameter (a PostgreSQL array, a JSON list for SQLite)
        and are joined against the unique index, rather than as thousands of IN (...)
        parameters whose plan the server may get wrong on a freshly filled table.
        """
        if not keys:
            return set()
        if self.session.bind.dialect.name == "postgresql":
            param = bindparam("keys", list(keys), type_=ARRAY(Text))
            wanted = func.unnest(param).table_valued("value").render_derived()
        else:
            wanted = func.json_each(json.dumps(list(keys))).table_valued("value")
        stmt = select(OutboxMessage.dedupe_key).join_from(
            wanted, OutboxMessage, OutboxMessage.dedupe_key == wanted.c.value
        )
        return set(await self.session.scalars(stmt))


async def insert_ignoring_duplicates(
    uow: UnitOfWork, model: type[Base], rows: list[dict], *, encoded_json: Collection[str] = ()
) -> None:
    """Insert many rows of one model at once; rows that would break a unique constraint
    (an outbox dedupe key already taken) are silently skipped.

    ``encoded_json`` names JSON columns whose values the caller already serialised, so
    a value shared by many rows (a calendar file) is encoded once, not once per row.
    All rows must have the same keys.
    """
    if not rows:
        return
    table = model.__table__
    if uow.session.bind.dialect.name == "postgresql":
        stmt = _unnest_insert(table, list(rows[0]), rows, encoded_json)
        await uow.session.execute(stmt.on_conflict_do_nothing())
        return
    stmt = sqlite_insert(table).on_conflict_do_nothing()
    if encoded_json:
        # SQLite keeps JSON as text: bind the serialised values as they are.
        stmt = stmt.values({name: bindparam(name, type_=Text()) for name in encoded_json})
    await uow.session.execute(stmt, rows)


def _unnest_insert(table, names: list[str], rows: list[dict], encoded_json: Collection[str]):
    """``INSERT ... SELECT ... FROM unnest(<one array per column>)``: one statement with
    one parameter per column however many rows, instead of one round of binding per row.
    A column with the same value in every row (status, created_at) is bound once."""
    varying, picked = [], {}
    for name in names:
        column = table.c[name]
        is_json = isinstance(column.type, JSON)
        values = [row[name] for row in rows]
        if is_json and name not in encoded_json:
            values = [json.dumps(value) for value in values]
        item_type = Text() if is_json else column.type
        if all(value == values[0] for value in values):
            picked[name] = bindparam(name, values[0], type_=item_type)
        else:
            varying.append(bindparam(name, values, type_=ARRAY(item_type)))
    if varying:
        source = func.unnest(*varying).table_valued(*(p.key for p in varying)).render_derived()
        picked.update({p.key: source.c[p.key] for p in varying})
    columns = [
        cast(picked[name], JSON()) if isinstance(table.c[name].type, JSON) else picked[name]
        for name in names
    ]
    query = select(*columns).select_from(source) if varying else select(*columns)
    return postgresql_insert(table).from_select(names, query)


def _result_processor(column, dialect) -> Callable[[object], object]:
    """What SQLAlchemy does to a value of ``column`` it reads through ``dialect``."""
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return process or (lambda value: value)


class IndexValues:
    """Raw ``topics`` and ``updated_at`` of ``PostRepo.index_rows`` as the ORM would read
    them. Converting every row's two values took a tenth of the start at 100,000 posts;
    most posts have no topics, and posts written together share one stamp (the caller
    converts a stamp only when it differs from the row before)."""

    CACHED = 1_024  # distinct topic lists remembered

    def __init__(self, topics: Callable[[object], object], stamp: Callable[[object], object]):
        self._topics, self.stamp = topics, stamp
        self._tuples: dict[object, tuple[str, ...]] = {}

    def topics(self, raw: object) -> tuple[str, ...]:
        try:
            found = self._tuples.get(raw)
        except TypeError:  # a driver that decodes JSON itself gives a list
            return tuple(self._topics(raw) or ())  # type: ignore[call-overload]
        if found is None:
            if len(self._tuples) >= self.CACHED:
                self._tuples.clear()
            found = self._tuples[raw] = tuple(self._topics(raw) or ())  # type: ignore[call-overload]
        return found
