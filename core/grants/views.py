"""How a grant application reads: summaries, status lines and the choices that go with them."""

from __future__ import annotations

from core.grants.costs import CostLine
from core.kernel import german_format
from core.kernel.clock import aware
from core.kernel.money import format_euro
from core.kernel.replies import Choice
from core.kernel.texts import t
from core.municipalities.reference import label
from core.store.models import GrantApplication


def costs(application: GrantApplication) -> list[CostLine]:
    return [CostLine.from_json(line) for line in application.cost_lines or []]


def state_label(state: str) -> str:
    return t(f"grants.state.{state}")


def summary(application: GrantApplication) -> str:
    partners = ", ".join(p["name"] for p in application.partners or []) or t("grants.none")
    lines = "\n".join(f"• {line.describe()}" for line in costs(application)) or t("grants.none")
    purpose = t(f"grants.purpose.{application.purpose}") if application.purpose else "–"
    return t(
        "grants.summary",
        id=application.id,
        town=label(application.municipality),
        purpose=purpose,
        title=application.title or "–",
        description=application.description or "–",
        partners=partners,
        costs=lines,
        total=format_euro(application.requested_cents),
    )


def status_line(application: GrantApplication, tz) -> str:
    amounts = t("grants.amount_requested", amount=format_euro(application.requested_cents))
    if application.approved_cents is not None:
        amounts += t("grants.amount_approved", amount=format_euro(application.approved_cents))
    if application.paid_cents is not None:
        amounts += t("grants.amount_paid", amount=format_euro(application.paid_cents))
    changed = german_format.day(aware(application.updated_at).astimezone(tz))
    return t(
        "grants.status_line",
        id=application.id,
        title=application.title or t("grants.untitled"),
        state=state_label(application.state),
        amounts=amounts,
        changed=changed,
    )


def applicant_choices(application: GrantApplication) -> list[Choice]:
    nr = application.id
    by_state = {
        "draft": [
            Choice(t("grants.choice.continue"), f"/antrag {nr}"),
            Choice(t("grants.choice.withdraw"), f"/zurueckziehen {nr}"),
        ],
        "submitted": [Choice(t("grants.choice.withdraw"), f"/zurueckziehen {nr}")],
        "info_requested": [
            Choice(t("grants.choice.answer"), f"/ergaenzen {nr}"),
            Choice(t("grants.choice.withdraw"), f"/zurueckziehen {nr}"),
        ],
        "approved": [Choice(t("grants.choice.proof"), f"/nachweis {nr}")],
    }
    return by_state.get(application.state, [])


def review_choices(application: GrantApplication) -> list[Choice]:
    return [
        Choice(
            t("grants.choice.approve", amount=format_euro(application.requested_cents)),
            f"/bewilligen {application.id}",
        ),
        Choice(t("grants.choice.ask"), f"/rueckfrage {application.id}"),
        Choice(t("grants.choice.reject"), f"/ablehnen_antrag {application.id}"),
    ]
