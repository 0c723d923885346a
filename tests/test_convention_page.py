"""The « Convention » page: the years side by side, each equal to the figures of that year alone."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import date


from analytics.indicators import Filters, Period, compute_indicators
from analytics.reports.common import data_date, first_date
from analytics.store import connect_readonly


def _charts(at) -> dict[str, dict]:
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def test_convention_page(app, sample_db):
    at = app("pages/convention.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Convention"
    with closing(connect_readonly(sample_db)) as con:
        first, last = first_date(con), data_date(con)
        years = list(range(first.year, last.year + 1))
        expected = {y: compute_indicators(con, Period(date(y, 1, 1), min(date(y, 12, 31), last)), Filters()) for y in years}
    table = at.dataframe[0].value
    heads = list(table.columns)[1:-1]
    assert [h[:4] for h in heads] == [str(y) for y in years]
    if last < date(last.year, 12, 31):  # the year to date is marked as such
        assert heads[-1] == f"{last.year} (au {last.strftime('%d/%m')})"
    rows = table.set_index("Indicateur")
    participants = list(rows.loc["Participants"])[:-1]
    assert [int(v.replace("\u202f", "").replace(" ", "")) for v in participants] == [expected[y]["participants"] for y in years]
    assert len(rows) == 12  # every figure of the page has its row
    spec = _charts(at)["convention_trends"]
    entries = next(t for t in spec["data"] if t.get("name") == "Entrées" and t["type"] == "bar")
    assert entries["y"] == [expected[y]["entries"] for y in years]
    assert any(m.proto.help for m in at.markdown)  # the definition tooltip
    assert any(b.label == "Télécharger le tableau (CSV)" for b in at.download_button)


def test_convention_page_in_diffusion_mode_shows_no_small_count(app):
    at = app("pages/convention.py", diffusion="true")
    assert not at.exception
    table = at.dataframe[0].value
    for label in ("Positionnés", "Participants", "Entrées", "Sorties"):
        for cell in list(table.set_index("Indicateur").loc[label])[:-1]:
            digits = cell.replace("\u202f", "").replace(" ", "")
            assert not digits.isdigit() or int(digits) == 0 or int(digits) >= 11, (label, cell)


def test_default_year_is_the_last_complete_year_of_the_data(app, sample_db):
    with closing(connect_readonly(sample_db)) as con:
        first, last = first_date(con), data_date(con)
    at = app(annee=None)
    assert not at.exception
    expected = last.year - 1 if last.year > first.year else last.year
    assert at.sidebar.selectbox(key="annee").value == str(expected)


def test_every_page_draws_its_tables_through_data_table():
    """`ui.components.data_table` gives the tables their French toolbar and « — » for an empty value: no page calls
    `st.dataframe` itself (the Convention page did)."""
    from pathlib import Path

    pages = sorted(Path(__file__).resolve().parent.parent.joinpath("pages").glob("*.py"))
    assert len(pages) >= 9
    assert [p.name for p in pages if "st.dataframe(" in p.read_text(encoding="utf-8")] == []


def test_convention_table_has_no_empty_cell_left_as_none(app):
    at = app("pages/convention.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert not table.isna().any().any()
    assert "None" not in table.astype(str).to_numpy().ravel().tolist()
