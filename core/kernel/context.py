"""What a command handler gets: the transaction, the sender and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.kernel.clock import Clock, system_clock
from core.kernel.replies import IncomingFile

if TYPE_CHECKING:  # annotations only: the features build on the kernel, not the reverse
    from core.exchange.match_index import MatchIndex
    from core.grants.programme import GrantProgramme
    from core.kernel.features import Features
    from core.knowledge.library import KnowledgeLibrary
    from core.municipalities.directory import MunicipalityIndex
    from core.store.models import Member
    from core.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Sender:
    """Who wrote, as the channel knows them."""

    channel: str  # "terminal" | "telegram" | "email"
    address: str  # email address or Telegram chat id
    display_name: str = ""
    signature: str = ""  # a mail's signature block: where registration finds name and town

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.address}"

    @property
    def email(self) -> str | None:
        return self.address if self.channel in ("terminal", "email") else None

    @property
    def telegram_chat_id(self) -> int | None:
        return int(self.address) if self.channel == "telegram" else None


@dataclass
class Services:
    """Long-lived collaborators shared by all requests of a process (made by the bootstrap,
    ``zukunftsraum/bootstrap.py``, with the features assembled in ``core/feature_set.py``)."""

    index: MatchIndex
    municipalities: MunicipalityIndex
    grants: GrantProgramme
    # What the features contribute: commands, dialogue steps, sweeps, digest sections,
    # privacy hooks.
    features: Features
    # The knowledge collection's files, search index and size limits.
    knowledge: KnowledgeLibrary
    clock: Clock = system_clock
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    bot_username: str = "ZukunftsraumBot"


@dataclass
class Ctx:
    uow: UnitOfWork
    services: Services
    sender: Sender
    member: Member | None
    now: datetime
    # Inputs a step set aside to be carried out once it is done (what a member asked for
    # before registering or consenting), oldest first, each with the files it came with,
    # parked in the knowledge file store by content hash ({"name", "type", "sha256",
    # "complete"}); the assistant acts on them right after the step (core/kernel/kept.py).
    then: list[tuple[str, list[dict]]] = field(default_factory=list)
    # Files sent along with the input, for the commands that take them (``takes_files``).
    files: tuple[IncomingFile, ...] = ()

    @property
    def known_member(self) -> Member:
        """The member: commands that need one are only called with one
        (``Command.needs_member``), and so are the dialogue steps after registration."""
        assert self.member is not None
        return self.member

    async def begin(self, flow: str, step: str, data: dict | None = None) -> None:
        """Start or advance a guided dialogue; it is stored so a restart keeps it."""
        await self.uow.dialogues.begin(self.sender.key, flow, step, data or {}, self.now)

    async def end(self) -> None:
        await self.uow.dialogues.clear(self.sender.key)
