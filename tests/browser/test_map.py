"""The Territoire map in Chromium with the network cut off (only the local app answers): the communes are drawn from
the committed GeoJSON, no map tiles nor plotly.js topojson are fetched, and clicking a commune filters the dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from analytics import fmt, geo
from analytics.indicators import Filters, Period, compute_indicators
from analytics.store import connect_readonly

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

YEAR = 2023
SUD_OUEST = "Communauté de communes Somme Sud-Ouest"


def engine(db, filters: Filters = Filters()) -> dict:
    con = connect_readonly(db)
    try:
        return compute_indicators(con, Period.year(YEAR), filters)
    finally:
        con.close()


@pytest.fixture
def offline(dash):
    """Abort every request that does not go to the local app server; returns the list of what was attempted."""
    attempted: list[str] = []

    def handle(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    dash.page.route("**/*", handle)
    return attempted


def map_chart(dash):
    charts = [c for c in dash.charts().all() if c.locator(".choroplethlocation").count()]
    assert len(charts) == 1, f"expected one choropleth on the page, found {len(charts)}"
    return charts[0]


def coloured_codes(dash) -> dict[str, float]:
    """{INSEE code: value} read from the drawn map (plotly's data of the coloured choropleth trace)."""
    return dash.page.evaluate("""() => {
      const el = Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot'))
        .find(e => (e.data || []).some(t => t.type === 'choropleth'));
      const t = el.data.find(t => t.type === 'choropleth' && t.name !== 'Communes du territoire');
      return Object.fromEntries(t.locations.map((c, i) => [c, t.z[i]]));
    }""")


def test_map_renders_without_network(dash, offline, sample_db, routes):
    route = routes["pages/territoire.py"]
    dash.open(route.url_path)
    assert dash.current_page_title() == "Territoire"
    assert dash.problems() == []
    chart = map_chart(dash)
    paths = chart.locator(".choroplethlocation")
    ref = geo.communes_ref()
    f = engine(sample_db)
    expected = ref.filter(ref["epci_nom"].is_in(list(f["epci"]))).height + len(f["commune"])  # outlines + coloured
    assert paths.count() == expected
    assert chart.locator(".scattergeo .point").count() == len(geo.MEETING_PLACES)
    boxes = [paths.nth(i).bounding_box() for i in range(0, paths.count(), 25)]
    assert all(b and b["width"] > 0 and b["height"] > 0 for b in boxes), "communes drawn with no size"
    code_of = dict(ref.select("nom", "code_insee").iter_rows())
    assert coloured_codes(dash) == {code_of[n]: v for n, v in f["commune"].items()}
    assert not [u for u in offline if "plot.ly" in u or "topojson" in u or "tile" in u], offline
    assert offline == [], f"requests outside the app while drawing the map: {offline}"
    dash.screenshot("territoire-hors-ligne")


def test_clicking_a_commune_filters_the_dashboard(dash, offline, sample_db, routes):
    doullens = engine(sample_db, Filters(commune=("Doullens",)))
    dash.open(routes["pages/territoire.py"].url_path)
    chart = map_chart(dash)
    chart.scroll_into_view_if_needed()
    # Doullens' meeting-place marker sits at the commune's centroid: a click there selects Doullens
    marker = chart.locator(".scattergeo .point").nth(list(geo.MEETING_PLACES).index("Doullens"))
    box = marker.bounding_box()
    assert "commune" not in dash.query()
    with dash.rerun():
        dash.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dash.page.wait_for_url("**commune=**", timeout=15_000)
    assert dash.query().get("commune") == ["Doullens"]
    assert dash.multiselect("Commune") == ["Doullens"]
    assert dash.metric("Participants") == fmt.number(doullens["participants"])
    assert coloured_codes(dash) == {"80253": doullens["participants"]}
    assert dash.problems() == []
    assert offline == []


def test_epci_in_the_url_filters_the_map(dash, offline, sample_db, routes):
    f = engine(sample_db, Filters(epci=(SUD_OUEST,)))
    dash.open(routes["pages/territoire.py"].url_path, epci=SUD_OUEST)
    assert dash.problems() == []
    assert dash.multiselect("EPCI") == [SUD_OUEST]
    assert dash.metric("Participants") == fmt.number(f["participants"])
    code_of = dict(geo.communes_ref().select("nom", "code_insee").iter_rows())
    assert coloured_codes(dash) == {code_of[n]: v for n, v in f["commune"].items()}
    assert offline == []
