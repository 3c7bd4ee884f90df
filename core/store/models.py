"""Database schema of the assistant (SQLAlchemy 2 declarative models).

Only core's store (``core.store.unit_of_work``) touches these tables; adapters see the
use cases and channel-neutral replies, never the ORM.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _ts() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True))


class Municipality(Base):
    __tablename__ = "municipalities"

    ags: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    land: Mapped[str] = mapped_column(String(2))
    land_name: Mapped[str] = mapped_column(String(60))
    kreis_ags: Mapped[str | None] = mapped_column(String(5))
    kreis_name: Mapped[str | None] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    postcodes: Mapped[str] = mapped_column(Text, default="")
    bbsr_type: Mapped[str | None] = mapped_column(String(40))
    grw_status: Mapped[str | None] = mapped_column(String(10))
    structurally_weak: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff may overrule the derived flag; NULL means "use the derived value".
    weak_override: Mapped[bool | None] = mapped_column(Boolean)

    @property
    def is_structurally_weak(self) -> bool:
        return self.structurally_weak if self.weak_override is None else self.weak_override


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    municipality_ags: Mapped[str] = mapped_column(ForeignKey("municipalities.ags"))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    preferred_channel: Mapped[str] = mapped_column(String(10), default="auto")
    digest: Mapped[str] = mapped_column(String(10), default="weekly")
    consent_at: Mapped[datetime | None] = _ts()
    verified_at: Mapped[datetime | None] = _ts()
    verified_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _ts()
    erased_at: Mapped[datetime | None] = _ts()
    email_suspended_at: Mapped[datetime | None] = _ts()
    email_hard_bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    telegram_unreachable_at: Mapped[datetime | None] = _ts()

    municipality: Mapped[Municipality] = relationship(lazy="joined")

    @property
    def is_staff(self) -> bool:
        return self.role == "network_staff"


class OneTimeCode(Base):
    """Invitation and linking codes; only a hash is stored."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime] = _ts()
    used_at: Mapped[datetime | None] = _ts()


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    municipality_ags: Mapped[str] = mapped_column(ForeignKey("municipalities.ags"))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = _ts()
    renewal_asked_at: Mapped[datetime | None] = _ts()
    # When matching last ran for the post; an import stopped midway matches what has none.
    matched_at: Mapped[datetime | None] = _ts()

    author: Mapped[Member] = relationship(lazy="joined")
    municipality: Mapped[Municipality] = relationship(lazy="joined")


