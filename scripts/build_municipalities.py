"""Build the bundled municipality reference list from the shared open data.

Reads the Destatis GV-ISys extract (Gebietsstand 31.12.2020), the Zensus 2022 population, the
BBSR municipality types (2017), the GRW support areas per Kreis and the OSM postcode table, and
writes ``core/data/municipalities.tsv.gz`` plus ``core/data/MUNICIPALITIES_ATTRIBUTION.md``.

Usage: python scripts/build_municipalities.py [--source DIR] [--out DIR]

The output is reproducible: rows are sorted by AGS and the gzip header carries no timestamp.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.municipalities.directory import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "municipalities"
DEFAULT_OUT = ROOT / "core" / "data"

DESTATIS_CSV = "destatis-gv-isys-2020q4/AuszugGV4QAktuell.csv"
POSTCODE_CSV = "destatis-gv-isys-2020q4/zuordnung_plz_ort_landkreis.csv"
ZENSUS_CSV = "zensus2022-population/1000A-0000_de_clean.csv"
BBSR_CSV = "bbsr-inkar-raumtypen-2017/Rahmendaten-Zentraler-Orte-by-Gemeinde.csv"
GRW_CSV = "kreise-grw-foerdergebiete/categorical_groups.csv"


# Destatis "textkennzeichen" of Kreis rows (satzart 40).
KREIS_KIND = {
    "41": "kreisfreie_stadt",
    "42": "kreisfreie_stadt",  # Stadtkreis in Baden-Württemberg
    "43": "kreis",
    "44": "kreis",  # Landkreis
    "45": "kreis",  # Regionalverband Saarbrücken
}
# Destatis names Kreise without their designation ("Düren"); users search for "Kreis Düren".
KREIS_PREFIX = {"43": "Kreis", "44": "Landkreis"}

# Gemeinde rows (satzart 60): 61/62 are the kreisfreie Städte themselves; 66 are uninhabited
# gemeindefreie Gebiete (forests, lakes) that nobody can represent, so they are dropped.
GEMEINDE_KIND = {"61": "kreisfreie_stadt", "62": "kreisfreie_stadt"}
SKIPPED_GEMEINDE_TYPES = {"66"}

BBSR_TYPES = {
    "10": "Großstadt",
    "20": "Mittelstadt",
    "30": "Größere Kleinstadt",
    "40": "Kleine Kleinstadt",
    "50": "Landgemeinde",
}

GRW_STATUSES = {"C", "C*", "C**", "D", "N", "C/D", "C/N", "D/N"}


@dataclass
class Row:
    ags: str
    name: str
    kind: str
    land: str
    land_name: str
    kreis_ags: str
    kreis_name: str = ""
    population: int = 0
    lat: float | None = None
    lon: float | None = None
    postcodes: list[str] = field(default_factory=list)
    bbsr_type: str = ""
    grw_status: str = ""
    structurally_weak: bool = False


def german_int(text: str) -> int:
    """Parse ' 90 164' or '88.519' (spaces or dots as thousands separators)."""
    digits = text.replace(" ", "").replace(".", "").strip()
    return int(digits) if digits else 0


def german_float(text: str) -> float | None:
    text = text.strip().replace(",", ".")
    return float(text) if text else None


def kreis_display_name(raw_name: str, text_code: str) -> str:
    prefix = KREIS_PREFIX.get(text_code)
    lowered = raw_name.lower()
    # Names such as "Rhein-Sieg-Kreis", "Region Hannover" or "Landkreis Rostock" already say it.
    if prefix is None or "kreis" in lowered or lowered.startswith(("region", "städteregion")):
        return raw_name
    return f"{prefix} {raw_name}"


def read_destatis(path: Path) -> tuple[dict[str, str], dict[str, Row], dict[str, Row]]:
    """Return Land names, Kreis rows and Gemeinde rows keyed by AGS."""
    lands: dict[str, str] = {}
    kreise: dict[str, Row] = {}
    gemeinden: dict[str, Row] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for rec in csv.DictReader(handle):
            level, code, land = rec["satzart"], rec["textkennzeichen"], rec["land"]
            kreis_ags = land + rec["rb"] + rec["kreis"]
            if level == "10":
                lands[land] = rec["gemeindename"]
            elif level == "40":
                kreise[kreis_ags] = Row(
                    ags=kreis_ags,
                    name=kreis_display_name(rec["gemeindename"], code),
                    kind=KREIS_KIND[code],
                    land=land,
                    land_name="",
                    kreis_ags=kreis_ags,
                )
            elif level == "60" and code not in SKIPPED_GEMEINDE_TYPES:
                ags = kreis_ags + rec["gemeinde"]
                gemeinden[ags] = Row(
                    ags=ags,
                    name=rec["gemeindename"],
                    kind=GEMEINDE_KIND.get(code, "gemeinde"),
                    land=land,
                    land_name="",
                    kreis_ags=kreis_ags,
                    population=german_int(rec["bevoelkerung"]),
                    lat=german_float(rec["breitengrad"]),
                    lon=german_float(rec["laengengrad"]),
                )
    return lands, kreise, gemeinden


def read_zensus(path: Path) -> dict[str, int]:
    """Zensus 2022 population keyed by AGS (the column 'ags' holds the 12-digit ARS)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            rec["ags"][0:5] + rec["ags"][9:12]: int(rec["population"])
            for rec in csv.DictReader(handle)
        }


