"""The Territoire page through AppTest on the reference sample: the choropleth carries the engine's commune figures
keyed by INSEE code, the metric switch, the EPCI URL filter, clicking a commune on the map filters the dashboard."""

from __future__ import annotations

import json

import polars as pl
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from analytics import geo
from analytics.indicators import Filters, Period, compute_indicators, dataset
from analytics.indicators import territory
from analytics.store import connect_readonly

PAGE = "pages/territoire.py"
Y2023 = Period.year(2023)
MAP = "territoire_carte"
SUD_OUEST = "Communauté de communes Somme Sud-Ouest"


def engine(db, filters: Filters = Filters()) -> dict:
    con = connect_readonly(db)
    try:
        return compute_indicators(con, Y2023, filters)
    finally:
        con.close()


def table(db, filters: Filters = Filters()) -> pl.DataFrame:
    con = connect_readonly(db)
    try:
        return territory.commune_table(dataset(con, Y2023, filters), geo.communes_ref())
    finally:
        con.close()


def specs(at) -> dict[str, dict]:
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def coloured(spec: dict) -> dict[str, float]:
    """{INSEE code: value} of the map's coloured trace (the outlines-only trace is left out)."""
    traces = [t for t in spec["data"] if t["type"] == "choropleth" and t["name"] != "Communes du territoire"]
    assert len(traces) == 1, [t.get("name") for t in spec["data"]]
    return dict(zip(traces[0]["locations"], traces[0]["z"]))


def outlined(spec: dict) -> set[str]:
    return set(next(t for t in spec["data"] if t.get("name") == "Communes du territoire")["locations"])


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_sound(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Territoire"


def codes(mapping: dict[str, int]) -> dict[str, int]:
    code_of = dict(geo.communes_ref().select("nom", "code_insee").iter_rows())
    return {code_of[name]: n for name, n in mapping.items()}


def test_map_carries_the_engine_commune_counts_by_insee_code(app, sample_db):
    f = engine(sample_db)
    at = app(PAGE)
    assert_sound(at)
    spec = specs(at)[MAP]
    assert coloured(spec) == codes(f["commune"])  # e.g. Doullens 80253: 19
    assert len(coloured(spec)) == 11
    # the whole of the three EPCIs is outlined; offline: no base layer, first trace a lon/lat scatter
    ref = geo.communes_ref()
    assert outlined(spec) == set(ref.filter(pl.col("epci_nom").is_in(list(f["epci"])))["code_insee"])
    assert spec["layout"]["geo"]["visible"] is False and spec["layout"]["geo"]["fitbounds"] == "locations"
    places = spec["data"][0]
    assert places["type"] == "scattergeo" and places["text"] == list(geo.MEETING_PLACES)
    assert all(t["featureidkey"] == "properties.code" for t in spec["data"] if t["type"] == "choropleth")
    # the EPCI bars and the KPI cards are the engine's
    bars = specs(at)["territoire_epci"]["data"][0]
    assert dict(zip(bars["y"], bars["x"])) == f["epci"]
    m = metrics(at)
    assert m["Participants"] == "117" and m["Communes de résidence"] == "11" and m["Intercommunalités (EPCI)"] == "3"
    # the tables: one row per commune, one per EPCI, every figure a help tooltip
    assert [len(d.value) for d in at.dataframe] == [3, 11]
    assert len([m for m in at.markdown if m.proto.help]) >= 3


@pytest.mark.parametrize("metric", ["per_1000", "positioned", "positive_exit_rate"])
def test_metric_switch(app, sample_db, metric):
    at = app(PAGE)
    at.radio(key="territoire_indicateur").set_value(metric).run()
    assert_sound(at)
    expected = table(sample_db)
    values = {code: v for code, v in expected.select("code", metric).iter_rows()
              if v is not None and (metric == "positive_exit_rate" or v > 0)}
    assert coloured(specs(at)[MAP]) == pytest.approx(values)
    if metric == "positive_exit_rate":
        doullens = engine(sample_db, Filters(commune=("Doullens",)))
        assert coloured(specs(at)[MAP])["80253"] == doullens["positive_exit_rate"]


def test_epci_in_the_url_filters_every_page(app, sample_db):
    f = engine(sample_db, Filters(epci=(SUD_OUEST,)))
    assert 0 < f["participants"] < 117
    at = app(PAGE, epci=SUD_OUEST)
    assert_sound(at)
    assert at.session_state["epci"] == [SUD_OUEST]
    assert metrics(at)["Participants"] == str(f["participants"])
    spec = specs(at)[MAP]
    assert coloured(spec) == codes(f["commune"])
    assert outlined(spec) == set(geo.communes_ref().filter(pl.col("epci_nom") == SUD_OUEST)["code_insee"])
    # the same filter on the overview page
    at.switch_page("pages/vue_ensemble.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Participants"] == str(f["participants"])


def click_commune(at, code: str):
    """What the browser sends when a commune of the map is clicked: the chart's selection state (JSON), then Streamlit
    runs the on_select callback and the script (AppTest has no API for chart selections)."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + MAP))
    assert chart.proto.selection_mode, "the map is not selectable"
    states = at._tree.get_widget_states()
    state = WidgetState(id=chart.proto.id)
    state.string_value = json.dumps({"selection": {"points": [{"location": code, "z": 19, "curve_number": 2,
                                                               "point_number": 0, "point_index": 0,
                                                               "customdata": [code]}],
                                                   "point_indices": [0], "box": [], "lasso": []}})
    states.widgets.append(state)
    return at._run(states)


def test_clicking_a_commune_on_the_map_filters_the_dashboard(app, sample_db):
    doullens = engine(sample_db, Filters(commune=("Doullens",)))
    at = app(PAGE)
    click_commune(at, "80253")
    assert_sound(at)
    assert at.session_state["commune"] == ["Doullens"]
    assert metrics(at)["Participants"] == str(doullens["participants"])
    assert coloured(specs(at)[MAP]) == {"80253": doullens["participants"]}
    at.switch_page("pages/profils.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["commune"] == ["Doullens"]


def test_clicking_a_meeting_place_filters_too(app, sample_db):
    """A click on a meeting place's marker carries no `location`: the commune comes from its customdata."""
    at = app(PAGE)
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + MAP))
    states = at._tree.get_widget_states()
    state = WidgetState(id=chart.proto.id)
    state.string_value = json.dumps({"selection": {"points": [{"lon": 2.3, "lat": 50.1, "curve_number": 0, "point_index": 5,
                                                               "customdata": ["80711"]}],
                                                   "point_indices": [5], "box": [], "lasso": []}})
    states.widgets.append(state)
    at._run(states)
    assert_sound(at)
    assert at.session_state["commune"] == ["Saint-Ouen"]


