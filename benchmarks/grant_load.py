"""A concurrent load on one municipality's grant budget, shared by the concurrency test and
``bench_grants_concurrency.py``.

Many verified applicants of one municipality hold drafts whose sum is far above the cap.
Submissions, approvals (some competing for the same application, some at lower amounts),
rejections and withdrawals then run at once, each in its own transaction, spread over
several ``Database`` objects (separate engines and connection pools, like separate
processes). Afterwards the budget row, the ledger and the applications must agree.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from core.grants import applications as grants
from core.grants.budget import COMMITTED_STATES, held_amount, reconcile
from core.grants.costs import CostLine
from core.grants.programme import GrantProgramme
from core.kernel.errors import UserError
from core.members import accounts as members
from core.municipalities.directory import bundled_index
from core.municipalities.reference import _row
from core.store.models import GrantTransition
from core.store.unit_of_work import Database

AGS = "12073452"  # Prenzlau
KREIS = "12073"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PROGRAMME = GrantProgramme()
STAFF = grants.Actor(None, "Lasttest")


@dataclass(frozen=True)
class Op:
    kind: str  # submit | approve | reject | withdraw
    application_id: int
    member_id: int
    amount_cents: int | None = None


@dataclass(frozen=True)
class Outcome:
    seconds: float
    results: Counter  # (kind, "ok" | "refused") -> count

    @property
    def operations(self) -> int:
        return sum(self.results.values())


@dataclass(frozen=True)
class Check:
    cap_cents: int
    committed_cents: int
    ledger_cents: int
    held_cents: int
    balanced: bool
    approvals_per_application_max: int
    states: Counter


async def prepare(url: str, *, drafts: int = 200, applicants: int = 10, seed: int = 1) -> list:
    """A fresh schema with one staff member, ``applicants`` verified members and their drafts;
    returns the drafts as (application id, member id, requested cents)."""
    rng = random.Random(seed)
    db = Database(url)
    try:
        await db.drop_all()
        await db.create_all()
        index = bundled_index()
        async with db.uow() as uow:
            await uow.municipalities.upsert_many(_row(index.get(a)) for a in (AGS, KREIS))
            await uow.commit()
        async with db.uow() as uow:
            await members.add_member(
                uow,
                members.NewMember("Geschäftsstelle", "network_staff", KREIS, "gs@example.org"),
                NOW,
            )
            people = []
            for n in range(applicants):
                new = members.NewMember(f"Person {n}", "mayor", AGS, f"p{n}@example.org")
                member = await members.add_member(uow, new, NOW)
                member.verified_at = NOW
                people.append(member)
            created = []
            for n in range(drafts):
                member = people[n % applicants]
                draft = await grants.start_draft(uow, member, PROGRAMME, NOW)
                grants.set_purpose(draft, "networking", NOW)
                grants.set_title(draft, f"Vorhaben {n}", NOW)
                grants.set_description(draft, "Ein Besuch bei einer Partnerkommune.", NOW)
                amount = rng.randrange(100, 901, 50) * 100
                line = CostLine(kind="travel", label="Fahrt", amount_cents=amount)
                grants.set_costs(draft, [line], PROGRAMME.cap_cents, NOW)
                created.append((draft.id, member.id, amount))
            await uow.commit()
        return created
    finally:
        await db.dispose()


def operations(drafts: list, *, seed: int = 1) -> list[Op]:
    """Every draft submitted and approved (a quarter twice, competing, some at a lower
    amount); a tenth rejected and a tenth withdrawn, all in random order."""
    rng = random.Random(seed)
    ops: list[Op] = []
    for application_id, member_id, amount in drafts:
        ops.append(Op("submit", application_id, member_id))
        lower = rng.choice([amount, amount, amount // 2])
        ops.append(Op("approve", application_id, member_id, lower))
        roll = rng.random()
        if roll < 0.25:
            ops.append(Op("approve", application_id, member_id, amount))
        elif roll < 0.35:
            ops.append(Op("reject", application_id, member_id))
        elif roll < 0.45:
            ops.append(Op("withdraw", application_id, member_id))
    rng.shuffle(ops)
    return ops


async def _run_one(db: Database, op: Op) -> tuple[str, str]:
    async with db.uow() as uow:
        try:
            if op.kind == "submit":
                member = await uow.members.get(op.member_id)
                await grants.submit(uow, member, op.application_id, PROGRAMME, NOW)
            elif op.kind == "approve":
                await grants.approve(uow, STAFF, op.application_id, op.amount_cents, PROGRAMME, NOW)
            elif op.kind == "reject":
                await grants.reject(uow, STAFF, op.application_id, "Nicht förderfähig.", NOW)
            else:
                member = await uow.members.get(op.member_id)
                await grants.withdraw(uow, member, op.application_id, NOW)
            await uow.commit()
            return op.kind, "ok"
        except UserError:
            return op.kind, "refused"


async def run_concurrently(
    url: str, ops: list[Op], *, engines: int = 4, rounds: int = 2
) -> Outcome:
    """All operations at once over ``engines`` databases; a second round lets refused
    submissions use budget that rejections and lower approvals gave back meanwhile."""
    dbs = [Database(url) for _ in range(engines)]
    results: Counter = Counter()
    started = time.perf_counter()
    try:
        for _ in range(rounds):
            done = await asyncio.gather(
                *(_run_one(dbs[i % engines], op) for i, op in enumerate(ops))
            )
            results.update(done)
    finally:
        seconds = time.perf_counter() - started
        for db in dbs:
            await db.dispose()
    return Outcome(seconds, results)


async def run_sequentially(url: str, ops: list[Op], *, rounds: int = 2) -> Outcome:
    """The same operations one after another on one engine: the baseline."""
    db = Database(url)
    results: Counter = Counter()
    started = time.perf_counter()
    try:
        for _ in range(rounds):
            for op in ops:
                results[await _run_one(db, op)] += 1
    finally:
        seconds = time.perf_counter() - started
        await db.dispose()
    return Outcome(seconds, results)


async def check(url: str) -> Check:
    db = Database(url)
    try:
        async with db.uow() as uow:
            result = await reconcile(uow, AGS, PROGRAMME.year_of(NOW))
            applications = await uow.grants.listing(year=PROGRAMME.year_of(NOW))
            held = sum(held_amount(a) for a in applications if a.state in COMMITTED_STATES)
            approvals = await uow.session.execute(
                select(GrantTransition.application_id, func.count())
                .where(GrantTransition.to_state == "approved")
                .group_by(GrantTransition.application_id)
            )
            most = max((count for _, count in approvals.all()), default=0)
            return Check(
                cap_cents=result.cap_cents,
                committed_cents=result.committed_cents,
                ledger_cents=result.ledger_cents,
                held_cents=held,
                balanced=result.balanced and held == result.committed_cents,
                approvals_per_application_max=most,
                states=Counter(a.state for a in applications),
            )
    finally:
        await db.dispose()


async def drop(url: str) -> None:
    db = Database(url)
    try:
        await db.drop_all()
    finally:
        await db.dispose()
