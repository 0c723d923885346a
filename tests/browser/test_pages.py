"""Every page of the dashboard in Chromium: drawn without exception, with its Plotly charts, screenshotted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Pages that must show at least one Plotly chart: the six chart pages of issue 3, and any other page
# whose source draws one (Données is tables and an upload form).
ISSUE_CHART_PAGES = {"pages/vue_ensemble.py", "pages/profils.py", "pages/freins.py", "pages/parcours.py",
                     "pages/file_active.py", "pages/activite.py"}
MIN_CHARTS = 12  # "7 pages and at least 12 Plotly charts" (issue 3, Done means)


def bears_charts(route) -> bool:
    return route.file in ISSUE_CHART_PAGES or any(call in route.source for call in ("ui.chart(", "plotly_chart("))


@pytest.fixture(scope="session")
def chart_counts() -> dict[str, int]:
    """Charts seen per page file, filled by test_page_renders and reused by test_chart_total."""
    return {}


def test_dashboard_declares_every_page(routes):
    assert sorted(routes) == sorted(PAGES), "dashboard.py and tests/conftest.py PAGES disagree"


@pytest.mark.parametrize("page_file", PAGES, ids=[Path(p).stem for p in PAGES])
def test_page_renders(dash, routes, chart_counts, page_file):
    assert page_file in routes, f"{page_file} is in tests/conftest.py PAGES but not declared in dashboard.py"
    route = routes[page_file]
    dash.open(route.path)
    dash.screenshot(route.url_path)  # first, so that a failing page still leaves its picture

    assert dash.current_page_title() == route.title, f"/{route.path} did not open {route.title!r}"
    assert dash.problems() == []
    n = dash.charts().count()
    chart_counts[page_file] = n

    if not bears_charts(route):
        return
    if n == 0 and route.placeholder:
        pytest.skip(f"{page_file} is still a placeholder ('Page en construction'): no chart to check yet "
                    "(rendered without error, screenshot written)")
    assert n >= 1, f"{route.title}: no Plotly chart drawn"
    traces = dash.chart_trace_counts()
    assert all(traces), f"{route.title}: empty chart(s) on the sample's default view (traces per chart: {traces})"


def test_chart_total(dash, routes, chart_counts):
    """At least 12 Plotly charts across the pages (counts reused from test_page_renders when it ran)."""
    assert set(PAGES) <= set(routes), "pages of tests/conftest.py PAGES not declared in dashboard.py"
    for page_file in PAGES:
        if page_file not in chart_counts:
            dash.open(routes[page_file].path)
            chart_counts[page_file] = dash.charts().count()
    total = sum(chart_counts[p] for p in PAGES)
    placeholders = [p for p in PAGES if routes[p].placeholder]
    if total < MIN_CHARTS and placeholders:
        pytest.skip(f"{total} Plotly charts so far, {MIN_CHARTS} required once every page exists; "
                    f"still placeholders: {', '.join(placeholders)}")
    assert total >= MIN_CHARTS, f"only {total} Plotly charts across the pages: {chart_counts}"


# Streamlit turns on its legacy pages-directory mode for a `pages/` folder until the entry point has run
# once; `ui.launch` switches it off, so the first visit after a start may land on a deep link.
def test_deep_link_as_first_visit_after_start(fresh_dash, routes):
    route = routes["pages/file_active.py"]
    fresh_dash.open(route.path)
    assert fresh_dash.problems() == []
    assert fresh_dash.current_page_title() == route.title
    assert fresh_dash.page.locator("[data-testid=stSidebar]").get_by_text("Filtres", exact=True).count() == 1
