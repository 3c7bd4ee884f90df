"""What each feature contributes to the shared machinery, assembled once.

A feature (members, exchange, events, grants, messaging, digests) declares in one
``Feature`` value the scheduled sweeps it needs, the sections it adds to the staff
digest and how ``/daten`` and ``/loeschen`` reach its records. ``assemble`` joins the
declarations and refuses duplicates; the scheduler, the staff digest and the privacy
use cases then work from the assembled ``Features``. Because nothing is looked up by
name, a declared sweep is swept and a declared section appears, by construction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from core.kernel.grammar import Command, Grammar

if TYPE_CHECKING:  # annotations only: the features import this module, not the reverse
    from zoneinfo import ZoneInfo

    from core.digests.schedule import DigestSchedule
    from core.exchange.match_index import MatchIndex
    from core.grants.programme import GrantProgramme
    from core.knowledge.library import KnowledgeLibrary
    from core.reporting.sections import SectionBuilder
    from core.store.models import Member
    from core.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class SweepContext:
    """What one scheduler tick hands every sweep."""

    now: datetime
    schedule: DigestSchedule
    index: MatchIndex
    grants: GrantProgramme
    features: Features
    # The knowledge collection, for the member digest's section of new entries.
    knowledge: KnowledgeLibrary | None = None


SweepJob = Callable[["UnitOfWork", SweepContext], Awaitable[object]]
# A step of a guided dialogue: (ctx, dialogue, text) -> replies; keyed by (flow, step).
DialogueStep = Callable[..., Awaitable[object]]
ExportHook = Callable[["UnitOfWork", "Member"], Awaitable[object]]
# A line a feature adds beside a post's new proposals: (ctx, title, body) -> text or None.
MatchNote = Callable[..., Awaitable["str | None"]]
EraseHook = Callable[["UnitOfWork", "Member", datetime, "ZoneInfo"], Awaitable[None]]

# Keys of the ``/daten`` export that the member record itself fills (core/members/accounts.py).
MEMBER_EXPORT_KEYS = ("member", "posts", "matches", "messages")


@dataclass(frozen=True)
class Sweep:
    """An idempotent job of the scheduler tick ("send what is due and not yet sent").

    ``every``: how often the job needs to run at most; None runs it at every tick. A job
    whose work cannot be due more often (a cleanup with a grace of a day) declares it
    rather than costing every tick.
    """

    name: str
    run: SweepJob
    every: timedelta | None = None


@dataclass(frozen=True)
class PrivacyHook:
    """How a feature's records reach a member's data export and erasure.

    ``export`` fills the key ``name`` of the ``/daten`` JSON; ``erase`` runs before
    the member's own row is erased, in the same transaction.
    """

    name: str
    export: ExportHook | None = None
    erase: EraseHook | None = None


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the shared machinery.

    ``commands`` join the one grammar; the Telegram menu, the email help and ``/hilfe`` list
    them by ``menu_rank``, then in the order the features were given (the staff digest's
    order), so a member's most used commands come first. ``steps`` join the guided
    dialogues by (flow, step). ``match_notes`` add a line beside a post's new proposals.
    """

    name: str
    commands: tuple[Command, ...] = ()
    menu_rank: int = 1
    steps: Mapping[tuple[str, str], DialogueStep] = field(default_factory=dict)
    sweeps: tuple[Sweep, ...] = ()
    staff_digest: tuple[SectionBuilder, ...] = ()
    privacy: tuple[PrivacyHook, ...] = ()
    match_notes: tuple[MatchNote, ...] = ()


@dataclass(frozen=True)
class Features:
    """The assembled contributions, in the order the features were given."""

    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    @property
    def commands(self) -> list[Command]:
        by_rank = sorted(self.features, key=lambda feature: feature.menu_rank)
        return [command for feature in by_rank for command in feature.commands]

    @cached_property
    def grammar(self) -> Grammar:
        """The one command grammar of every channel, from the declared commands."""
        return Grammar(self.commands)

    @cached_property
    def steps(self) -> dict[tuple[str, str], DialogueStep]:
        return {key: step for feature in self.features for key, step in feature.steps.items()}

    @property
    def sweeps(self) -> list[Sweep]:
        return [sweep for feature in self.features for sweep in feature.sweeps]

    @property
    def staff_digest(self) -> list[SectionBuilder]:
        return [section for feature in self.features for section in feature.staff_digest]

    @property
    def privacy(self) -> list[PrivacyHook]:
        return [hook for feature in self.features for hook in feature.privacy]

    @property
    def match_notes(self) -> list[MatchNote]:
        return [note for feature in self.features for note in feature.match_notes]


def assemble(features: Iterable[Feature]) -> Features:
    """Join the declarations; a name given twice is a wiring mistake and refused."""
    joined = Features(tuple(features))
    _refuse_duplicates("feature", joined.names)
    _refuse_duplicates("command", [command.name for command in joined.commands])
    joined.grammar  # noqa: B018 - builds the grammar, which refuses a command word given twice
    _refuse_duplicates(
        "dialogue step",
        ["/".join(key) for feature in joined.features for key in feature.steps],
    )
    _refuse_duplicates("sweep", [sweep.name for sweep in joined.sweeps])
    _refuse_duplicates("staff digest section", [_name(s) for s in joined.staff_digest])
    _refuse_duplicates("privacy hook", [*MEMBER_EXPORT_KEYS, *(h.name for h in joined.privacy)])
    return joined


def _name(section: object) -> str:
    return f"{getattr(section, '__module__', '')}.{getattr(section, '__qualname__', section)}"


def _refuse_duplicates(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} is declared twice")
        seen.add(name)
