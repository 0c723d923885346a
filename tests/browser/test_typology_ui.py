"""The Typologie page in Chromium: drawn without problem, a type's button filters the whole dashboard through the
URL (`?type=N`), kept across pages, and a `?type=N` link opens the filtered view."""

from __future__ import annotations

import pytest

from analytics import fmt
from analytics.indicators import Filters, Period, compute_indicators
from analytics.store import connect_readonly
from analytics.typology.outcomes import contract

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _year(db) -> int:
    con = connect_readonly(db)
    try:
        first, last = con.execute("SELECT min(date_prescription), max(greatest(date_prescription, "
                                  "coalesce(date_sortie, date_prescription))) FROM participants").fetchone()
        return last.year - 1 if last.year > first.year else last.year
    finally:
        con.close()


def _engine(db, year: int, filters: Filters = Filters()) -> tuple[dict, dict]:
    con = connect_readonly(db)
    try:
        return contract(con, Period.year(year), filters), compute_indicators(con, Period.year(year), filters)
    finally:
        con.close()


def test_typologie_page_and_type_filter(dash, sample_db):
    year = _year(sample_db)
    typ, _ = _engine(sample_db, year)
    target = typ["types"][1]
    dash.open("typologie", annee=str(year))
    dash.screenshot("typologie")
    assert dash.problems() == []
    assert dash.current_page_title() == "Typologie"
    main = dash.page.locator("[data-testid=stMain]")
    assert main.get_by_text(f"Type {target['type']} — {target['label']}", exact=True).count() == 1
    assert dash.charts().count() == 2 and all(dash.chart_trace_counts())

    button = main.locator(f".st-key-typo_on_{target['type']} button").filter(visible=True).first  # that type's card
    with dash.rerun():
        button.click()
    assert dash.query().get("type") == [str(target["type"])], dash.page.url
    assert dash.problems() == []

    _, filtered = _engine(sample_db, year, Filters(typology=(target["type"],)))
    with dash.rerun():
        dash.nav_link("Vue d'ensemble").click()
    assert dash.query().get("type") == [str(target["type"])], f"type filter lost in {dash.page.url}"
    assert dash.metric("Participants") == fmt.number(filtered["participants"]) == fmt.number(target["n"])
    assert dash.problems() == []


def test_type_link_opens_filtered_view(dash, sample_db):
    year = _year(sample_db)
    typ, _ = _engine(sample_db, year)
    target = typ["types"][0]
    dash.open("profils", annee=str(year), type=str(target["type"]))
    assert dash.problems() == []
    assert dash.metric("Participants") == fmt.number(target["n"])
    assert len(dash.multiselect("Type de public")) == 1
