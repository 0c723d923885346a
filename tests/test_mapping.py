"""Mapping profiles (SPEC-extract v2, "Mapping profile"): the association's own workbook gives exactly the figures
of the same data in contract shape; refusals name the user's cell; without a profile, the report says how to map."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import schema as S
from analytics.cli import main
from analytics.extract import ExtractError, load_extract
from analytics.importer import run_import
from analytics.indicators import Period
from analytics.mapping import Profile, load_mapped, read_book, serial_date
from analytics.privacy import identifying_column
from analytics.store import connect_readonly, import_history
from coaching_test_helpers import figures, write_extract
from tests.own_files import HEADERS, IMMERSIONS, PEOPLE, RDV, SHEETS, as_text, own_profile, write_own_workbook

SPEC_EXAMPLE = """{
  "name": "Tableau de suivi 2024",
  "tables": {
    "participants": {
      "sheet": "Suivi",
      "header_row": 4,
      "columns": {"N° dossier": "id_participant", "Genre": "sexe", "Mail": null},
      "values": {"frein_principal": {"Transport": "Mobilité"}, "sexe": {"Mme": "Femme"}}
    },
    "rendez_vous": {"sheet": "Emargement"},
    "immersions": {"sheet": "PMSMP"}
  }
}"""


def test_profile_round_trip(tmp_path):
    profile = Profile.from_json(SPEC_EXAMPLE)
    assert profile.tables["participants"].header_row == 4
    assert profile.tables["participants"].columns["Mail"] is None
    assert profile.to_dict() == json.loads(SPEC_EXAMPLE)
    profile.save(tmp_path / "p.json")
    again = Profile.load(tmp_path / "p.json")
    assert again == profile and again.to_json() == profile.to_json()
    built = own_profile()
    assert Profile.from_json(built.to_json()) == built


@pytest.mark.parametrize("bad, fragment", [
    ('{"tables": {"personnes": {}}}', "table « personnes » inconnue"),
    ('{"tables": {"participants": {"columns": {"Genre": "genre"}}}}', "colonne inconnue"),
    ('{"tables": {"participants": {"header_row": 0}}}', "header_row"),
    ('{"tables": ', "JSON invalide"),
])
def test_malformed_profile_is_a_french_error(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        Profile.from_json(bad)


def test_serial_numbers():
    assert serial_date("45000") == "2023-03-15"  # Excel shows 45000 as 15/03/2023
    assert serial_date("1") == "1899-12-31" and serial_date("abc") == "abc" and serial_date("2023-01-05") == "2023-01-05"


def _contract_db(tmp_path: Path) -> Path:
    folder = write_extract(tmp_path / "contract", as_text(PEOPLE), as_text(RDV), as_text(IMMERSIONS))
    db = tmp_path / "contract.duckdb"
    run_import(folder, db)
    return db


def test_own_workbook_gives_the_figures_of_the_contract_shape(tmp_path):
    book = write_own_workbook(tmp_path / "suivi-association.xlsx")
    db = tmp_path / "own.duckdb"
    result = run_import(book, db, mapping=own_profile())
    assert result.counts == {"participants": len(PEOPLE), "rendez_vous": len(RDV), "immersions": len(IMMERSIONS)}
    summary = result.summary()
    # a total line in each of the three sheets, an empty line after the third row (participants, rendez-vous)
    assert "Lignes ignorées : 2 vide(s), 3 ligne(s) de total." in summary
    assert "Mail référent" in summary  # dropped by the profile, and said so
    reference = _contract_db(tmp_path)
    for year in (2022, 2023):
        assert figures(db, Period.year(year)) == figures(reference, Period.year(year))
    con = connect_readonly(db)
    try:
        history = import_history(con)
        assert history["profile"].to_list() == ["Tableau de suivi de l'association"]
        assert "referente" not in json.dumps(con.execute("SELECT * FROM participants").fetchall(), default=str)
    finally:
        con.close()
    # the same file with the same profile changes nothing; the CLI reads the same profile from its JSON file
    own_profile().save(tmp_path / "profil.json")
    assert main(["import", str(book), "--db", str(db), "--mapping", str(tmp_path / "profil.json")]) == 0
    assert run_import(book, db, mapping=own_profile()).status == "inchangé"


def test_refused_mapped_file_names_the_users_cell(tmp_path):
    people = [dict(p) for p in PEOPLE]
    people[4]["frein_principal"] = "Vélo"  # a label the profile does not know
    book = write_own_workbook(tmp_path / "suivi.xlsx", people=people, title_lines=3)
    with pytest.raises(ExtractError) as err:
        run_import(book, tmp_path / "db.duckdb", mapping=own_profile())
    [problem] = err.value.problems
    # 3 title lines, the header on line 4, persons from line 5, an empty line after the third: the fifth is on line 10
    assert (problem.file, problem.line, problem.value) == ("suivi.xlsx › Suivi", 10, "Vélo")
    assert problem.column.startswith("Frein n°1")
    assert not (tmp_path / "db.duckdb").exists()  # nothing imported


def test_identifying_column_not_dropped_is_refused(tmp_path):
    book = write_own_workbook(tmp_path / "suivi.xlsx")
    with pytest.raises(ExtractError) as err:
        run_import(book, tmp_path / "db.duckdb", mapping=own_profile(email=False))
    assert {p.column for p in err.value.problems} >= {"Mail référent"}


def test_an_identifying_column_cannot_be_renamed_past_the_privacy_rule(tmp_path):
    headers = {t: dict(h) for t, h in HEADERS.items()}
    headers["participants"]["id_participant"] = "Nom"  # the person's name used as identifier
    book = write_own_workbook(tmp_path / "suivi.xlsx", headers=headers)
    with pytest.raises(ExtractError) as err:
        load_mapped(book, own_profile(headers=headers))
    assert any(p.column == "Nom" and "null" in p.message for p in err.value.problems)


def test_missing_mapping_of_a_required_column_says_what_to_do(tmp_path):
    book = write_own_workbook(tmp_path / "suivi.xlsx")
    profile = own_profile()
    del profile.tables["participants"].columns["Genre"]
    with pytest.raises(ExtractError) as err:
        load_mapped(book, profile)
    report = "\n".join(str(p) for p in err.value.problems)
    assert "ligne 3, colonne « sexe » : colonne obligatoire absente : indiquez dans le profil" in report


def test_without_a_profile_the_report_names_sheets_and_unmatched_columns(tmp_path, capsys):
    book = write_own_workbook(tmp_path / "suivi.xlsx")
    with pytest.raises(ExtractError) as err:
        run_import(book, tmp_path / "db.duckdb")
    problems = err.value.problems
    assert "« Suivi », « Emargement », « PMSMP »" in problems[0].message and "--mapping" in problems[0].message
    suivi = next(p for p in problems if p.file == "suivi.xlsx › Suivi")
    assert suivi.line == 3  # the header below the two title lines
    for header in ("N° dossier", "Genre", "Orienté par", "Frein n°1", "Mail référent"):
        assert f"« {header} »" in suivi.message
    assert "« Commune »" not in suivi.message  # matches the contract's `commune`
    assert main(["import", str(book), "--db", str(tmp_path / "db.duckdb")]) == 1
    assert "Emargement" in capsys.readouterr().err


def test_header_row_given_and_csv_with_a_title_line(tmp_path):
    text = "Suivi mensuel;;\n" + "N° dossier;Date d'orientation;Orienté par;Commune;Genre;Âge;Niveau;Public;Situation familiale;Frein n°1;Entrée;Si pas d'entrée\n"
    text += "B1;05/01/2023;CD;Doullens;Mme;40;3;RSA;Couple sans enfant;Transport;;En attente\n;;;\nTOTAL;1;;\n"
    path = tmp_path / "suivi.csv"
    path.write_bytes(text.encode("cp1252"))
    profile = own_profile(email=False)
    profile.tables["participants"].sheet = "suivi"
    profile.tables["participants"].header_row = 2
    extract, info = load_mapped(path, Profile(profile.name, {"participants": profile.tables["participants"]}))
    assert extract.tables["participants"].select("id_participant", "sexe", "frein_principal").row(0) == ("B1", "Femme", "Mobilité")
    assert (info.skipped_empty, info.skipped_total) == (1, 1)


# ---------------------------------------------------------------- property: any renaming, with its profile

_text = st.text(alphabet=string.ascii_letters + string.digits + " éèà°'-", min_size=1, max_size=16)


def _distinct(keys: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """A random name for each key, distinct after the contract's normalisation (never empty, never a name that
    suggests a direct identifier: those can only be dropped)."""
    return st.lists(_text.filter(lambda t: S.norm_key(t) != "" and not identifying_column(t)), min_size=len(keys), max_size=len(keys),
                    unique_by=S.norm_key).map(lambda names: dict(zip(keys, names, strict=True)))


@st.composite
def renamings(draw):
    headers = {t: draw(_distinct(list(cols))) for t, cols in HEADERS.items()}
    labels = {}
    for column, table in (("sexe", S.PARTICIPANTS), ("frein_principal", S.PARTICIPANTS), ("motif_sortie", S.PARTICIPANTS),
                          ("statut", S.PARTICIPANTS), ("presence", S.RENDEZ_VOUS), ("modalite", S.RENDEZ_VOUS)):
        labels[column] = draw(_distinct(table.col(column).values))
    labels["freins_secondaires"] = labels["frein_principal"]
    sheets = draw(_distinct(list(SHEETS)))
    return headers, labels, sheets, draw(st.integers(0, 4))


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("orig")
    folder = write_extract(tmp / "contract", as_text(PEOPLE), as_text(RDV), as_text(IMMERSIONS))
    db = tmp / "contract.duckdb"
    run_import(folder, db)
    return load_extract(folder), {y: figures(db, Period.year(y)) for y in (2022, 2023)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(renamings())
def test_any_renaming_with_its_profile_gives_the_same_tables(original, tmp_path_factory, renaming):
    headers, labels, sheets, title_lines = renaming
    tmp = tmp_path_factory.mktemp("prop")
    book = write_own_workbook(tmp / "f.xlsx", headers, labels, sheets, title_lines=title_lines)
    extract, _ = load_mapped(book, own_profile(headers, labels, sheets))
    for name, frame in original[0].tables.items():
        assert extract.tables[name].equals(frame), name


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(renamings())
def test_any_renaming_with_its_profile_gives_the_same_figures(original, tmp_path_factory, renaming):
    headers, labels, sheets, title_lines = renaming
    tmp = tmp_path_factory.mktemp("propfig")
    book = write_own_workbook(tmp / "f.xlsx", headers, labels, sheets, title_lines=title_lines)
    db = tmp / "db.duckdb"
    run_import(book, db, mapping=own_profile(headers, labels, sheets))
    for year, expected in original[1].items():
        assert figures(db, Period.year(year)) == expected


def test_read_book_keeps_true_line_numbers(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["C3"] = "x"
    wb.save(tmp_path / "b.xlsx")
    [sheet] = read_book(tmp_path / "b.xlsx").values()
    assert sheet.rows[-1] == (3, [None, None, "x"])


def test_old_store_gets_the_profile_column(tmp_path):
    import duckdb

    db = tmp_path / "old.duckdb"
    run_import(write_extract(tmp_path / "x", as_text(PEOPLE[:2])), db)
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE imports DROP COLUMN profile")
    con.close()
    run_import(write_own_workbook(tmp_path / "o.xlsx"), db, mapping=own_profile())
    con = connect_readonly(db)
    try:
        assert import_history(con)["profile"].to_list() == ["Tableau de suivi de l'association", None]
    finally:
        con.close()


def test_cli_mapping_errors_are_one_french_line(tmp_path, capsys):
    book = write_own_workbook(tmp_path / "suivi.xlsx")
    assert main(["import", str(book), "--db", str(tmp_path / "db.duckdb"), "--mapping", str(tmp_path / "absent.json")]) == 2
    assert "profil introuvable" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"tables": {"participants": {"columns": {"Genre": "genre"}}}}', encoding="utf-8")
    assert main(["import", str(book), "--db", str(tmp_path / "db.duckdb"), "--mapping", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert "colonne inconnue" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "db.duckdb").exists()


def test_cli_refused_mapped_file_lists_the_users_cells(tmp_path, capsys):
    people = [dict(p) for p in PEOPLE]
    people[0]["sexe"] = "Autre"
    book = write_own_workbook(tmp_path / "suivi.xlsx", people=people)
    own_profile().save(tmp_path / "profil.json")
    assert main(["import", str(book), "--db", str(tmp_path / "db.duckdb"), "--mapping", str(tmp_path / "profil.json")]) == 1
    assert "suivi.xlsx › Suivi, ligne 4, colonne « Genre (sexe) » : valeur inconnue" in capsys.readouterr().err