class PostEmbedding(Base):
    """A post's sentence embedding (core/matching/semantic.py), computed once per text:
    `text_key` fingerprints the encoded text, `model` names the model, so an edited post or
    a new model is encoded again and a restart encodes nothing."""

    __tablename__ = "post_embeddings"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(40))
    text_key: Mapped[str] = mapped_column(String(16))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class PostTerms(Base):
    """A post's analysed text for the word index (core/matching/stored_terms.py), stored
    once per text: `text_key` fingerprints the text, `analysis` the analyser, so an edited
    post or a changed analyser is analysed again and a restart analyses nothing."""

    __tablename__ = "post_terms"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    analysis: Mapped[str] = mapped_column(String(16))
    text_key: Mapped[str] = mapped_column(String(16))
    length: Mapped[float] = mapped_column(Float)
    terms: Mapped[str] = mapped_column(Text)
    tfs: Mapped[bytes] = mapped_column(LargeBinary)
    marks: Mapped[bytes] = mapped_column(LargeBinary)
    expansions: Mapped[str] = mapped_column(Text)


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("offer_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    # proposed (both asked) | suggested (only `shown_to` sees it) | accepted | declined | stale
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    # The side ("offer" | "request") that sees a suggestion and may ask for contact.
    shown_to: Mapped[str | None] = mapped_column(String(10))
    offer_answer: Mapped[str | None] = mapped_column(String(5))
    request_answer: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = _ts()
    decided_at: Mapped[datetime | None] = _ts()

    offer: Mapped[Post] = relationship(foreign_keys=[offer_id], lazy="joined")
    request: Mapped[Post] = relationship(foreign_keys=[request_id], lazy="joined")


class Dialogue(Base):
    """An unfinished guided conversation, stored so it survives a restart."""

    __tablename__ = "dialogues"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    flow: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = _ts()


class OutboxMessage(Base):
    """A message to a member, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_channel_status", "channel", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    ref: Mapped[str | None] = mapped_column(String(60))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Files to send along, as [{"filename", "content_type", "data" (base64)}].
    attachments: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Channel details such as {"in_reply_to": ..., "references": ...} for email threads.
    meta: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = _ts()
    not_before: Mapped[datetime] = _ts()
    claimed_until: Mapped[datetime | None] = _ts()
    sent_at: Mapped[datetime | None] = _ts()
    # The channel's id of the delivered message (email Message-ID, Telegram message_id).
    external_id: Mapped[str | None] = mapped_column(String(300))
    # The secret in this message's own envelope sender (assistant+b-TOKEN@...): a delivery
    # report counts only when it reaches that address (VERP).
    bounce_token: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    # The process holding the lease while status is "sending" (see ``ServiceProcess``).
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("service_processes.id", ondelete="SET NULL"), index=True
    )
    # Sends whose outcome stayed unknown (a timeout after the request left): each may have
    # arrived, so each retry of one is a possible duplicate, counted here.
    unconfirmed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ServiceProcess(Base):
    """A running dispatcher process: its heartbeat tells others whether its leases still count."""

    __tablename__ = "service_processes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = _ts()
    heartbeat_at: Mapped[datetime] = _ts()
    ended_at: Mapped[datetime | None] = _ts()


class ProcessedEvent(Base):
    """Incoming events already acted on (Telegram update_id, email Message-ID)."""

    __tablename__ = "processed_events"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    processed_at: Mapped[datetime] = _ts()


class InboundMail(Base):
    """An incoming mail, stored raw before it is processed (nothing is lost)."""

    __tablename__ = "inbound_mail"
    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = _ts()
    status: Mapped[str] = mapped_column(String(12), default="new")
    processed_at: Mapped[datetime | None] = _ts()
    error: Mapped[str | None] = mapped_column(String(300))
    # Failed processing attempts; the mail waits until ``not_before`` and is set aside as
    # "failed" after too many, so one poisonous mail never blocks the ones after it.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_before: Mapped[datetime | None] = _ts()


class ReplyToken(Base):
    """The secret in a per-member reply address (assistant+TOKEN@...)."""

    __tablename__ = "reply_tokens"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = _ts()
    # The message that carried this address (its choices answer a numbered reply).
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))


class Event(Base):
    """A seminar, an e-learning course (its modules are child events) or a network meeting.

    Times are stored in UTC; members read them in Europe/Berlin. ``sequence`` grows with
    every change members must hear about (time, place, cancellation), as in iCalendar.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    # A course module points at its course; members register for the course.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = _ts()
    ends_at: Mapped[datetime | None] = _ts()
    location: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    # ISO 8601 durations before the start, e.g. ["P7D", "P1D", "PT1H"].
    reminder_offsets: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="published")
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()


class Registration(Base):
    """A member's place on an event (registered) or on its waiting list."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # registered | waiting | cancelled
    # When the current status began: the waiting list is served in this order, and a
    # reminder due before a member got their place is not sent.
    since: Mapped[datetime] = _ts()
    created_at: Mapped[datetime] = _ts()


class EventMaterial(Base):
    """A knowledge entry that belongs to an event: its recording (Aufzeichnung), slides or
    other material. Staff link it; members see it with the event and get the file."""

    __tablename__ = "event_materials"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_entries.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = _ts()


class Interest(Base):
    """Keywords a member follows; fitting new posts appear in their digest."""

    __tablename__ = "member_interests"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    keywords: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = _ts()


class DigestRun(Base):
    """One digest built for one reader and period; makes "since the last digest" exact.

    Written in the same transaction as the digest's outbox message, so a crash neither
    doubles nor drops a digest. ``items`` is 0 when there was nothing new (nothing sent).
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("member_id", "audience", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(10))  # member | staff
    period: Mapped[str] = mapped_column(String(40))
    covered_from: Mapped[datetime] = _ts()
    covered_until: Mapped[datetime] = _ts()
    items: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _ts()


