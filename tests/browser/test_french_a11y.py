"""Accessibility (axe-core, WCAG 2.1 AA) and French on every page, in Chromium (issue 16, points 5 and 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import PAGES
from ui.french import TEXTS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
# the English strings of the toolkit that must not be seen (those whose French is a different word)
ENGLISH = sorted(s for s, fr in TEXTS.items() if s != fr) + ["Page not found", "Running the app's main page"]
_ATTRS_JS = """() => [...document.querySelectorAll('[aria-label],[title],[data-title],[placeholder]')]
  .flatMap(e => ['aria-label', 'title', 'data-title', 'placeholder'].map(a => e.getAttribute(a)).filter(Boolean))"""


def axe_violations(page) -> list[str]:
    result = Axe().run(page, options=AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:200]}"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def english_left(page) -> list[str]:
    """Listed English strings of the toolkit found as a whole line of text or a whole attribute value."""
    text = page.locator("body").inner_text()
    lines = {line.strip() for line in text.splitlines()}
    attrs = {a.strip() for a in page.evaluate(_ATTRS_JS)}
    found = [s for s in ENGLISH if s in lines or s in attrs]
    found += re.findall(r"\d+\s*MB per file|Page not found|\bNone\b", text)
    return found


@pytest.mark.parametrize("page_file", PAGES, ids=[Path(p).stem for p in PAGES])
def test_page_accessible_and_french(dash, routes, page_file):
    route = routes[page_file]
    dash.open(route.path)
    assert dash.problems() == []
    assert axe_violations(dash.page) == []
    assert english_left(dash.page) == []
    assert dash.page.title() == f"{route.title} — Coaching Emploi"  # one tab title per page
    # every chart has its text alternative: a summary as accessible name, its data behind « Voir les données »
    charts = dash.page.locator("[data-testid=stMain] [data-testid=stPlotlyChart]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        name = chart.get_attribute("aria-label") or ""
        assert chart.get_attribute("role") == "figure" and len(name) > 10, f"chart {i} of {route.title} has no accessible name"
    expanders = dash.page.locator("[data-testid=stMain] [data-testid=stExpander]").filter(has_text="Voir les données")
    assert expanders.count() >= charts.count() - dash.page.locator("[data-testid=stMain] .js-plotly-plot:not(:has(.trace))").count() - 1 \
        or charts.count() == 0


def test_menu_icons_are_material_not_emoji(dash):
    dash.open("")
    icons = dash.page.locator("[data-testid=stSidebarNavLink] [data-testid=stIconMaterial]")
    links = dash.page.locator("[data-testid=stSidebarNavLink]")
    assert links.count() >= 8 and icons.count() == links.count()
    assert not re.search(r"[\U0001F300-\U0001FAFF]", dash.page.locator("[data-testid=stSidebarNav]").inner_text())


def test_uploader_and_multiselect_in_french(dash, routes):
    dash.open(routes["pages/donnees.py"].path)
    uploader = dash.page.locator("[data-testid=stFileUploaderDropzone]")
    text = uploader.inner_text()
    assert "Mo par fichier" in text and "Parcourir" in text, text
    assert "MB" not in text and "Upload" not in text and "Drag" not in text and "Browse" not in text
    # a sidebar multiselect's list offers « Tout sélectionner », not « Select all »
    dash.sidebar_widget("stMultiSelect", "Commune").locator("input").click()
    dash.page.wait_for_timeout(400)
    listbox = dash.page.locator("[role=listbox], [data-baseweb=popover]")
    assert "Select all" not in listbox.all_inner_texts().__str__()
    assert english_left(dash.page) == []


def test_table_and_chart_toolbars_in_french(dash, routes):
    dash.open(routes["pages/file_active.py"].path)
    table = dash.page.locator("[data-testid=stMain] [data-testid=stDataFrame]:visible").last
    table.hover()
    dash.page.wait_for_timeout(400)
    labels = set(dash.page.evaluate(_ATTRS_JS))
    assert "Télécharger (CSV)" in labels or "Rechercher" in labels or "Plein écran" in labels, sorted(labels)[:40]
    chart = dash.page.locator("[data-testid=stMain] .js-plotly-plot:visible").first
    chart.hover()
    dash.page.wait_for_timeout(300)
    titles = set(dash.page.evaluate("() => [...document.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title'))"))
    assert titles and all(t and not t.startswith(("Download", "Zoom", "Pan", "Reset", "Autoscale")) for t in titles), titles
    assert english_left(dash.page) == []


def test_overview_own_address_and_unknown_address(dash):
    dash.open("vue-ensemble")  # with the report year in the address: a parameter bound to a filter widget
    assert dash.problems() == []
    assert dash.page.locator("h1").first.inner_text().strip().startswith("Vue d'ensemble")
    assert dash.page.get_by_text("Positionnés", exact=True).count() >= 1
    dash.open("nulle-part")
    assert dash.problems() == []
    assert dash.page.get_by_text("ne correspond à aucune page", exact=False).count() == 1
    assert english_left(dash.page) == []