def read_bbsr_types(path: Path) -> tuple[dict[str, str], str]:
    """BBSR Stadt-/Gemeindetyp keyed by AGS, and the data year from the second header line."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        years = next(reader)
        col = header.index("Stadt-/Gemeindetyp")
        types = {rec[0]: BBSR_TYPES[rec[col]] for rec in reader if rec[col] in BBSR_TYPES}
    return types, years[col]


def read_grw(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        statuses = {
            rec["ags5"].zfill(5): rec["support_area_status"] for rec in csv.DictReader(handle)
        }
    unknown = set(statuses.values()) - GRW_STATUSES
    if unknown:
        raise SystemExit(f"unexpected GRW status values: {sorted(unknown)}")
    return statuses


def read_postcodes(path: Path) -> dict[str, set[str]]:
    postcodes: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for rec in csv.DictReader(handle):
            postcodes[rec["ags"]].add(rec["plz"])
    return postcodes


def is_structurally_weak(grw_status: str) -> bool:
    # Any C part counts, so mixed areas (C/D, C/N) are weak as well; D and N alone are not.
    return any(part.startswith("C") for part in grw_status.split("/") if part)


def weighted_centre(members: list[Row]) -> tuple[float | None, float | None]:
    """Population-weighted centre, so a Kreis' point sits where its people live."""
    located = [m for m in members if m.lat is not None and m.lon is not None]
    weight = sum(max(m.population, 1) for m in located)
    if not weight:
        return None, None
    lat = sum(m.lat * max(m.population, 1) for m in located) / weight
    lon = sum(m.lon * max(m.population, 1) for m in located) / weight
    return lat, lon


def enrich_gemeinden(
    gemeinden: dict[str, Row],
    kreise: dict[str, Row],
    zensus: dict[str, int],
    bbsr: dict[str, str],
    postcodes: dict[str, set[str]],
) -> int:
    """Fill Zensus population, BBSR type and postcodes; return how many used Zensus figures."""
    zensus_used = 0
    for row in gemeinden.values():
        if row.ags in zensus:
            row.population = zensus[row.ags]
            zensus_used += 1
        row.bbsr_type = bbsr.get(row.ags, "")
        row.postcodes = sorted(postcodes.get(row.ags, ()))
        row.kreis_name = kreise[row.kreis_ags].name
    return zensus_used


