"""The import assistant in a real browser: upload an association's own workbook, confirm the suggestions,
choose the labels nobody can guess, import, and find the profile saved and recorded."""

from __future__ import annotations

import shutil

import pytest

from analytics.assistant import list_profiles
from analytics.store import connect_readonly, import_history
from coaching_browser_helpers import Dash, serve
from tests.own_files import write_own_workbook

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def assistant_server(sample_db, tmp_path, monkeypatch):
    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv("COACHING_MAPPINGS", str(tmp_path / "mappings"))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    with serve(db, "streamlit-assistant") as url:
        yield url, db, tmp_path


def _choose(dash: Dash, label_part: str, option: str) -> None:
    box = dash.page.locator("[data-testid=stSelectbox]").filter(has=dash.page.get_by_text(label_part))
    assert box.count() == 1, label_part
    with dash.rerun(90_000):
        field = box.locator("input")
        field.click()
        field.press("ArrowDown")  # Streamlit 1.67's combo box opens its list from the keyboard, not on a click in the field
        dash.page.get_by_role("option", name=option, exact=True).click()


def test_assistant_upload_confirm_import(assistant_server, page, routes):
    url, db, tmp = assistant_server
    dash = Dash(page, url)
    page.set_default_timeout(90_000)  # the machine is shared: reading and checking the workbook may be slow under load
    for path in ("", routes["pages/donnees.py"].path):  # the root first, as the shared fixtures do
        page.goto(f"{url}/{path}")
        dash.wait_ready(90_000)
    book = write_own_workbook(tmp / "suivi-association.xlsx")
    with dash.rerun(90_000):
        dash.page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(book))
    main = dash.page.locator("[data-testid=stMain]")
    main.get_by_text("Assistant d'import : un fichier à votre format").wait_for()
    assert "restent à choisir" in main.inner_text()
    _choose(dash, "« Embauché »", "oui")
    _choose(dash, "« Pas d'embauche »", "non")
    main.get_by_text("Rapport de validation : aucun problème").wait_for()
    text = main.inner_text()
    assert "8 personnes, 6 rendez-vous, 2 immersions" in text
    dash.screenshot("donnees-assistant")
    with dash.rerun(90_000):
        main.get_by_role("button", name="Importer et enregistrer le profil").click()
    main.get_by_text("import réussi", exact=False).first.wait_for()
    assert [p for p in dash.problems() if not p.startswith("st.error")] == []
    assert len(list_profiles(tmp / "mappings")) == 1
    con = connect_readonly(db)
    try:
        assert import_history(con)["profile"].to_list()[0].startswith("Tableau de suivi")
    finally:
        con.close()
