"""First start: with no database yet, the app builds it from data/sample and says it shows demonstration data."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.indicators import Period, compute_indicators
from analytics.store import connect_readonly, import_history

ROOT = Path(__file__).resolve().parent.parent


def test_first_start_builds_the_store_from_the_sample_and_says_so(tmp_path, monkeypatch):
    db = tmp_path / "fresh" / "coaching.duckdb"
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    assert not db.exists()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert db.exists()
    con = connect_readonly(db)
    assert import_history(con)["file_name"].to_list() == ["sample"]
    assert any("démonstration" in info.value for info in at.info)
    metrics = {m.label: m.value for m in at.metric}
    # the default period is the last complete year of the data (ui.state.default_year)
    year = int(at.sidebar.selectbox(key="annee").value)
    assert metrics["Participants"] == str(compute_indicators(con, Period.year(year))["participants"])


def test_empty_selection_shows_what_to_do(app, sample_db):
    from analytics.indicators import Filters

    con = connect_readonly(sample_db)
    prescriber = "Pôle emploi"  # one person in 2023: any other commune than theirs selects nobody
    home = compute_indicators(con, Period.year(2023), Filters(prescriber=(prescriber,)))["commune"]
    other = next(c for c in compute_indicators(con, Period.year(2023))["commune"] if c not in home)
    assert compute_indicators(con, Period.year(2023), Filters(commune=(other,), prescriber=(prescriber,)))["positioned"] == 0
    at = app(commune=other, prescripteur=prescriber)
    assert not at.exception
    assert any("Aucune personne ne correspond" in info.value for info in at.info)
    assert not at.get("plotly_chart")