def aggregate_kreise(kreise: dict[str, Row], gemeinden: dict[str, Row]) -> None:
    members: dict[str, list[Row]] = defaultdict(list)
    for row in gemeinden.values():
        members[row.kreis_ags].append(row)
    for kreis in kreise.values():
        parts = members[kreis.ags]
        kreis.kreis_name = kreis.name
        kreis.population = sum(m.population for m in parts)
        kreis.lat, kreis.lon = weighted_centre(parts)
        if kreis.kind == "kreisfreie_stadt" and len(parts) == 1:
            # Same body as its single Gemeinde: share its type; postcodes stay on the Gemeinde.
            kreis.bbsr_type = parts[0].bbsr_type


def apply_land_and_grw(rows: list[Row], lands: dict[str, str], grw: dict[str, str]) -> None:
    for row in rows:
        row.land_name = lands[row.land]
        row.grw_status = grw.get(row.kreis_ags, "")
        row.structurally_weak = is_structurally_weak(row.grw_status)


def format_coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.5f}"


def to_fields(row: Row) -> list[str]:
    return [
        row.ags,
        row.name,
        row.kind,
        row.land,
        row.land_name,
        row.kreis_ags,
        row.kreis_name,
        str(row.population),
        format_coordinate(row.lat),
        format_coordinate(row.lon),
        " ".join(row.postcodes),
        row.bbsr_type,
        row.grw_status,
        "1" if row.structurally_weak else "0",
    ]


def write_tsv_gz(rows: list[Row], path: Path) -> None:
    text = io.StringIO()
    text.write("\t".join(COLUMNS) + "\n")
    for row in sorted(rows, key=lambda r: r.ags):
        fields = to_fields(row)
        if any("\t" in f or "\n" in f for f in fields):
            raise SystemExit(f"field with tab or newline in {row.ags}")
        text.write("\t".join(fields) + "\n")
    buffer = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything that changes between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


ATTRIBUTION = """\
# Municipality reference list: sources and licences

`municipalities.tsv.gz` is derived (converted, merged, aggregated) by
`scripts/build_municipalities.py` from the following open data. The data were changed:
columns were selected, Kreis names were given their designation ("Kreis", "Landkreis"),
Kreis population, coordinates and types were aggregated from their Gemeinden.

Sources:

- AGS, official names, Kreise, Länder, coordinates, and population where no Zensus figure
  exists (Stand 31.12.2019): Statistisches Bundesamt (Destatis),
  Gemeindeverzeichnis-Informationssystem GV-ISys, „Alle politisch selbständigen Gemeinden mit
  ausgewählten Merkmalen“, Gebietsstand 31.12.2020 (4. Quartal 2020).
  Licence: Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0).
- Population: Statistische Ämter des Bundes und der Länder, Zensus 2022, Tabelle 1000A-0000
  „Bevölkerungszahl“, Stichtag 15.05.2022. Licence: dl-de/by-2-0.
- Stadt-/Gemeindetyp: Bundesinstitut für Bau-, Stadt- und Raumforschung (BBSR), INKAR,
  Rahmendaten Zentraler Orte, Stand {bbsr_year}. Licence: dl-de/by-2-0. The BBSR assigns the
  type per Gemeindeverband, so small member Gemeinden share the type of their Verband.
- GRW support status per Kreis (basis of „strukturschwach“): BBSR, Raumabgrenzungen,
  GRW-Fördergebiete der Förderperiode 2014–2020 (INKAR, Ausgabe 2019/2020).
  Licence: dl-de/by-2-0.
- Postcodes: suche-postleitzahl.org, derived from OpenStreetMap.
  Licence: Open Database License (ODbL) 1.0.

Required attribution:

- © Statistisches Bundesamt (Destatis), 2020 (Gebietsstand 31.12.2020, veröffentlicht 2021)
- Zensus 2022, © Statistische Ämter des Bundes und der Länder, 2024
- © BBSR Bonn, {bbsr_year} (Stadt- und Gemeindetypen)
- © BBSR Bonn, 2020 (GRW-Fördergebiete 2014–2020, INKAR Ausgabe 2019/2020)
- Postleitzahlen: © OpenStreetMap contributors, ODbL (https://www.openstreetmap.org/copyright)

Licence texts: https://www.govdata.de/dl-de/by-2-0 and https://opendatacommons.org/licenses/odbl/1-0/.
The postcode column is a derived database under the ODbL; it may be reused under the ODbL.

## How the rows were made

- One row per Gemeinde (8-digit AGS; uninhabited gemeindefreie Gebiete are left out,
  the two inhabited gemeindefreie Bezirke are kept as kind `gemeinde`) and one per Kreis
  (5-digit AGS).
- `kind`: `gemeinde`, `kreis` (Kreis, Landkreis, Städteregion, Region, Regionalverband) or
  `kreisfreie_stadt`. A kreisfreie Stadt (incl. Stadtkreis, Berlin, Hamburg) is one body with two
  keys: its Kreis row (5 digits) and its Gemeinde row (8 digits, ending in `000`), both with kind
  `kreisfreie_stadt`. The 8-digit key is the canonical one for members; searching by name lists
  it once.
- `population`: Zensus 2022 where the AGS still exists, otherwise Destatis (31.12.2019).
  Kreis rows carry the sum over their Gemeinden.
- `lat`/`lon`: Gemeinde coordinates from Destatis; for Kreise the population-weighted centre of
  their Gemeinden.
- `postcodes`: all postcodes of the Gemeinde, empty for Kreis rows.
- `grw_status`: status of the Kreis (C, C*, C**, D, N or mixed such as C/D, C/N, D/N);
  `structurally_weak` is 1 when the status contains a C part.
"""


