"""The global filters in Chromium: URL → figures, URL kept across pages, chart click → filter, date range."""

from __future__ import annotations

import re
from datetime import date

import pytest

from analytics import fmt
from analytics.indicators import Filters, Period, compute_indicators
from analytics.store import connect_readonly

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

YEAR = 2023  # the sample's default year (last complete year with data)
COMMUNE = "Doullens"


def engine(db, period: Period, filters: Filters = Filters()) -> dict:
    con = connect_readonly(db)
    try:
        return compute_indicators(con, period, filters)
    finally:
        con.close()


def communes(db) -> list[str]:
    con = connect_readonly(db)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT commune FROM participants WHERE commune IS NOT NULL").fetchall()]
    finally:
        con.close()


def test_commune_in_url_filters_the_overview_and_survives_navigation(dash, sample_db):
    everyone = engine(sample_db, Period.year(YEAR))["participants"]
    doullens = engine(sample_db, Period.year(YEAR), Filters(commune=(COMMUNE,)))["participants"]
    assert doullens != everyone, "the sample should give Doullens its own figure"

    dash.open("", commune=COMMUNE)
    assert dash.problems() == []
    shown = dash.metric("Participants")
    assert shown == fmt.number(doullens)
    assert shown != fmt.number(everyone)
    assert dash.multiselect("Commune") == [COMMUNE]
    assert dash.query().get("commune") == [COMMUNE]

    with dash.rerun():
        dash.nav_link("Profils").click()
    assert dash.path().rstrip("/").endswith("/profils")
    assert dash.current_page_title() == "Profils"
    assert dash.query().get("commune") == [COMMUNE], f"commune filter lost in {dash.page.url}"
    assert dash.multiselect("Commune") == [COMMUNE]
    assert dash.problems() == []
    if dash.page.locator("[data-testid=stMetricLabel]").get_by_text("Participants", exact=True).count():
        assert dash.metric("Participants") == fmt.number(doullens)  # the filter applies on this page too


def _commune_chart(dash, known: set[str]):
    """The Plotly bar chart whose category axis lists communes, and that axis ('x' or 'y')."""
    for chart in dash.charts().all():
        if chart.locator(".barlayer .point").count() == 0:
            continue
        for axis in ("y", "x"):
            labels = {t.text_content() for t in chart.locator(f".{axis}tick text").all()}
            if len(labels & known) >= 2:
                return chart, axis
    return None, None


def test_clicking_a_commune_bar_filters_the_dashboard(dash, routes, sample_db):
    route = routes["pages/profils.py"]
    dash.open(route.path)
    assert dash.problems() == []
    known = set(communes(sample_db))
    chart, axis = _commune_chart(dash, known)
    if chart is None:
        if not re.search(r"filter_key\s*=\s*[\"']commune[\"']", route.source):
            pytest.skip(f"{route.file} has no clickable commune chart yet (no `filter_key=\"commune\"`: page still being built)")
        pytest.fail(f"{route.title}: declares a commune click filter but shows no Plotly bar chart with communes on its axis")

    # Click the largest bar (its centre), and expect the commune whose tick label faces it.
    chart.scroll_into_view_if_needed()
    bars = [b.bounding_box() for b in chart.locator(".barlayer .point path").all()]
    bars = [b for b in bars if b and b["width"] > 0 and b["height"] > 0]
    bar = max(bars, key=lambda b: b["width"] * b["height"])
    centre = {"x": bar["x"] + bar["width"] / 2, "y": bar["y"] + bar["height"] / 2}
    ticks = [(t.text_content(), t.bounding_box()) for t in chart.locator(f".{axis}tick text").all()]
    expected = min((t for t in ticks if t[1] and t[0] in known),
                   key=lambda t: abs(t[1][axis] + t[1]["height" if axis == "y" else "width"] / 2 - centre[axis]))[0]
    assert "commune" not in dash.query()

    with dash.rerun():
        dash.page.mouse.click(centre["x"], centre["y"])
    dash.page.wait_for_url("**commune=**", timeout=15_000)
    assert dash.query().get("commune") == [expected]
    assert dash.multiselect("Commune") == [expected]
    assert dash.current_page_title() == route.title
    assert dash.problems() == []


def test_date_range_in_url_opens_in_dates_mode(dash, sample_db):
    start, end = date(YEAR, 1, 1), date(YEAR, 6, 30)
    expected = engine(sample_db, Period(start, end))["participants"]

    dash.open("", debut=start.isoformat(), fin=end.isoformat())
    assert dash.problems() == []
    assert dash.segmented("Période") == "Dates"
    sidebar = dash.page.locator("[data-testid=stSidebar]")
    shown = "".join(sidebar.locator("[data-testid=stDateInput]").all_inner_texts()).replace("\n", "").replace(" ", "")
    assert fmt.day(start) in shown and fmt.day(end) in shown, shown
    assert f"du {fmt.day(start)} au {fmt.day(end)}" in sidebar.inner_text()
    assert dash.metric("Participants") == fmt.number(expected)


def test_copy_link_button_puts_the_view_address_in_the_clipboard(dash, routes):
    """Issue 16: « Copier le lien » copies the page's address with its filters."""
    dash.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=dash.base_url)
    dash.open(routes["pages/file_active.py"].path, commune="Doullens")
    button = dash.page.get_by_role("button", name="Copier le lien de cette vue")
    assert button.count() == 1
    button.click()
    dash.page.wait_for_function("() => document.querySelector('.coaching-copy-status').textContent.length > 0")
    copied = dash.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == dash.page.url and "commune=Doullens" in copied and "/file-active" in copied
