"""The import assistant (analytics/assistant.py, ui/mapping_assistant.py): suggestions from header names and from
values, unknown labels, saved profiles recognised next month, and the Données page driven in AppTest."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from analytics import assistant as A
from analytics.mapping import Profile, read_book
from analytics.store import connect_readonly, import_history
from tests.own_files import HEADERS, PEOPLE, own_profile, write_own_workbook

ROOT = Path(__file__).resolve().parent.parent


def test_suggestions_from_header_names(tmp_path):
    book = read_book(write_own_workbook(tmp_path / "suivi.xlsx"))
    suggestion = A.suggest(book)
    for table, headers in HEADERS.items():
        assert suggestion[table].sheet == {"participants": "Suivi", "rendez_vous": "Emargement", "immersions": "PMSMP"}[table]
        assert suggestion[table].header_row == 3
        expected = {h: c for c, h in headers.items() if any(h == col.header for col in suggestion[table].columns)}
        assert {h: suggestion[table].mapping[h] for h in expected} == expected
    assert suggestion["participants"].mapping["Mail référent"] == A.DROP  # an identifying column is dropped


def test_suggestions_from_values(tmp_path):
    """Headers that say nothing: the values decide (a column of Mme/M. is `sexe`, of e-mails is dropped)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feuil1"
    ws.append(["N° dossier", "Date d'orientation", "Orienté par", "Commune", "Colonne A", "Colonne B", "Colonne C", "Colonne D"])
    for i, (civ, frein) in enumerate([("Mme", "Mobilité"), ("M.", "Santé"), ("Mme", "Logement")]):
        ws.append([f"Z{i}", "2023-01-05", "CD", "Doullens", civ, frein, f"x{i}@exemple.fr", "Présent"])
    wb.save(tmp_path / "f.xlsx")
    mapping = A.suggest(read_book(tmp_path / "f.xlsx"))["participants"].mapping
    assert mapping["Colonne A"] == "sexe" and mapping["Colonne B"] == "frein_principal"
    assert mapping["Colonne C"] == A.DROP
    assert mapping["Colonne D"] is None  # a value of another table's list: nothing fits in participants


def test_unknown_labels_with_suggestions(tmp_path):
    book = read_book(write_own_workbook(tmp_path / "suivi.xlsx"))
    draft = A.profile_from("x", A.suggest(book))
    unknown = {(u.column, u.label): u for u in A.unknown_labels(book, draft)}
    assert unknown[("sexe", "Mme")].suggestion == "Femme" and unknown[("sexe", "Mme")].count == 5
    assert ("sexe", "M.") not in unknown  # a contract alias already
    assert unknown[("frein_principal", "Transport")].suggestion == "Mobilité"
    assert unknown[("presence", "AE")].suggestion == "Absent excusé"
    assert unknown[("debouche_contrat", "Embauché")].suggestion is None  # the user chooses
    assert A.suggest_label("motif_sortie", "Formations", ["Emploi", "Formation", "Abandon"])[0] == "Formation"
    assert A.suggest_label("frein_principal", "Zzz", ["Mobilité", "Santé"])[0] is None
    # once the profile maps them, nothing is unknown
    assert not A.unknown_labels(book, own_profile())


def test_saved_profiles_listed_renamed_deleted_and_recognised(tmp_path):
    folder = tmp_path / "mappings"
    book = read_book(write_own_workbook(tmp_path / "suivi.xlsx"))
    assert A.recognise(book, folder) is None
    A.save_profile(own_profile(name="Suivi 2024"), folder)
    A.save_profile(Profile("Autre", {"participants": own_profile().tables["participants"]}), folder)
    other = Profile.from_dict({"name": "Sans rapport", "tables": {"participants": {"sheet": "Suivi", "columns": {"Inconnue": "sexe"}}}})
    A.save_profile(other, folder)
    assert [n for n, _ in A.list_profiles(folder)] == ["Autre", "Sans rapport", "Suivi 2024"]
    assert A.recognise(book, folder).name == "Suivi 2024"  # the one listing the most headers
    A.rename_profile("Suivi 2024", "Suivi mensuel", folder)
    assert A.load_profile("Suivi mensuel", folder) == own_profile(name="Suivi mensuel")
    with pytest.raises(ValueError, match="existe déjà"):
        A.rename_profile("Autre", "suivi MENSUEL", folder)
    A.delete_profile("Suivi mensuel", folder)
    assert A.recognise(book, folder).name == "Autre"
    A.save_profile(Profile("Autre", {}), folder)  # same name: replaced, not duplicated
    assert [n for n, _ in A.list_profiles(folder)] == ["Autre", "Sans rapport"]