class GrantApplication(Base):
    """A micro-grant application; the applicant's municipality is the recipient."""

    __tablename__ = "grant_applications"
    __table_args__ = (Index("ix_grant_applications_state", "state", "submitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    municipality_ags: Mapped[str] = mapped_column(ForeignKey("municipalities.ags"))
    # The budget year (Berlin calendar year of submission; of creation while a draft).
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    purpose: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[list] = mapped_column(JSON, default=list)
    # [{"kind": "consulting"|"travel"|"other", "label", "amount_cents", "days"?, "rate_cents"?}]
    cost_lines: Mapped[list] = mapped_column(JSON, default=list)
    requested_cents: Mapped[int] = mapped_column(Integer, default=0)
    approved_cents: Mapped[int | None] = mapped_column(Integer)
    proof_cents: Mapped[int | None] = mapped_column(Integer)
    proof_note: Mapped[str] = mapped_column(Text, default="")
    paid_cents: Mapped[int | None] = mapped_column(Integer)
    # What this application holds in its municipality's budget right now (see the ledger).
    reserved_cents: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()
    submitted_at: Mapped[datetime | None] = _ts()
    decided_at: Mapped[datetime | None] = _ts()

    applicant: Mapped[Member] = relationship(lazy="joined")
    municipality: Mapped[Municipality] = relationship(lazy="joined")


class GrantTransition(Base):
    """Who moved an application from one state to another, when and why."""

    __tablename__ = "grant_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("grant_applications.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    # A member (applicant or staff) or NULL with ``actor_label`` for the command line/system.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = _ts()


class GrantBudget(Base):
    """Committed (submitted + approved) cents of one municipality in one year."""

    __tablename__ = "grant_budgets"
    __table_args__ = (
        CheckConstraint("committed_cents >= 0 AND committed_cents <= cap_cents", name="within_cap"),
    )

    municipality_ags: Mapped[str] = mapped_column(
        ForeignKey("municipalities.ags"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    cap_cents: Mapped[int] = mapped_column(Integer)
    committed_cents: Mapped[int] = mapped_column(Integer, default=0)


class GrantLedgerEntry(Base):
    """Every reservation (+) and release (-) of budget, so the budget row can be audited."""

    __tablename__ = "grant_ledger"
    __table_args__ = (Index("ix_grant_ledger_budget", "municipality_ags", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_ags: Mapped[str] = mapped_column(ForeignKey("municipalities.ags"))
    year: Mapped[int] = mapped_column(Integer)
    # No cascade: an application with money on record can never be deleted.
    application_id: Mapped[int] = mapped_column(ForeignKey("grant_applications.id"), index=True)
    transition_id: Mapped[int] = mapped_column(ForeignKey("grant_transitions.id"))
    delta_cents: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = _ts()


class KnowledgeEntry(Base):
    """One item of the knowledge collection (Wissenssammlung): a guide, a checklist, a
    study, a recording … with a link and/or a stored file.

    The file itself lives under the data directory, named by the SHA-256 of its content
    (core.knowledge.files); the unique hash keeps one file from being stored twice. The
    extracted text serves search only. A member's suggestion is a draft with
    ``suggested_by``; erasing the member keeps a published entry but forgets the name.
    """

    __tablename__ = "knowledge_entries"
    __table_args__ = (Index("ix_knowledge_entries_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    municipality_ags: Mapped[str | None] = mapped_column(ForeignKey("municipalities.ags"))
    link: Mapped[str] = mapped_column(String(1000), default="")
    file_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_type: Mapped[str] = mapped_column(String(100), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    suggested_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    # The sentence embedding of title, summary and topics (as for posts, core.matching).
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    vector_model: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()

    municipality: Mapped[Municipality | None] = relationship(lazy="joined")


class KnowledgeSearch(Base):
    """One member search and how good its best hit was; no member is recorded. The staff
    digest lists the searches without a good result: what the network should write next."""

    __tablename__ = "knowledge_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    best_score: Mapped[float] = mapped_column(Float)
    good: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
