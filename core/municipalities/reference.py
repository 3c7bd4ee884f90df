"""The municipality reference list in the database, and its search index.

The bundled file is loaded into the ``municipalities`` table on first start
(or by ``zukunftsraum municipalities import``); the search index is built from
the table so staff overrides and custom lists are what members see.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from core.kernel.errors import ImportFileError
from core.municipalities import directory as ref
from core.store.models import Municipality as MunicipalityRow
from core.store.unit_of_work import Database


def _row(record: ref.Municipality) -> dict:
    row = asdict(record)
    row["postcodes"] = " ".join(record.postcodes)
    return row


def _record(row: MunicipalityRow) -> ref.Municipality:
    return ref.Municipality(
        ags=row.ags,
        name=row.name,
        kind=row.kind,
        land=row.land,
        land_name=row.land_name,
        kreis_ags=row.kreis_ags or "",
        kreis_name=row.kreis_name or "",
        population=row.population or 0,
        lat=row.lat,
        lon=row.lon,
        postcodes=tuple(row.postcodes.split()),
        bbsr_type=row.bbsr_type,
        grw_status=row.grw_status,
        structurally_weak=row.is_structurally_weak,
    )


def label(row: MunicipalityRow | None) -> str:
    """How members read a municipality: "Prenzlau (Stadt), Landkreis Uckermark, Brandenburg"."""
    return _record(row).display_name if row is not None else ""


async def import_municipalities(db: Database, path: Path | None = None) -> int:
    """Load a reference file (default: the bundled one) into the table."""
    try:
        records = ref.read_file(path) if path else ref.load_bundled()
    except ValueError as error:
        raise ImportFileError(str(error)) from None
    async with db.uow() as uow:
        count = await uow.municipalities.upsert_many(_row(r) for r in records)
        await uow.commit()
    return count


async def ensure_municipalities(db: Database) -> int:
    """Fill an empty table with the bundled list; a no-op afterwards."""
    async with db.uow() as uow:
        if await uow.municipalities.count():
            return 0
    return await import_municipalities(db)


async def load_municipality_index(db: Database) -> ref.MunicipalityIndex:
    async with db.uow() as uow:
        rows = await uow.municipalities.all()
        return ref.MunicipalityIndex(_record(r) for r in rows)
