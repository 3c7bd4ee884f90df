"""What a command handler gets: the transaction, the sender and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from core.exchange.match_index import MatchIndex
from core.feature_set import all_features
from core.grants.programme import GrantProgramme
from core.kernel.clock import Clock, system_clock
from core.kernel.features import Features
from core.knowledge.library import KnowledgeLibrary
from core.municipalities.directory import MunicipalityIndex
from core.store.models import Dialogue, Member
from core.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Sender:
    """Who wrote, as the channel knows them."""

    channel: str  # "terminal" | "telegram" | "email"
    address: str  # email address or Telegram chat id
    display_name: str = ""

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
    """Long-lived collaborators shared by all requests of a process."""

    index: MatchIndex
    municipalities: MunicipalityIndex
    clock: Clock = system_clock
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    bot_username: str = "ZukunftsraumBot"
    grants: GrantProgramme = field(default_factory=GrantProgramme)
    # What the features contribute (sweeps, digest sections, privacy hooks); the bootstrap
    # passes it, the default serves tests that build services by hand.
    features: Features = field(default_factory=all_features)
    # The knowledge collection's files, search index and size limits.
    knowledge: KnowledgeLibrary = field(default_factory=KnowledgeLibrary)


@dataclass
class Ctx:
    uow: UnitOfWork
    services: Services
    sender: Sender
    member: Member | None
    now: datetime
    # An input a step set aside to be carried out once it is done (what a member asked for
    # before registering or consenting); the assistant acts on it right after the step.
    then: str | None = None

    async def begin(self, flow: str, step: str, data: dict | None = None) -> None:
        """Start or advance a guided dialogue; it is stored so a restart keeps it."""
        dialogue = await self.uow.dialogues.get(self.sender.key)
        if dialogue is None:
            dialogue = Dialogue(key=self.sender.key)
            self.uow.dialogues.add(dialogue)
        dialogue.flow = flow
        dialogue.step = step
        dialogue.data = dict(data or {})
        dialogue.updated_at = self.now

    async def end(self) -> None:
        await self.uow.dialogues.clear(self.sender.key)