def test_choices_from_a_saved_profile_rebuild_it(tmp_path):
    book = read_book(write_own_workbook(tmp_path / "suivi.xlsx"))
    profile = own_profile()
    choices, labels = A.choices_from_profile(book, profile)
    rebuilt = A.profile_from(profile.name, choices, labels)
    for table, tm in profile.tables.items():
        assert rebuilt.tables[table].columns == {h: c for h, c in tm.columns.items()}
        assert rebuilt.tables[table].values == tm.values


# ---------------------------------------------------------------- the Données page (AppTest)

@pytest.fixture
def assistant_app(sample_db, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    monkeypatch.setenv("COACHING_MAPPINGS", str(tmp_path / "mappings"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/donnees.py")
    at.run()
    return at, db, tmp_path


def _upload(at, path: Path):
    at.file_uploader[0].set_value((path.name, path.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    at.run()


def test_assistant_from_upload_to_import_then_one_click_next_month(assistant_app):
    at, db, tmp = assistant_app
    _upload(at, write_own_workbook(tmp / "suivi-janvier.xlsx"))
    assert not at.exception
    # the proposed sheets and columns
    assert at.selectbox(key="asst_0_sheet_participants").value == "Suivi"
    assert at.selectbox(key="asst_0_sheet_rendez_vous").value == "Emargement"
    labels = {s.label: s for s in at.selectbox if s.key and s.key.startswith("asst_0_label_")}
    assert labels["Sexe : « Mme » (5 ligne(s))"].value == "Femme"
    undecided = [s for s in labels.values() if s.value is None]
    assert sorted(s.label for s in undecided) == ["À débouché sur un contrat : « Embauché » (1 ligne(s))",
                                                  "À débouché sur un contrat : « Pas d'embauche » (1 ligne(s))"]
    assert any("restent à choisir" in w.value for w in at.warning)
    assert not any(b.key == "asst_0_import" for b in at.button)  # nothing to import before every label is chosen
    for s in undecided:
        s.set_value("oui" if "« Embauché »" in s.label else "non")
    at.run()
    assert any("aucun problème" in s.value and "8 personnes" in s.value for s in at.success)
    preview = [df.value for df in at.dataframe if "ligne" in df.value.columns]
    assert preview[0]["sexe"].tolist()[:2] == ["Femme", "Homme"] and preview[0]["ligne"].tolist()[:3] == [4, 5, 6]
    at.text_input(key="asst_0_name").set_value("Suivi de l'association").run()
    at.button(key="asst_0_import").click().run()
    assert not at.exception
    assert any("import réussi" in s.value and "Profil de correspondance « Suivi de l'association » enregistré" in s.value
               for s in at.success)
    assert [n for n, _ in A.list_profiles(tmp / "mappings")] == ["Suivi de l'association"]
    # next month: one more person, same headers → recognised, one click
    people = PEOPLE + [dict(PEOPLE[2], id_participant="A009")]
    _upload(at, write_own_workbook(tmp / "suivi-fevrier.xlsx", people=people))
    assert any("Fichier reconnu" in s.value for s in at.success)
    at.button(key="asst_1_oneclick").click().run()
    assert not at.exception
    assert any("import réussi" in s.value and "— 9 personnes" in s.value for s in at.success)
    con = connect_readonly(db)
    try:
        history = import_history(con)
    finally:
        con.close()
    assert history["profile"].to_list()[:2] == ["Suivi de l'association", "Suivi de l'association"]
    assert history["file_name"].to_list()[:2] == ["suivi-fevrier.xlsx", "suivi-janvier.xlsx"]
    journal = next(df.value for df in at.dataframe if "Statut" in df.value.columns)
    assert journal["Profil de correspondance"].tolist()[:2] == ["Suivi de l'association"] * 2


def test_assistant_shows_the_complete_report_before_writing(assistant_app, kit):
    at, db, tmp = assistant_app
    before = kit.sha256(db)
    people = [dict(p) for p in PEOPLE]
    people[1]["age"] = 12
    _upload(at, write_own_workbook(tmp / "suivi.xlsx", people=people))
    for s in [s for s in at.selectbox if s.key and s.key.startswith("asst_0_label_") and s.value is None]:
        s.set_value("oui")
    at.run()
    report = next(df.value for df in at.dataframe if "Problème" in df.value.columns)
    assert report[["Fichier", "Ligne", "Colonne"]].values.tolist() == [["suivi.xlsx › Suivi", 5, "Âge"]]
    assert not any(b.key == "asst_0_import" for b in at.button)
    assert kit.sha256(db) == before


def test_profiles_renamed_and_deleted_on_the_page(assistant_app):
    at, _db, tmp = assistant_app
    A.save_profile(own_profile(name="Profil A"), tmp / "mappings")
    at.run()
    at.text_input(key="profiles_new_Profil A").set_value("Profil B").run()
    at.button(key="profiles_rename").click().run()
    assert [n for n, _ in A.list_profiles(tmp / "mappings")] == ["Profil B"]
    at.button(key="profiles_delete").click().run()
    assert A.list_profiles(tmp / "mappings") == []
    assert not at.exception


def test_assistant_on_a_csv_with_a_title_line(tmp_path):
    text = ("Suivi des bénéficiaires 2023\n"
            "Dossier;Date d'orientation;Orienté par;Ville;Civilité;Age;Niveau;Public;Situation familiale;Difficulté principale;Entrée;Si pas d'entrée;Téléphone\n"
            "B1;05/01/2023;CD;Doullens;Mme;40;3;RSA;Couple sans enfant;Transport;;En attente;06 12 34 56 78\n"
            "B2;06/01/2023;CD;Conty;M.;33;4;RSA;Couple sans enfant;Santé;10/01/2023;;\n")
    (tmp_path / "suivi.csv").write_bytes(text.encode("cp1252"))
    book = read_book(tmp_path / "suivi.csv")
    s = A.suggest(book)["participants"]
    assert s.sheet == "suivi" and s.header_row == 2
    assert s.mapping["Civilité"] == "sexe" and s.mapping["Ville"] == "commune" and s.mapping["Dossier"] == "id_participant"
    assert s.mapping["Difficulté principale"] == "frein_principal" and s.mapping["Téléphone"] == A.DROP
    profile = A.profile_from("csv", A.suggest(book), {"frein_principal": {"Transport": "Mobilité"}, "sexe": {"Mme": "Femme"}})
    from analytics.mapping import load_mapped

    extract, _ = load_mapped(tmp_path / "suivi.csv", profile)
    assert extract.tables["participants"]["sexe"].to_list() == ["Femme", "Homme"]


def test_template_download_on_the_page(app):
    at = app("pages/donnees.py")
    button = next(b for b in at.get("download_button") if "modèle" in b.proto.label)
    assert button.proto.label == "Télécharger le modèle de tableau de suivi (.xlsx)"


def test_a_single_csv_is_recognised_next_month_under_another_name(tmp_path):
    header = "Dossier;Date d'orientation;Orienté par;Ville;Civilité;Age;Niveau;Public;Situation familiale;Difficulté principale;Entrée;Si pas d'entrée\n"
    january = header + "B1;05/01/2023;CD;Doullens;Mme;40;3;RSA;Couple sans enfant;Santé;;En attente\n"
    (tmp_path / "suivi-janvier.csv").write_text(january, encoding="utf-8")
    book = read_book(tmp_path / "suivi-janvier.csv")
    profile = A.profile_from("Suivi CSV", A.suggest(book), {"sexe": {"Mme": "Femme"}}, book)
    assert profile.tables["participants"].header_row is None  # found anyway: a title line may come next month
    A.save_profile(profile, tmp_path / "mappings")
    february = "Suivi de février\n" + january + "B2;06/02/2023;CD;Conty;Mme;33;4;RSA;Couple sans enfant;Santé;10/02/2023;\n"
    (tmp_path / "suivi-fevrier.csv").write_text(february, encoding="utf-8")
    recognised = A.recognise(read_book(tmp_path / "suivi-fevrier.csv"), tmp_path / "mappings")
    assert recognised is not None and recognised.name == "Suivi CSV"
    from analytics.mapping import load_mapped

    extract, _ = load_mapped(tmp_path / "suivi-fevrier.csv", recognised)
    assert extract.tables["participants"]["id_participant"].to_list() == ["B1", "B2"]
