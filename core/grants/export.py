"""Grant data for accounting and for the staff's command line.

The CSV follows the German spreadsheet convention (semicolon, decimal comma,
UTF-8 with BOM), so accounting can open it directly in Excel or LibreOffice.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime

from core.kernel.clock import aware
from core.store.models import GrantApplication
from core.store.unit_of_work import UnitOfWork

COLUMNS = (
    "id",
    "municipality",
    "municipality_name",
    "year",
    "state",
    "purpose",
    "title",
    "requested_eur",
    "approved_eur",
    "paid_eur",
    "submitted_at",
    "decided_at",
)
SUMMARY_COLUMNS = (
    "municipality",
    "municipality_name",
    "year",
    "state",
    "applications",
    "requested_eur",
    "approved_eur",
    "paid_eur",
)


def euro_decimal(cents: int | None) -> str:
    """1250,50 – two decimals, decimal comma, no thousands separator."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"


def _date(value: datetime | None, tz) -> str:
    return aware(value).astimezone(tz).isoformat(timespec="minutes") if value else ""


def row(application: GrantApplication, tz) -> dict:
    """One application as plain values (used by the CSV export and ``grants list``)."""
    return {
        "id": application.id,
        "municipality": application.municipality_ags,
        "municipality_name": application.municipality.name,
        "structurally_weak": application.municipality.is_structurally_weak,
        "year": application.year,
        "state": application.state,
        "purpose": application.purpose or "",
        "title": application.title,
        "applicant": application.applicant.name,
        "requested_cents": application.requested_cents,
        "approved_cents": application.approved_cents,
        "paid_cents": application.paid_cents,
        "submitted_at": _date(application.submitted_at, tz),
        "decided_at": _date(application.decided_at, tz),
    }


async def export_csv(uow: UnitOfWork, year: int, tz, *, summary: bool = False) -> str:
    """Submitted-or-later applications of ``year`` (drafts are no business of accounting)."""
    applications = [a for a in await uow.grants.listing(year=year) if a.state != "draft"]
    rows = [row(a, tz) for a in applications]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    if summary:
        writer.writerow(SUMMARY_COLUMNS)
        for values in _summarise(rows):
            writer.writerow(values)
        return buffer.getvalue()
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r["id"],
                r["municipality"],
                r["municipality_name"],
                r["year"],
                r["state"],
                r["purpose"],
                r["title"],
                euro_decimal(r["requested_cents"]),
                euro_decimal(r["approved_cents"]),
                euro_decimal(r["paid_cents"]),
                r["submitted_at"],
                r["decided_at"],
            ]
        )
    return buffer.getvalue()


def _summarise(rows: list[dict]) -> list[list]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["municipality"], r["municipality_name"], r["year"], r["state"])].append(r)
    result = []
    for (ags, name, year, state), members in sorted(groups.items()):
        result.append(
            [
                ags,
                name,
                year,
                state,
                len(members),
                euro_decimal(sum(r["requested_cents"] for r in members)),
                euro_decimal(sum(r["approved_cents"] or 0 for r in members)),
                euro_decimal(sum(r["paid_cents"] or 0 for r in members)),
            ]
        )
    return result
