"""Issue 16 in Chromium: the data date on the pages, a year in progress clipped, the objective dropped under a
cross-cutting filter, a masked chart that says why."""

from __future__ import annotations

from contextlib import closing

import pytest

from analytics import fmt
from analytics.indicators import Period, data_date
from analytics.store import connect_readonly

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _data_date(sample_db):
    with closing(connect_readonly(sample_db)) as con:
        return data_date(con)


def _traces(dash, chart_index: int) -> list[dict]:
    return dash.page.evaluate(f"""() => {{
        const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[{chart_index}];
        return (el.data || []).map(t => ({{name: t.name || '', x: t.x || [], y: t.y || []}}));
    }}""")


def test_every_page_shows_the_data_date(dash, routes, sample_db):
    expected = f"Données au {fmt.day(_data_date(sample_db))}"
    for page_file in ("pages/vue_ensemble.py", "pages/territoire.py", "pages/rapports.py"):
        dash.open(routes[page_file].path)
        assert dash.problems() == []
        assert expected in dash.page.locator("[data-testid=stMain]").inner_text(), page_file


def test_year_in_progress_is_clipped_on_the_caseload_chart(dash, routes, sample_db):
    latest = _data_date(sample_db)
    if (latest.month, latest.day) == (12, 31):
        pytest.skip("the data end on a 31 December: no year in progress")
    dash.open(routes["pages/file_active.py"].path, annee=str(latest.year))
    assert dash.problems() == []
    main = dash.page.locator("[data-testid=stMain]").inner_text()
    assert fmt.period_text(Period.year(latest.year).clip(latest)).capitalize() in main
    line = next(t for t in _traces(dash, 0) if t["name"] == "File active")
    assert len(line["x"]) == latest.month  # no month after the data date is drawn


def test_objective_not_drawn_under_a_cross_cutting_filter(dash, routes):
    dash.open(routes["pages/file_active.py"].path, commune="Doullens", prescripteur="Conseil départemental")
    assert dash.problems() == []
    assert not any(t["name"].startswith("Objectif") for t in _traces(dash, 0))
    assert "Objectif non comparé" in dash.page.locator("[data-testid=stMain]").inner_text()
    dash.screenshot("issue16-objective-under-filter")


def test_masked_flows_chart_says_why(dash, routes):
    dash.open(routes["pages/file_active.py"].path, commune="Doullens", diffusion="true")
    assert dash.problems() == []
    chart = dash.page.locator("[data-testid=stMain] .js-plotly-plot").nth(1)
    text = chart.inner_text()
    assert "Aucune donnée" not in text
    assert "masqué" in text or "trim." in text
    dash.screenshot("issue16-flows-diffusion")
