"""Données page: completeness (SQL) on a hand-built store, the dictionary, the journal, uploads (bad and good)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from analytics import schema as S
from analytics.extract import ExtractError, Problem, load_extract, problems_frame
from analytics.quality import completeness, data_dictionary, import_journal, report_csv, stage_upload
from analytics.store import connect_readonly

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- analytics.quality, by hand


def test_completeness_counts_filled_values_per_column(tmp_path, kit):
    people = [
        kit.person("A", entree="2023-01-10", sortie="2023-05-02", motif="Emploi", detail="CDI", presc="2023-01-02"),
        kit.person("B", entree="2023-02-01", presc="2023-01-20", freins_secondaires="Santé|Logement"),
        kit.person("C", presc="2023-03-01"),  # non-entrant: motif_non_entree defaults to En attente
        kit.person("D", presc="2023-03-05", motif_non_entree="Non adhésion"),
    ]
    db = kit.store(tmp_path, people)
    con = connect_readonly(db)
    try:
        out = completeness(con)
    finally:
        con.close()
    assert out["column"].to_list() == S.PARTICIPANTS.names
    assert out.columns == ["column", "label", "required", "collected", "filled", "total", "share"]
    row = {r["column"]: r for r in out.iter_rows(named=True)}
    assert set(out["total"]) == {4}
    assert (row["id_participant"]["filled"], row["id_participant"]["share"]) == (4, 1.0)
    assert (row["date_entree"]["filled"], row["date_entree"]["share"]) == (2, 0.5)
    assert (row["date_sortie"]["filled"], row["date_sortie"]["share"]) == (1, 0.25)
    assert (row["motif_non_entree"]["filled"], row["motif_non_entree"]["share"]) == (2, 0.5)
    assert (row["freins_secondaires"]["filled"], row["freins_secondaires"]["share"]) == (1, 0.25)
    # territoire / action are filled with their defaults; situation_6_mois was not in the extract at all
    assert row["territoire"]["share"] == 1.0 and row["territoire"]["collected"] is False
    assert row["situation_6_mois"] == {**row["situation_6_mois"], "filled": 0, "share": 0.0, "collected": False}
    assert row["date_entree"]["collected"] is True and row["sexe"]["required"] is True
    assert row["sexe"]["label"] == S.PARTICIPANTS.col("sexe").label


def test_data_dictionary_lists_every_contract_column():
    dic = data_dictionary()
    assert dic.columns == ["table", "colonne", "libellé", "type", "obligatoire", "valeurs acceptées"]
    assert [(t, c) for t, c in dic.select("table", "colonne").iter_rows()] == [
        (t.name, c.name) for t in S.TABLES.values() for c in t.columns]
    row = {(r["table"], r["colonne"]): r for r in dic.iter_rows(named=True)}
    assert row[("participants", "sexe")]["valeurs acceptées"] == "Femme, Homme"
    assert row[("participants", "sexe")]["obligatoire"] == "oui" and row[("participants", "rqth")]["obligatoire"] == "non"
    assert row[("participants", "motif_sortie")]["obligatoire"].startswith("oui, si")
    assert "16 à 99" in row[("participants", "age")]["valeurs acceptées"]
    assert "Intérim" in row[("participants", "detail_sortie")]["valeurs acceptées"]
    assert all(dic["libellé"].str.len_chars() > 0) and all(dic["valeurs acceptées"].str.len_chars() > 0)


def test_import_journal_french_columns_and_dates(sample_db):
    con = connect_readonly(sample_db)
    try:
        out = import_journal(con)
    finally:
        con.close()
    assert out.height == 1
    r = out.row(0, named=True)
    assert r["Fichier"] == "sample" and r["Statut"] == "importé" and r["Personnes"] > 0
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", r["Date"])
    assert {"N°", "Rendez-vous", "Immersions", "Nouvelles entrées", "Nouvelles sorties", "Colonnes supprimées"} <= set(out.columns)


def test_report_csv_is_utf8_bom_semicolon():
    frame = problems_frame([Problem("participants.csv", 3, "sexe", "Martien", "valeur inconnue ; valeurs acceptées : Femme, Homme")])
    data = report_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "fichier;ligne;colonne;valeur;problème"
    assert lines[1] == 'participants.csv;3;sexe;Martien;"valeur inconnue ; valeurs acceptées : Femme, Homme"'


def test_stage_upload_mirrors_the_command_line_inputs(tmp_path):
    one = stage_upload([("participants.csv", b"x")], tmp_path / "a")
    assert one.is_file() and one.name == "participants.csv"
    several = stage_upload([("participants.csv", b"p"), ("dir/rendez_vous.csv", b"r")], tmp_path / "b")
    assert several.is_dir() and sorted(p.name for p in several.iterdir()) == ["participants.csv", "rendez_vous.csv"]
    book = stage_upload([("extrait.xlsx", b"PK")], tmp_path / "c")
    assert book.name == "extrait.xlsx" and book.read_bytes() == b"PK"
    for files in ([], [("extrait.xlsx", b""), ("participants.csv", b"")], [("a.pdf", b"")],
                  [("participants.csv", b""), ("participants.csv", b"")]):
        with pytest.raises(ExtractError) as exc:
            stage_upload(files, tmp_path / "d")
        assert exc.value.problems


# ---------------------------------------------------------------- the page


def test_donnees_page_dictionary_history_completeness(app):
    at = app("pages/donnees.py")
    assert not at.exception
    frames = [df.value for df in at.dataframe]
    journal = next(f for f in frames if "Statut" in f.columns)
    assert journal["Fichier"].tolist() == ["sample"] and journal["Statut"].tolist() == ["importé"]
    dictionary = next(f for f in frames if "Colonne" in f.columns and "Table" in f.columns)
    for table in S.TABLES.values():
        listed = dictionary[dictionary["Table"] == table.name]["Colonne"].tolist()
        assert listed == table.names
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 1
    bars = charts[0]["data"][0]
    assert len(bars["y"]) == len(S.PARTICIPANTS.names) and bars["x"][0] == 1  # id_participant always filled
    assert at.file_uploader and at.checkbox(key="donnees_drop").label == "Supprimer les colonnes identifiantes"


@pytest.fixture
def writable_app(sample_db, tmp_path, monkeypatch):
    """The Données page on a private copy of the sample store (uploads write to it)."""
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv("COACHING_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["annee"] = "2023"  # the year the assertions check (the sample runs to 2026)
    at.run()
    at.switch_page("pages/donnees.py")
    at.run()
    return at, db


def test_upload_of_a_bad_extract_shows_the_report_and_changes_nothing(writable_app, kit):
    at, db = writable_app
    before = kit.sha256(db)
    bad = kit.csv_text([kit.person("X1", entree="2023-02-01", sexe="Martien"),
                        kit.person("X2", entree="2023-01-10", sortie="2022-12-01", motif="Emploi")], sep=";")
    at.file_uploader[0].set_value([("participants.csv", bad.encode("utf-8"), "text/csv"),
                                   ("rendez_vous.csv", b"id_participant;date;modalite;presence\r\nZZ;02/01/2023;Physique;Present\r\n",
                                    "text/csv")])
    at.run()
    at.button(key="donnees_import").click().run()
    assert not at.exception
    assert any("refusé" in e.value and "Rien n'a été importé" in e.value for e in at.error)
    report = next(df.value for df in at.table if "Problème" in df.value.columns)
    assert set(report["Fichier"]) == {"participants.csv", "rendez_vous.csv"}
    assert {"sexe", "date_sortie", "id_participant"} <= set(report["Colonne"])
    assert at.get("download_button")
    assert kit.sha256(db) == before
    journal = next(df.value for df in at.dataframe if "Statut" in df.value.columns)
    # the refusal is journaled (beside the store, which stays byte-identical), latest first
    assert journal["Statut"].tolist() == ["refusé", "importé"]
    assert journal["Fichier"].tolist()[1] == "sample"
    assert journal["Problèmes"].tolist()[0] == str(report.shape[0])  # a column with empty values is text (« — »)
    # « None » never appears: an empty value reads « — » (issue 16)
    for df in [*at.dataframe, *at.table]:
        assert "None" not in {str(v) for v in df.value.to_numpy().ravel()}, df.value


def test_upload_with_identifiers_needs_the_checkbox(writable_app, kit):
    at, db = writable_app
    before = kit.sha256(db)
    rows = kit.csv_text([kit.person("N1", entree="2023-02-01", presc="2023-01-15", commune="Doullens", nom="Dupont")], sep=";")
    at.file_uploader[0].set_value(("participants.csv", rows.encode("utf-8"), "text/csv"))
    at.run()
    at.button(key="donnees_import").click().run()
    report = next(df.value for df in at.table if "Problème" in df.value.columns)
    assert report["Colonne"].tolist() == ["nom"] and kit.sha256(db) == before
    assert not at.file_uploader[0].value  # emptied after the refusal, the report stays
    at.checkbox(key="donnees_drop").check().run()
    at.file_uploader[0].set_value(("participants.csv", rows.encode("utf-8"), "text/csv"))
    at.run()
    at.button(key="donnees_import").click().run()
    assert not at.exception
    assert any("Colonnes identifiantes supprimées" in s.value for s in at.success)
    assert kit.sha256(db) != before


def test_upload_of_a_good_extract_imports_it_and_refreshes_every_page(writable_app, kit):
    at, db = writable_app
    people = [kit.person("NEW-1", entree="2023-02-01", presc="2023-01-15", date_premier_rdv="2023-01-20", commune="Doullens"),
              kit.person("NEW-2", presc="2023-03-01", commune="Doullens")]
    at.file_uploader[0].set_value(("participants.csv", kit.csv_text(people, sep=";").encode("utf-8"), "text/csv"))
    at.run()
    at.button(key="donnees_import").click().run()
    assert not at.exception
    assert any("import réussi" in s.value for s in at.success)
    journal = next(df.value for df in at.dataframe if "Statut" in df.value.columns)
    assert journal["Fichier"].tolist() == ["participants.csv", "sample"]
    assert journal["Personnes"].tolist()[0] == 2
    con = connect_readonly(db)
    try:
        from analytics.indicators import Filters, Period, compute_indicators

        fig = compute_indicators(con, Period.year(2023), Filters())
    finally:
        con.close()
    assert fig["entries"] == 98  # the sample's 97 and NEW-1
    at.switch_page("pages/file_active.py")
    at.run()
    assert not at.exception
    caseload = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]
    assert caseload == list(fig["monthly_caseload"].values())
    assert caseload[1:] == [v + 1 for v in [37, 36, 32, 35, 35, 40, 33, 32, 42, 46, 47]]


def test_import_through_the_same_code_as_the_cli(tmp_path, kit):
    """What the page stages is what `coaching import` reads: same problems for the same files."""
    bad = kit.csv_text([kit.person("X1", entree="2023-02-01", sexe="Martien")], sep=";").encode()
    folder = kit.write_extract(tmp_path / "cli", [kit.person("X1", entree="2023-02-01", sexe="Martien")], sep=";")
    with pytest.raises(ExtractError) as cli:
        load_extract(folder / "participants.csv")
    with pytest.raises(ExtractError) as page:
        load_extract(stage_upload([("participants.csv", bad)], tmp_path / "page"))
    assert problems_frame(cli.value.problems).equals(problems_frame(page.value.problems))


def test_uploading_the_same_extract_twice_changes_nothing(writable_app, kit):
    at, db = writable_app
    rows = kit.csv_text([kit.person("N1", entree="2023-02-01", presc="2023-01-15")], sep=";").encode("utf-8")
    for _ in range(2):
        at.file_uploader[0].set_value(("participants.csv", rows, "text/csv"))
        at.run()
        at.button(key="donnees_import").click().run()
    after_first = kit.sha256(db)
    assert any("déjà importé" in i.value for i in at.info) and kit.sha256(db) == after_first
    journal = next(df.value for df in at.dataframe if "Statut" in df.value.columns)
    assert journal["Fichier"].tolist() == ["participants.csv", "sample"]


def test_completeness_chart_marks_columns_never_collected():
    from analytics.charts.data import completeness as chart

    frame = pl.DataFrame(
        {"column": ["id_participant", "code_insee", "situation_6_mois"], "label": ["Id", "Code INSEE", "À 6 mois"],
         "required": [True, False, False], "collected": [True, False, False], "filled": [4, 4, 0], "total": [4, 4, 4],
         "share": [1.0, 1.0, 0.0]})
    bar = json.loads(chart(frame).to_json())["data"][0]
    assert bar["x"] == [1.0, 1.0, 0.0]
    assert bar["text"][2] == "non collecté" and bar["text"][0] == bar["text"][1] != "non collecté"
