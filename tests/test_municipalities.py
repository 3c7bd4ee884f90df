"""Municipality reference list and search; uses only the bundled file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from core.municipalities.directory import (
    COLUMNS,
    Municipality,
    MunicipalityIndex,
    bundled_index,
    distance_km,
    fold_variants,
    load_bundled,
    read_file,
)


@pytest.fixture(scope="module")
def records() -> list[Municipality]:
    return load_bundled()


@pytest.fixture(scope="module")
def index(records: list[Municipality]) -> MunicipalityIndex:
    return MunicipalityIndex(records)


def names(results: list[Municipality]) -> list[str]:
    return [m.name for m in results]


# --- the bundled list ---------------------------------------------------------------------


def test_counts(records: list[Municipality]) -> None:
    gemeinden = [m for m in records if len(m.ags) == 8]
    kreise = [m for m in records if len(m.ags) == 5]
    assert 10_700 <= len(gemeinden) <= 10_900
    assert len(kreise) == 401
    assert sum(m.kind == "kreisfreie_stadt" for m in kreise) == 107
    assert len({m.ags for m in records}) == len(records)


def test_every_gemeinde_has_point_postcode_and_kreis(records: list[Municipality]) -> None:
    kreise = {m.ags for m in records if len(m.ags) == 5}
    for m in records:
        assert m.lat is not None and 47 < m.lat < 55.1, m.ags
        assert m.lon is not None and 5.8 < m.lon < 15.1, m.ags
        assert m.kreis_ags in kreise
        assert m.grw_status is not None
        if len(m.ags) == 8:
            assert m.postcodes, m.ags


def test_load_bundled_is_cached_but_returns_a_fresh_list() -> None:
    first, second = load_bundled(), load_bundled()
    assert first == second and first is not second
    assert first[0] is second[0]


def test_kreisfreie_stadt_has_two_keys_one_canonical(index: MunicipalityIndex) -> None:
    kreis, gemeinde = index.get("05315"), index.get("05315000")
    assert kreis is not None and gemeinde is not None
    assert kreis.kind == gemeinde.kind == "kreisfreie_stadt"
    assert kreis.canonical_ags == gemeinde.canonical_ags == "05315000"
    assert names(index.search("Köln")).count("Köln, Stadt") == 1


def test_display_names(index: MunicipalityIndex) -> None:
    assert index.get("05358008").display_name == ("Düren (Stadt), Kreis Düren, Nordrhein-Westfalen")
    assert index.get("05358").display_name == "Kreis Düren, Nordrhein-Westfalen"
    assert index.get("05315000").display_name == ("Köln (kreisfreie Stadt), Nordrhein-Westfalen")
    assert index.get("11000000").display_name == "Berlin (kreisfreie Stadt)"


def test_display_names_never_double_the_brackets(index: MunicipalityIndex) -> None:
    # A name with brackets of its own drops the type instead of "Lindow (Mark) (Stadt)".
    assert index.get("12068280").display_name == (
        "Lindow (Mark), Landkreis Ostprignitz-Ruppin, Brandenburg"
    )
    assert index.get("12053000").display_name == "Frankfurt (Oder), Brandenburg"
    assert index.get("12067180").display_name == "Groß Lindow, Landkreis Oder-Spree, Brandenburg"


def test_no_display_name_doubles_brackets(records: list[Municipality]) -> None:
    assert [m.name for m in records if ") (" in m.display_name] == []


def test_zensus_population_is_used(index: MunicipalityIndex) -> None:
    # Destatis (31.12.2019) has 91 216 for Düren; Zensus 2022 has 94 149.
    assert index.get("05358008").population == 94_149
    # Eisenach joined the Wartburgkreis in 2021, so Zensus has no figure for its old key.
    assert index.get("16056000").population == 42_250


def test_kreis_population_is_the_sum_of_its_gemeinden(records: list[Municipality]) -> None:
    kreis = next(m for m in records if m.ags == "05358")
    parts = [m for m in records if len(m.ags) == 8 and m.kreis_ags == "05358"]
    assert kreis.population == sum(m.population for m in parts)
    assert min(m.lat for m in parts) < kreis.lat < max(m.lat for m in parts)


def test_bbsr_type(index: MunicipalityIndex) -> None:
    assert index.get("05315000").bbsr_type == "Großstadt"
    assert index.get("05358008").bbsr_type == "Mittelstadt"


# --- structurally weak --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ags", "status", "weak"),
    [
        ("13075", "C**", True),  # Landkreis Vorpommern-Greifswald
        ("14625", "C*", True),  # Landkreis Bautzen
        ("01001", "C", True),  # Flensburg
        ("11000", "C/D", True),  # Berlin
        ("07312", "C/N", True),  # Kaiserslautern: partly C area
        ("05334", "D", False),  # Städteregion Aachen
        ("05358", "N", False),  # Kreis Düren
        ("09162", "N", False),  # München
        ("10041", "D/N", False),  # Regionalverband Saarbrücken
    ],
)
def test_structurally_weak_follows_grw_status(
    index: MunicipalityIndex, ags: str, status: str, weak: bool
) -> None:
    kreis = index.get(ags)
    assert kreis.grw_status == status
    assert kreis.structurally_weak is weak


def test_gemeinden_inherit_the_kreis_status(records: list[Municipality]) -> None:
    greifswald = [m for m in records if m.kreis_ags == "13075"]
    assert len(greifswald) > 100
    assert all(m.structurally_weak and m.grw_status == "C**" for m in greifswald)


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Düren", "düren", "DÜREN", "Dueren", "duren", " Düren "])
def test_dueren_finds_town_and_kreis(index: MunicipalityIndex, query: str) -> None:
    found = names(index.search(query))
    assert set(found[:2]) == {"Düren, Stadt", "Kreis Düren"}


def test_exact_match_comes_before_prefix_and_population(index: MunicipalityIndex) -> None:
    # "München" exactly beats the larger Landkreis only by name, and both beat longer names.
    found = names(index.search("München"))
    assert found[:2] == ["München, Landeshauptstadt", "Landkreis München"]
    assert "Münchenbernsdorf, Stadt" in found[2:]


def test_prefix_while_typing(index: MunicipalityIndex) -> None:
    assert names(index.search("Mönchengl")) == ["Mönchengladbach, Stadt"]
    assert names(index.search("monchengl")) == ["Mönchengladbach, Stadt"]
    assert names(index.search("Moenchengl")) == ["Mönchengladbach, Stadt"]


def test_larger_population_first_among_prefix_hits(index: MunicipalityIndex) -> None:
    found = index.search("Frankfurt")
    assert names(found)[:2] == ["Frankfurt am Main, Stadt", "Frankfurt (Oder), Stadt"]


def test_word_inside_name(index: MunicipalityIndex) -> None:
    assert "Brandenburg an der Havel, Stadt" in names(index.search("Brandenburg"))
    assert "Brandenburg an der Havel, Stadt" in names(index.search("Havel", limit=20))
    assert names(index.search("frankfurt oder")) == ["Frankfurt (Oder), Stadt"]


def test_sharp_s_and_umlaut_folding(index: MunicipalityIndex) -> None:
    for query in ("Großenhain", "Grossenhain", "GROSSENHAIN"):
        assert names(index.search(query)) == ["Großenhain, Stadt"]
    assert names(index.search("Dessau-Rosslau")) == ["Dessau-Roßlau, Stadt"]
    assert fold_variants("Größe") == ("groesse", "grosse")
    assert fold_variants("Kiel") == ("kiel",)


def test_kreis_by_designation(index: MunicipalityIndex) -> None:
    assert names(index.search("Kreis Düren")) == ["Kreis Düren"]
    assert names(index.search("Landkreis Münch")) == ["Landkreis München"]
    # A half-typed word does not list every Landkreis ahead of real name matches.
    assert all(not n.startswith("Landkreis E") for n in names(index.search("lan")))
    assert "Städteregion Aachen" not in names(index.search("st"))
    assert names(index.search("Städteregion A")) == ["Städteregion Aachen"]


def test_postcode(index: MunicipalityIndex) -> None:
    assert names(index.search("52349")) == ["Düren, Stadt"]
    assert "Köln, Stadt" in names(index.search("50667"))


def test_postcode_shared_by_several_gemeinden_largest_first(index: MunicipalityIndex) -> None:
    found = index.search("25767", limit=50)
    assert len(found) > 1
    populations = [m.population for m in found]
    assert populations == sorted(populations, reverse=True)


def test_ags_five_and_eight_digits(index: MunicipalityIndex) -> None:
    assert names(index.search("05358")) == ["Kreis Düren"]
    assert names(index.search("05358008")) == ["Düren, Stadt"]
    assert names(index.search("053580008008")) == ["Düren, Stadt"]  # 12-digit ARS
    assert index.get("05358008").name == "Düren, Stadt"
    assert index.get("99999") is None


@pytest.mark.parametrize("query", ["", "   ", "xyzzy", "Qwertzuiop", "12345", "999", "-.-"])
def test_unknown_query_gives_empty_list(index: MunicipalityIndex, query: str) -> None:
    assert index.search(query) == []


def test_limit(index: MunicipalityIndex) -> None:
    assert len(index.search("b", limit=3)) == 3
    assert index.search("Düren", limit=0) == []


def test_bundled_index_is_shared() -> None:
    assert bundled_index() is bundled_index()
    assert bundled_index().get("05358") is not None


def test_distance_km(index: MunicipalityIndex) -> None:
    dueren, koeln = index.get("05358008"), index.get("05315000")
    assert distance_km(dueren, koeln) == pytest.approx(36.6, abs=0.5)
    assert distance_km(dueren, dueren) == 0
    berlin, muenchen = index.get("11000000"), index.get("09162000")
    assert distance_km(berlin, muenchen) == pytest.approx(504, abs=5)


# --- read_file ----------------------------------------------------------------------------

HEADER = "\t".join(COLUMNS)
GOOD = "05358008\tDüren, Stadt\tgemeinde\t05\tNordrhein-Westfalen\t05358\tKreis Düren\t94149\t50.80168\t6.48296\t52349 52351\tMittelstadt\tN\t0"  # noqa: E501


def write(tmp_path: Path, text: str, name: str = "list.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_file_plain_and_gzip(tmp_path: Path) -> None:
    plain = write(tmp_path, f"{HEADER}\n{GOOD}\n")
    packed = tmp_path / "list.tsv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        (record,) = read_file(path)
        assert record.ags == "05358008"
        assert record.postcodes == ("52349", "52351")
        assert record.structurally_weak is False


def test_read_file_reports_line_number(tmp_path: Path) -> None:
    bad = GOOD.replace("05358008", "0535800X", 1)
    path = write(tmp_path, f"{HEADER}\n{GOOD.replace('008', '012', 1)}\n{bad}\n")
    with pytest.raises(ValueError, match=r"Zeile 3: AGS „0535800X“"):
        read_file(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (GOOD.replace("\tN\t0", "\tN"), "Spalten"),
        (GOOD.replace("94149", "94.149"), "population"),
        (GOOD.replace("\tgemeinde\t", "\tdorf\t"), "Art"),
        (GOOD.replace("52349 52351", "5234"), "Postleitzahl"),
        (GOOD.replace("\t05358\t", "\t05354\t"), "Kreis-AGS"),
        (GOOD.replace("\tN\t0", "\tX\t0"), "GRW"),
        (GOOD.replace("\tN\t0", "\tN\tja"), "structurally_weak"),
    ],
)
def test_read_file_rejects_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, f"{HEADER}\n{row}\n")
    with pytest.raises(ValueError, match=rf"Zeile 2: .*{message}"):
        read_file(path)


def test_read_file_rejects_duplicates_and_bad_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Zeile 3: .*mehrfach"):
        read_file(write(tmp_path, f"{HEADER}\n{GOOD}\n{GOOD}\n"))
    with pytest.raises(ValueError, match=r"Zeile 1: .*population"):
        read_file(write(tmp_path, HEADER.replace("population", "einwohner") + "\n"))
    with pytest.raises(ValueError, match="leer"):
        read_file(write(tmp_path, ""))


def test_bundled_file_round_trips_through_read_file(records: list[Municipality]) -> None:
    from importlib import resources

    with resources.as_file(resources.files("core") / "data" / "municipalities.tsv.gz") as path:
        assert read_file(path) == records


def test_a_postcode_with_a_name_finds_the_municipality_of_both(index: MunicipalityIndex) -> None:
    """What a member writes at the registration step: "16835 Lindow" is one municipality,
    although the postcode alone has five and the name alone two."""
    assert len(index.search("16835")) > 1 and len(index.search("Lindow")) > 1
    for query in ("16835 Lindow", "Lindow (Mark), 16835", "16835 lindow"):
        assert [m.short_name for m in index.search(query)] == ["Lindow (Mark)"], query
    # A postcode the name does not fit still offers the name's municipalities.
    assert "Lindow (Mark)" in [m.short_name for m in index.search("12345 Lindow")]


@pytest.mark.parametrize(
    ("query", "ags"),
    [
        ("Düren", "05358008"),
        ("dueren", "05358008"),
        ("Kreis Düren", "05358"),
        ("52349", "05358008"),  # its postcode
        ("05358008", "05358008"),
        ("52349 Düren", "05358008"),
        ("Freiburg", "08311000"),  # the first word of "Freiburg im Breisgau"
    ],
)
def test_named_by_the_name_a_postcode_or_the_first_words(
    index: MunicipalityIndex, query: str, ags: str
) -> None:
    assert index.named_by(query, index.get(ags))


@pytest.mark.parametrize(
    ("query", "ags"),
    [("Dür", "05358008"), ("ok.", "14625430"), ("Okrilla", "14625430"), ("Breisgau", "08311000")],
)
def test_a_beginning_or_a_later_word_is_only_a_guess(
    index: MunicipalityIndex, query: str, ags: str
) -> None:
    assert not index.named_by(query, index.get(ags))
