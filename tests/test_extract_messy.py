"""Messy but valid extracts load (SPEC-extract: encodings, separators, date formats, header and value
variants, workbooks, single file); invalid ones are refused with every problem and leave the store as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from analytics.cli import main
from analytics.extract import ExtractError, load_extract
from analytics.indicators import FIGURES, Period
from analytics.store import connect_readonly, import_extract, query
from coaching_test_helpers import csv_text, figures, sha256, write_csv, write_extract

Y2023 = Period.year(2023)

# Free text with characters that only survive a correct Windows-1252 decoding.
FREE_TEXT_1 = "CDD – cœur de métier, 1 500 € ‘net’ à l’embauche"
FREE_TEXT_2 = "Formation « aide à domicile » – Amiens"
SECTOR_1 = "Hôtellerie – œuvres sociales ’25’ €"
SECTOR_2 = "Bâtiment"

# The reference extract, in canonical form (ISO dates, canonical labels and headers).
PEOPLE = [
    {"id_participant": "P01", "date_prescription": "2023-01-02", "prescripteur": "Pôle emploi", "commune": "Poix-de-Picardie",
     "sexe": "Femme", "age": "30", "niveau_formation": "3", "statut": "RSA", "situation_familiale": "Seul(e) sans enfant",
     "frein_principal": "Mobilité", "date_entree": "2023-01-10", "motif_non_entree": "", "date_sortie": "2023-06-30",
     "motif_sortie": "Emploi", "detail_sortie": "CDI", "rqth": "non", "date_suivi_post_sortie": "2023-07-31",
     "situation_post_sortie": FREE_TEXT_1},
    {"id_participant": "P02", "date_prescription": "2023-01-20", "prescripteur": "Conseil départemental", "commune": "Conty",
     "sexe": "Homme", "age": "45", "niveau_formation": "4", "statut": "RSA", "situation_familiale": "Couple avec enfant(s)",
     "frein_principal": "Garde d'enfants", "date_entree": "2023-02-01", "motif_non_entree": "", "date_sortie": "",
     "motif_sortie": "", "detail_sortie": "", "rqth": "oui", "date_suivi_post_sortie": "", "situation_post_sortie": ""},
    {"id_participant": "P03", "date_prescription": "2023-03-01", "prescripteur": "Pôle emploi", "commune": "Conty",
     "sexe": "Femme", "age": "22", "niveau_formation": "2", "statut": "Autre", "situation_familiale": "Seul(e) avec enfant(s)",
     "frein_principal": "Mobilité", "date_entree": "", "motif_non_entree": "Non adhésion", "date_sortie": "",
     "motif_sortie": "", "detail_sortie": "", "rqth": "oui", "date_suivi_post_sortie": "", "situation_post_sortie": ""},
    {"id_participant": "P04", "date_prescription": "2022-11-01", "prescripteur": "Pôle emploi", "commune": "Poix-de-Picardie",
     "sexe": "Homme", "age": "58", "niveau_formation": "5", "statut": "RQTH", "situation_familiale": "Couple sans enfant",
     "frein_principal": "Garde d'enfants", "date_entree": "2022-11-15", "motif_non_entree": "", "date_sortie": "2023-03-15",
     "motif_sortie": "Formation", "detail_sortie": "Qualifiante", "rqth": "non", "date_suivi_post_sortie": "",
     "situation_post_sortie": FREE_TEXT_2},
]
RDV = [
    {"id_participant": "P01", "date": "2023-01-10", "modalite": "Physique", "presence": "Présent"},
    {"id_participant": "P02", "date": "2023-02-15", "modalite": "Téléphone", "presence": "Absent excusé"},
    {"id_participant": "P04", "date": "2023-01-20", "modalite": "Visio", "presence": "Présent"},
]
IMMERSIONS = [
    {"id_participant": "P01", "date_debut": "2023-04-03", "date_fin": "2023-04-14", "secteur": SECTOR_1, "debouche_contrat": "oui"},
    {"id_participant": "P04", "date_debut": "2023-02-01", "date_fin": "2023-02-05", "secteur": SECTOR_2, "debouche_contrat": "non"},
]

DATE_COLUMNS = {"date_prescription", "date_entree", "date_sortie", "date_suivi_post_sortie", "date", "date_debut", "date_fin"}
# header variants (SPEC: case-, accent-insensitive, spaces/hyphens/underscores equivalent, surrounding spaces ignored)
MESSY_HEADERS = {"id_participant": " ID-Participant ", "date_entree": "Date entrée", "niveau_formation": "NIVEAU_FORMATION",
                 "frein_principal": "Frein principal", "situation_familiale": "Situation Familiale", "date_sortie": "DATE-SORTIE",
                 "motif_non_entree": "Motif non entrée", "date_debut": "Date début", "debouche_contrat": "Débouché contrat"}
MESSY_VALUES = {"sexe": {"Femme": "F", "Homme": "h"}, "frein_principal": {"Mobilité": "mobilite", "Garde d'enfants": "garde d'enfants"},
                "statut": {"RSA": "rsa"}}
MESSY_BOOLS = {"P01": "non", "P02": "1", "P03": "oui", "P04": "0"}  # same truth values as the reference


def fr_date(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def messy(rows: list[dict], french_dates: bool) -> list[dict]:
    out = []
    for row in rows:
        new = {}
        for key, value in row.items():
            if french_dates and key in DATE_COLUMNS:
                value = fr_date(value)
            value = MESSY_VALUES.get(key, {}).get(value, value)
            if key == "rqth":
                value = MESSY_BOOLS[row["id_participant"]]
            new[MESSY_HEADERS.get(key, key)] = value
        out.append(new)
    return out


def write_variant(folder: Path, people, rdv, imm, sep: str, encoding: str, bom: bool = False) -> Path:
    folder.mkdir(parents=True)
    write_csv(folder / "participants.csv", people, sep=sep, encoding=encoding, bom=bom)
    write_csv(folder / "rendez_vous.csv", rdv, sep=sep, encoding=encoding, bom=bom)
    write_csv(folder / "immersions.csv", imm, sep=sep, encoding=encoding, bom=bom)
    return folder


def stored(db: Path) -> dict:
    con = connect_readonly(db)
    try:
        return {t: query(con, f"SELECT * EXCLUDE (import_id) FROM {t} ORDER BY ALL" if t == "participants"
                         else f"SELECT * FROM {t} ORDER BY ALL").rows() for t in ("participants", "rendez_vous", "immersions")}
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    folder = write_variant(tmp / "extract", PEOPLE, RDV, IMMERSIONS, ",", "utf-8")
    db = tmp / "ref.duckdb"
    import_extract(load_extract(folder), db)
    return {"db": db, "figures": figures(db, Y2023), "stored": stored(db)}


def test_reference_figures_by_hand(reference):
    f = reference["figures"]
    assert (f["participants"], f["positioned"], f["entries"], f["exits"], f["positive_exits"]) == (3, 4, 2, 2, 2)
    assert f["sex"] == {"Femme": 1, "Homme": 2}  # P01 / P02 P04
    assert f["primary_barrier"] == {"Mobilité": 1, "Garde d'enfants": 2}
    assert f["immersions"] == {"count": 2, "led_to_contract": 1}
    assert f["exits_with_immersion"] == 2
    assert f["appointments"]["planned"] == 3 and f["appointments"]["attended"] == 2
    assert f["esf"]["EECO12"] == {"total": 1, "Femme": 0, "Homme": 1}  # entries P01 (non) P02 (oui)


def _same_as_reference(folder: Path, tmp_path: Path, reference: dict) -> Path:
    db = tmp_path / "variant.duckdb"
    import_extract(load_extract(folder), db)
    got = figures(db, Y2023)
    assert {k: got[k] for k in FIGURES} == {k: reference["figures"][k] for k in FIGURES}
    assert stored(db) == reference["stored"]
    return db


def test_cp1252_semicolon_french_dates_and_variants(tmp_path, reference):
    folder = write_variant(tmp_path / "cp1252", messy(PEOPLE, True), messy(RDV, True), messy(IMMERSIONS, True), ";", "cp1252")
    raw = (folder / "participants.csv").read_bytes()
    assert b"\x80" in raw and b"\x9c" in raw and b"\x92" in raw  # €, œ, ’ as Windows-1252 bytes
    assert b";" in raw.splitlines()[0] and b"/2023" in raw
    db = _same_as_reference(folder, tmp_path, reference)
    con = connect_readonly(db)
    try:
        texts = dict(query(con, "SELECT id_participant, situation_post_sortie FROM participants").rows())
        sectors = dict(query(con, "SELECT id_participant, secteur FROM immersions").rows())
        values = query(con, "SELECT id_participant, sexe, frein_principal, statut, rqth FROM participants ORDER BY 1").rows()
    finally:
        con.close()
    assert texts["P01"].encode("utf-8") == FREE_TEXT_1.encode("utf-8")
    assert texts["P04"].encode("utf-8") == FREE_TEXT_2.encode("utf-8")
    assert sectors["P01"].encode("utf-8") == SECTOR_1.encode("utf-8")
    assert values == [("P01", "Femme", "Mobilité", "RSA", False), ("P02", "Homme", "Garde d'enfants", "RSA", True),
                      ("P03", "Femme", "Mobilité", "Autre", True), ("P04", "Homme", "Garde d'enfants", "RQTH", False)]


def test_utf8_bom_comma_iso_dates(tmp_path, reference):
    folder = write_variant(tmp_path / "bom", messy(PEOPLE, False), RDV, messy(IMMERSIONS, False), ",", "utf-8", bom=True)
    assert (folder / "participants.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    extract = load_extract(folder)
    # the BOM must not stick to the first header
    assert extract.tables["participants"]["id_participant"].to_list() == ["P01", "P02", "P03", "P04"]
    _same_as_reference(folder, tmp_path, reference)


def test_cp1252_comma_separator_with_quoted_commas(tmp_path, reference):
    # FREE_TEXT_1 holds a comma: the writer quotes it and the reader must keep it in one cell
    folder = write_variant(tmp_path / "cp1252c", PEOPLE, RDV, IMMERSIONS, ",", "cp1252")
    _same_as_reference(folder, tmp_path, reference)


def test_header_variants_map_to_canonical_columns(tmp_path):
    folder = write_variant(tmp_path / "h", messy(PEOPLE, False), RDV, messy(IMMERSIONS, False), ",", "utf-8")
    extract = load_extract(folder)
    present = extract.columns_present["participants"]
    for canonical in ("id_participant", "date_entree", "niveau_formation", "frein_principal", "date_sortie", "motif_non_entree"):
        assert canonical in present
    assert extract.ignored_columns == []
    assert extract.tables["participants"]["niveau_formation"].to_list() == [3, 4, 2, 5]
    assert extract.tables["participants"]["date_entree"].to_list() == [dt.date(2023, 1, 10), dt.date(2023, 2, 1), None,
                                                                      dt.date(2022, 11, 15)]
    assert extract.tables["immersions"]["debouche_contrat"].to_list() == [True, False]


def _write_xlsx(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})

    def sheet(name: str, rows: list[dict], real_dates: set[str], numbers: set[str] = frozenset()):
        ws = wb.add_worksheet(name)
        cols = list(rows[0])
        ws.write_row(0, 0, cols)
        for r, row in enumerate(rows, start=1):
            for c, col in enumerate(cols):
                value = row[col]
                if value in ("", None):
                    continue  # an empty cell
                if col in DATE_COLUMNS:
                    if col in real_dates and r % 2:  # odd rows: a real Excel date; even rows: text JJ/MM/AAAA
                        ws.write_datetime(r, c, dt.datetime.fromisoformat(value), date_fmt)
                    else:
                        ws.write_string(r, c, fr_date(value))
                elif col in numbers:
                    ws.write_number(r, c, int(value))
                else:
                    ws.write_string(r, c, value)

    sheet("participants", PEOPLE, {"date_prescription", "date_entree", "date_sortie"}, {"age", "niveau_formation"})
    sheet("rendez_vous", RDV, {"date"})
    sheet("immersions", IMMERSIONS, {"date_debut", "date_fin"})
    wb.close()
    return path


def test_xlsx_workbook_gives_the_same_figures(tmp_path, reference):
    book = _write_xlsx(tmp_path / "extrait.xlsx")
    extract = load_extract(book)
    assert extract.counts == {"participants": 4, "rendez_vous": 3, "immersions": 2}
    assert extract.tables["participants"]["date_sortie"].to_list() == [dt.date(2023, 6, 30), None, None, dt.date(2023, 3, 15)]
    _same_as_reference(book, tmp_path, reference)


def test_single_participants_file(tmp_path):
    path = write_csv(tmp_path / "only" / "participants.csv", messy(PEOPLE, True), sep=";", encoding="cp1252")
    extract = load_extract(path)
    assert set(extract.tables) == {"participants"}
    assert extract.counts["participants"] == 4
    db = tmp_path / "single.duckdb"
    import_extract(extract, db)
    f = figures(db, Y2023)
    assert (f["participants"], f["positioned"], f["exits"]) == (3, 4, 2)
    assert f["appointments"]["planned"] == 0 and f["immersions"]["count"] == 0


# ------------------------------------------------------------------ refused extracts


@pytest.fixture
def existing_db(tmp_path, reference):
    """A store holding the reference extract, to check that refused imports leave it untouched."""
    db = tmp_path / "existing.duckdb"
    db.write_bytes(reference["db"].read_bytes())
    return db


def refused(folder: Path, db: Path, capsys, **kwargs) -> list:
    """load_extract refuses it; `coaching import` exits 1; the store is byte-identical afterwards."""
    before = sha256(db)
    with pytest.raises(ExtractError) as exc:
        load_extract(folder, **kwargs)
    args = ["import", str(folder), "--db", str(db)] + (["--drop-identifying-columns"] if kwargs.get("drop_identifying_columns") else [])
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for p in exc.value.problems:
        assert str(p) in err
    assert sha256(db) == before
    assert not [p.name for p in db.parent.iterdir() if p.name.startswith(f"{db.name}.tmp")]  # no temporary copy left
    return exc.value.problems


def with_changes(rows: list[dict], changes: dict[str, dict]) -> list[dict]:
    return [row | changes.get(row["id_participant"], {}) for row in rows]


def test_unknown_category_lists_accepted_values(tmp_path, existing_db, capsys):
    people = with_changes(PEOPLE, {"P02": {"sexe": "X"}, "P04": {"statut": "Chômeur"}})
    problems = refused(write_extract(tmp_path / "e", people, RDV, IMMERSIONS), existing_db, capsys)
    by_col = {(p.file, p.line, p.column): p for p in problems}
    sexe = by_col[("participants.csv", 3, "sexe")]  # P02 is the second data row: line 3 (header = line 1)
    assert sexe.value == "X" and "Femme, Homme" in sexe.message
    statut = by_col[("participants.csv", 5, "statut")]
    assert statut.value == "Chômeur" and "RSA, ASE, RQTH, Autre" in statut.message
    assert len(problems) == 2


def test_exit_before_entry(tmp_path, existing_db, capsys):
    people = with_changes(PEOPLE, {"P01": {"date_sortie": "2023-01-09"}})
    problems = refused(write_extract(tmp_path / "e", people, RDV, IMMERSIONS), existing_db, capsys)
    assert [(p.file, p.line, p.column) for p in problems] == [("participants.csv", 2, "date_sortie")]


def test_missing_required_column(tmp_path, existing_db, capsys):
    people = [{k: v for k, v in row.items() if k != "commune"} for row in PEOPLE]
    problems = refused(write_extract(tmp_path / "e", people, RDV, IMMERSIONS), existing_db, capsys)
    assert [(p.file, p.column) for p in problems] == [("participants.csv", "commune")]


def test_unknown_person_in_rendez_vous(tmp_path, existing_db, capsys):
    rdv = RDV + [{"id_participant": "ZZZ", "date": "2023-05-01", "modalite": "Physique", "presence": "Présent"}]
    problems = refused(write_extract(tmp_path / "e", PEOPLE, rdv, IMMERSIONS), existing_db, capsys)
    assert [(p.file, p.line, p.column, p.value) for p in problems] == [("rendez_vous.csv", 5, "id_participant", "ZZZ")]


def test_identifying_column_and_email_cell(tmp_path, existing_db, capsys):
    email = "jean.dupont@example.fr"
    people = [{"Nom": f"Nom{i}"} | row for i, row in enumerate(PEOPLE)]
    people[2]["situation_post_sortie"] = f"joindre {email}"
    folder = write_extract(tmp_path / "e", people, RDV, IMMERSIONS)
    problems = refused(folder, existing_db, capsys)
    assert {(p.line, p.column) for p in problems} == {(1, "Nom"), (4, "situation_post_sortie")}
    assert all(email not in str(p) for p in problems)  # the message names the cell, never echoes it
    # dropping the identifying columns removes the `Nom` problem, not the e-mail cell
    problems = refused(folder, existing_db, capsys, drop_identifying_columns=True)
    assert [(p.line, p.column) for p in problems] == [(4, "situation_post_sortie")]


def test_dropping_identifying_columns_imports_without_them(tmp_path):
    people = [{"Nom": f"Nom{i}", "Téléphone": ""} | row for i, row in enumerate(PEOPLE)]
    folder = write_extract(tmp_path / "e", people, RDV, IMMERSIONS)
    with pytest.raises(ExtractError):
        load_extract(folder)
    extract = load_extract(folder, drop_identifying_columns=True)
    assert len(extract.dropped_columns) == 2
    assert "Nom" not in extract.tables["participants"].columns


def test_csv_text_helper_writes_header_first():
    # guard for the helper the tests above rely on
    assert csv_text([{"a": "1", "b": None}], sep=";").splitlines() == ["a;b", "1;"]


def test_appointment_ids_are_matched_after_trimming_and_unknown_ones_named_with_their_line(kit, tmp_path):
    """An appointment whose identifier carries spaces still belongs to its person; an identifier absent from
    participants is refused with its file, line and value."""
    people = [kit.person("P1", entree="2023-01-10"), kit.person("P2", entree="2023-02-01")]
    ok = [{"id_participant": " P1 ", "date": "12/01/2023", "modalite": "Physique", "presence": "Présent"},
          {"id_participant": "P2\t", "date": "03/02/2023", "modalite": "Physique", "presence": "Présent"}]
    kit.write_extract(tmp_path / "ok", people, rendez_vous=ok, sep=";")
    extract = load_extract(tmp_path / "ok")
    assert sorted(extract.tables["rendez_vous"]["id_participant"].to_list()) == ["P1", "P2"]
    bad = ok + [{"id_participant": " Z9 ", "date": "04/02/2023", "modalite": "Physique", "presence": "Présent"}]
    kit.write_extract(tmp_path / "bad", people, rendez_vous=bad, sep=";")
    with pytest.raises(ExtractError) as err:
        load_extract(tmp_path / "bad")
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == ("rendez_vous.csv", 4, "id_participant", "Z9")
    assert "personne inconnue" in problem.message