def test_empty_selection_shows_an_empty_state(app):
    at = app(PAGE, debut="2015-01-01", fin="2015-06-30")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("plotly_chart")
    assert any("Aucune personne ne correspond" in i.value for i in at.info)


def test_copil_pdf_has_the_map(sample_db, tmp_path, monkeypatch):
    """The COPIL pack ends with the Territoire map and its table per EPCI (charts captured instead of exported)."""
    import io

    from PIL import Image
    from pypdf import PdfReader

    from analytics.reports.pdf import build_pdf

    drawn = []
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buf, format="PNG")

    def fake_png(fig, width=900, height=None, scale=2):
        drawn.append(fig)
        return buf.getvalue()

    monkeypatch.setattr("analytics.reports.pdf.fig_png", fake_png)
    out = tmp_path / "copil.pdf"
    con = connect_readonly(sample_db)
    try:
        build_pdf(con, Y2023, Filters(), out)
    finally:
        con.close()
    maps = [f for f in drawn if any(t.type == "choropleth" for t in f.data)]
    assert len(maps) == 1
    assert coloured(maps[0].to_plotly_json()) == codes(engine(sample_db)["commune"])
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages).replace("\u00a0", " ")
    assert "Territoire : participants par commune" in text
    assert "117 participants résident dans 11 communes de 3 intercommunalités" in text
    assert "Doullens (19, soit 3,11 pour 1 000 habitants)" in text


def test_clicking_a_commune_where_nobody_lives_says_so_and_keeps_the_filter(app, sample_db):
    """Issue 16: a commune of the map with no participant used to set `?commune=…` while the filter stayed « Toutes »."""
    at = app(PAGE)
    outline = outlined(specs(at)[MAP])
    lived = set(coloured(specs(at)[MAP]))
    code = sorted(outline - lived)[0]  # a commune of the territory where no one of the data lives
    name = geo.lookup().by_code[code]["nom"]
    click_commune(at, code)
    assert_sound(at)
    assert not at.session_state["commune"]  # the filter is unchanged (all communes) …
    assert "commune" not in at.query_params  # … and so is the URL
    assert any(name in i.value and "n'est pas modifié" in i.value for i in at.info)


def test_map_explains_its_orange_dots_in_a_legend(app):
    at = app(PAGE)
    spec = specs(at)[MAP]
    places = [t for t in spec["data"] if t.get("name") == "Lieux de rendez-vous"]
    assert places and places[0].get("showlegend") is True and spec["layout"].get("showlegend") is True