def write_attribution(path: Path, bbsr_year: str) -> None:
    path.write_text(ATTRIBUTION.format(bbsr_year=bbsr_year), encoding="utf-8")


def build(source: Path, out: Path) -> None:
    lands, kreise, gemeinden = read_destatis(source / DESTATIS_CSV)
    zensus = read_zensus(source / ZENSUS_CSV)
    bbsr, bbsr_year = read_bbsr_types(source / BBSR_CSV)
    grw = read_grw(source / GRW_CSV)
    postcodes = read_postcodes(source / POSTCODE_CSV)

    zensus_used = enrich_gemeinden(gemeinden, kreise, zensus, bbsr, postcodes)
    aggregate_kreise(kreise, gemeinden)
    rows = [*kreise.values(), *gemeinden.values()]
    apply_land_and_grw(rows, lands, grw)

    target = out / "municipalities.tsv.gz"
    write_tsv_gz(rows, target)
    write_attribution(out / "MUNICIPALITIES_ATTRIBUTION.md", bbsr_year)
    print_counts(rows, zensus_used, target)


def print_counts(rows: list[Row], zensus_used: int, target: Path) -> None:
    gemeinden = [r for r in rows if len(r.ags) == 8]
    kreise = [r for r in rows if len(r.ags) == 5]
    kreisfrei = sum(1 for r in kreise if r.kind == "kreisfreie_stadt")
    print(f"Gemeinden (8-digit AGS): {len(gemeinden)}")
    print(f"Kreise (5-digit AGS):    {len(kreise)} (of which kreisfreie Städte: {kreisfrei})")
    print(f"Zensus 2022 population:  {zensus_used} Gemeinden, Destatis for the rest")
    print(f"with BBSR type:          {sum(1 for r in gemeinden if r.bbsr_type)} Gemeinden")
    print(f"with postcodes:          {sum(1 for r in gemeinden if r.postcodes)} Gemeinden")
    print(f"with GRW status:         {sum(1 for r in kreise if r.grw_status)} Kreise")
    print(f"structurally weak:       {sum(1 for r in kreise if r.structurally_weak)} Kreise")
    print(f"written: {target} ({target.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    build(args.source, args.out)


if __name__ == "__main__":
    main()
