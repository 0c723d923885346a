"""Who sees what in the dashboard (AppTest): the diffusion mode shows no count below k on any page, the figures
of the KPI cards are the suppressed figures; roles (partenaire, analyste of one territory) and logging out.

`leaks(at, k)` scans what a run shows: every metric value, the Plotly JSON of every chart (bars, pies, heatmaps,
Sankey links and node labels, lines of counts, boxes, map values and hover texts, axis tick labels), every
dataframe cell — for a count strictly between 0 and k. Zeros are published (analytics.diffusion), rates and
medians are not counts."""

from __future__ import annotations

import json
import re

import pytest

from coaching_test_helpers import PAGES

K = 11
# metrics that are not counts of persons (months, communes, days, a rate per inhabitant)
NOT_PERSONS_METRICS = ("Mois à l'objectif", "Communes de résidence", "Intercommunalités", "Délai médian", "Durée médiane",
                       "Pour 1 000", "1ers RDV", "Taux")
NOT_PERSONS_COLUMNS = {"Communes", "Population", "Code INSEE", "Mois", "Pour 1 000 hab.", "Part", "Taux de sorties positives",
                       "Écart à l'objectif", "Évolution",
                       "Entrées nécessaires", "Prescriptions nécessaires",  # targets derived from a forecast, not persons
                       "Colonne", "Libellé", "Obligatoire", "Renseignées", "Complétude"}
LEAD = re.compile(r"^\s*(\d[\d\u00a0\u202f ]*)([,.]\d+)?[\s\u00a0]*(%|j\b|mois|pts)?")
WHOLE = re.compile(r"^[−+-]?\d[\d\u00a0\u202f ]*$")
RATE_TRACES = ("Taux", "Objectif")


def _count(text) -> int | None:
    """The count a text starts with (« 5 », « 5 (4 %) »), None for a rate, a decimal or a duration."""
    m = LEAD.match(str(text))
    if not m or m.group(2) or m.group(3):
        return None
    return int(re.sub(r"\D", "", m.group(1)))


def _small(v, k=K) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < abs(v) < k and float(v).is_integer()


def chart_leaks(spec: dict, k: int = K, where: str = "") -> list:
    out = []

    def values(vals, what, name, typ):
        for v in vals or []:
            if isinstance(v, list):
                values(v, what, name, typ)
            elif _small(v, k):
                out.append((where, typ, name, what, v))

    def texts(vals, what, name, typ):
        for v in vals if isinstance(vals, list) else []:
            if isinstance(v, list):
                texts(v, what, name, typ)
            elif (n := _count(v)) is not None and 0 < n < k:
                out.append((where, typ, name, what, v))

    for t in spec.get("data", []):
        typ, name = t.get("type", "scatter"), str(t.get("name") or "")
        if typ == "bar":
            values(t.get("x") if t.get("orientation") == "h" else t.get("y"), "value", name, typ)
            texts(t.get("text"), "text", name, typ)
        elif typ == "pie":
            values(t.get("values"), "values", name, typ)
            texts(t.get("text"), "text", name, typ)
        elif typ == "heatmap":
            values(t.get("z"), "z", name, typ)
            texts(t.get("text"), "text", name, typ)
        elif typ == "sankey":
            values(t["link"].get("value"), "link", name, typ)
            for label in t["node"].get("label", []):
                if (m := re.search(r"\((\d+)\)", label)) and 0 < int(m.group(1)) < k:
                    out.append((where, typ, name, "node", label))
        elif typ in ("scatter", "scattergl"):
            if not name.startswith(RATE_TRACES):
                values(t.get("y"), "y", name, typ)
                texts(t.get("text"), "text", name, typ)
        elif typ == "box":
            if t.get("boxpoints") is not False:
                out.append((where, typ, name, "individual points", t.get("boxpoints")))
            if 0 < len(t.get("x") or t.get("y") or []) < k:
                out.append((where, typ, name, "n", len(t.get("x") or t.get("y"))))
        elif typ == "choropleth":
            if name in ("Participants", "Positionnés"):
                values(t.get("z"), "z", name, typ)
            for text in t.get("text") or []:
                for m in re.finditer(r"(Positionnés|participants|Sorties positives) : (\d+)", str(text)):
                    if 0 < int(m.group(2)) < k:
                        out.append((where, typ, name, "hover", m.group(0)))
    for axis, layout in spec.get("layout", {}).items():
        if axis.startswith(("xaxis", "yaxis")) and isinstance(layout, dict):
            for tick in layout.get("ticktext") or []:
                if (m := re.search(r"\((\d+)\)", str(tick))) and 0 < int(m.group(1)) < k:
                    out.append((where, "layout", axis, "ticktext", tick))
    return out


def leaks(at, k: int = K, where: str = "") -> list:
    """Every count 0 < v < k that an AppTest run shows (see the module docstring)."""
    out = []
    for m in at.metric:
        if not m.label.startswith(NOT_PERSONS_METRICS) and (n := _count(m.value)) is not None and 0 < n < k:
            out.append((where, "metric", m.label, m.value))
    for chart in at.get("plotly_chart"):
        out += chart_leaks(json.loads(chart.proto.spec), k, f"{where}:{chart.proto.id.rsplit('-', 1)[-1]}")
    for frame in at.dataframe:
        df = frame.value
        for col in df.columns:
            if str(col) in NOT_PERSONS_COLUMNS:
                continue
            for v in df[col].tolist():
                n = v if isinstance(v, (int, float)) and not isinstance(v, bool) else (
                    int(re.sub(r"\D", "", v)) if isinstance(v, str) and WHOLE.match(v) else None)
                if n is not None and 0 < n < k:
                    out.append((where, "dataframe", str(col), v))
    return out


def test_the_scanner_sees_small_counts(app):
    """Without the diffusion mode the sample does show counts below 11 (the scanner is not blind)."""
    at = app("pages/profils.py")
    found = leaks(at, K, "profils")
    assert any(kind == "dataframe" for _, kind, *_ in found) and any(kind == "bar" for _, kind, *_ in found)


# ---------------------------------------------------------------- the diffusion mode


SHOWN = [p for p in PAGES if p != "pages/donnees.py"]


@pytest.mark.parametrize("page", SHOWN)
@pytest.mark.parametrize("query", [{}, {"commune": "Doullens"}, {"commune": "Liomer"}])
def test_diffusion_mode_shows_no_count_below_k(app, page, query):
    at = app(page, diffusion="true", **query)
    assert not at.exception, [e.value for e in at.exception]
    assert leaks(at, K, page) == []


def test_diffusion_mode_kpis_are_the_suppressed_figures(app, sample_db):
    from analytics.diffusion import denominators, suppress_figures
    from analytics.indicators import Filters, Period, compute_indicators, dataset
    from analytics.store import connect_readonly

    con = connect_readonly(sample_db)
    try:
        p = Period.year(2023)
        fig = suppress_figures(compute_indicators(con, p), K, denominators=denominators(dataset(con, p, Filters())))
    finally:
        con.close()
    at = app("pages/activite.py", diffusion="true")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Immersions → contrat"] == "< 11" == fig["immersions"]["led_to_contract"]
    assert metrics["Immersions (PMSMP)"] == "48"
    home = app(diffusion="true")  # (AppTest keeps the sidebar of the first run only)
    assert home.sidebar.toggle(key="diffusion").value is True
    assert any("Mode diffusion" in c.value for c in home.sidebar.caption)
    at = app("pages/parcours.py", diffusion="true")
    tables = [f.value for f in at.dataframe]
    reasons = next(t for t in tables if "Motif de sortie" in t.columns)
    shown = dict(zip(reasons["Motif de sortie"], reasons["Sorties"]))
    assert shown["Santé"] == "< 11" and shown["Fin de suivi"] == "18" and shown["Total"] == "76"


def test_diffusion_off_by_default_and_toggled_from_the_sidebar(app):
    at = app()
    assert at.sidebar.toggle(key="diffusion").value is False
    at.switch_page("pages/activite.py").run()
    assert {m.label: m.value for m in at.metric}["Immersions → contrat"] == "2"
    at = app()
    at.sidebar.toggle(key="diffusion").set_value(True).run()
    at.switch_page("pages/activite.py").run()
    assert {m.label: m.value for m in at.metric}["Immersions → contrat"] == "< 11"


# ---------------------------------------------------------------- roles, on a synthetic store with several territories

from pathlib import Path  # noqa: E402

from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mot-de-passe-de-test"
YEAR = "2024"
ACCOUNTS = {"admin": ("admin", []), "dir": ("direction", []), "ana": ("analyste", ["Vimeu"]),
            "par": ("partenaire", ["5 vallées"])}


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory) -> Path:
    """3 000 synthetic persons over four territory/action pairs (5 vallées, Vimeu, Haute Somme)."""
    from analytics.extract import load_extract
    from analytics.sample import synthetic_extract, write_extract
    from analytics.store import import_extract

    folder = tmp_path_factory.mktemp("synthetic")
    write_extract(synthetic_extract(3000, seed=11), folder / "extract")
    db = folder / "coaching.duckdb"
    import_extract(load_extract(folder / "extract"), db)
    return db


@pytest.fixture
def accounts(synthetic_db, tmp_path, monkeypatch):
    from analytics.auth import add_user

    users = tmp_path / "users.json"
    monkeypatch.setenv("COACHING_DB", str(synthetic_db))
    monkeypatch.setenv("COACHING_USERS", str(users))
    monkeypatch.setenv("COACHING_AUDIT", str(tmp_path / "audit.jsonl"))
    for name, (role, territories) in ACCOUNTS.items():
        add_user(name, role, PASSWORD, territories, path=users)
    return tmp_path / "audit.jsonl"


def login(name: str, password: str = PASSWORD, page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    for key, value in {"annee": YEAR, **query}.items():
        at.query_params[key] = value
    at.run()
    assert not at.metric and not at.get("plotly_chart")  # nothing but the login form before logging in
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(password)
    at.button[0].click().run()
    if page:
        at.switch_page(page).run()
    return at


def engine(db: Path, **filters) -> dict:
    from analytics.indicators import Filters, Period, compute_indicators
    from analytics.store import connect_readonly

    con = connect_readonly(db)
    try:
        return compute_indicators(con, Period.year(int(YEAR)), Filters(**filters))
    finally:
        con.close()


def test_login_form_refuses_a_wrong_password(accounts):
    at = login("ana", "pas-le-bon-mot-de-passe")
    assert not at.metric and any("incorrect" in e.value for e in at.error)
    from analytics import audit

    assert [(e["event"], e["user"]) for e in audit.read(accounts)][-1] == ("login_failed", "ana")


def data_of(chart) -> str:
    """A chart's traces as JSON, without the map's background geometry (the public INSEE contours of every commune)."""
    spec = json.loads(chart.proto.spec)
    return json.dumps([{k: v for k, v in trace.items() if k != "geojson"} for trace in spec.get("data", [])], ensure_ascii=False)


def refused_data_page(at: AppTest) -> bool:
    """The Données page is not in the navigation; and the page file run on its own (AppTest, once it has switched
    pages, runs page files without the router, like a deep link on a server without `ui.launch`) refuses."""
    at.switch_page("pages/vue_ensemble.py").run()
    at.switch_page("pages/donnees.py").run()
    return (any("réservée" in e.value for e in at.error) and not at.get("tabs") and not at.button
            and not at.get("file_uploader"))


def test_partner_sees_no_count_below_k_and_no_data_page(accounts):
    for query in ({}, {"diffusion": "false"}, {"commune": "Liomer"}):
        at = login("par", **query)
        assert not at.exception
        assert at.sidebar.toggle(key="diffusion").value is True and at.sidebar.toggle(key="diffusion").disabled
        # the Données page is not in the partner's menu (tests/browser/test_roles.py); a link to it gets a refusal
        for page in SHOWN:
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert leaks(at, K, page) == [], query
        assert refused_data_page(at)


def test_analyst_of_a_territory_gets_nothing_of_another_even_with_a_crafted_url(accounts, synthetic_db):
    vimeu, other = engine(synthetic_db, territory=("Vimeu",)), engine(synthetic_db, territory=("Haute Somme",))
    assert vimeu["positioned"] != other["positioned"]
    at = login("ana", territoire="Haute Somme")
    assert at.sidebar.multiselect(key="territoire").options == ["Vimeu"]
    assert "Haute Somme" not in str(at.sidebar.multiselect(key="commune").options)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Positionnés"] == str(vimeu["positioned"]) and metrics["Participants"] == str(vimeu["participants"])
    other_communes = set(other["commune"]) - set(vimeu["commune"])
    assert other_communes
    at.switch_page("pages/territoire.py").run()
    shown = " ".join(str(v) for f in at.dataframe for v in f.value.to_numpy().ravel())
    assert not [c for c in other_communes if c in shown]
    at.switch_page("pages/profils.py").run()
    charts = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert not [c for c in other_communes if c in charts]
    # every page of the analyst's navigation, run with the crafted URL: the Haute Somme figures never show
    for page in SHOWN:
        at.switch_page(page).run()
        assert not at.exception, page
        assert not [c for c in other_communes if c in " ".join(data_of(ch) for ch in at.get("plotly_chart"))], page
    assert refused_data_page(at)


def test_logging_out(accounts):
    from analytics import audit

    at = login("ana")
    assert at.metric
    at.sidebar.button(key="auth_logout").click().run()
    assert not at.metric and at.text_input(key="auth_name") is not None
    assert [e["event"] for e in audit.read(accounts)][-2:] == ["login", "logout"]
    assert all(set(e) <= {"at", "user", "role", "event", "period", "filters", "detail"} for e in audit.read(accounts))


def test_admin_imports_direction_does_not(accounts):
    at = login("admin", page="pages/donnees.py")
    assert not at.exception and at.get("file_uploader")
    assert not any("réservé aux administrateurs" in i.value for i in at.info)
    at = login("dir", page="pages/donnees.py")
    assert not at.exception and at.button(key="donnees_import").disabled
    assert any("réservé aux administrateurs" in i.value for i in at.info)


def test_no_configuration_is_the_single_user_local_mode(app):
    at = app()
    assert any("Mode local mono-utilisateur" in c.value for c in at.sidebar.caption)
    assert at.metric  # no login form


def test_presentation_mode_in_diffusion_shows_no_count_below_k(app):
    at = app(presentation="true", diffusion="true", commune="Doullens")
    slides = 0
    while True:
        assert not at.exception, [e.value for e in at.exception]
        assert leaks(at, K, f"slide {slides}") == []
        slides += 1
        before = at.session_state["presentation_slide"]
        at.button(key="presentation_next").click().run()
        if at.session_state["presentation_slide"] == before:  # the last slide (the map)
            break
    assert slides > 10


def test_partner_reports_are_suppressed(accounts):
    at = login("par", page="pages/rapports.py")
    audience = at.radio(key="rapports_audience")
    assert audience.value == "diffusion" and audience.disabled
    names = next(c.value for c in at.caption if c.value.startswith("Nom des fichiers"))
    assert "-diffusion.pdf" in names and "-diffusion.xlsx" in names


# ---------------------------------------------------------------- the same page does not give a masked figure back


def test_parcours_sankey_and_tables_agree_in_diffusion_mode(app):
    """The Sankey drawn from the dataset shows no link whose figure is masked in the tables beside it (positive
    exits = Emploi + Formation would otherwise give a masked reason back by difference)."""
    from analytics import diffusion as D

    at = app("pages/parcours.py", diffusion="true")
    tables = [f.value for f in at.dataframe]
    reasons = next(t for t in tables if "Motif de sortie" in t.columns)
    masked = {r for r, v in zip(reasons["Motif de sortie"], reasons["Sorties"]) if v in ("< 11", "masqué")}
    assert masked
    sankey = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("parcours_sankey"))
    trace = sankey["data"][0]
    labels = [re.sub(r" \(.*\)$", "", label) for label in trace["node"]["label"]]
    shown = {labels[t] for s, t, v in zip(trace["link"]["source"], trace["link"]["target"], trace["link"]["value"])
             if v and labels[s] == "Participants"}
    assert not shown & masked, shown & masked
    assert D.DEFAULT_K == K


def test_profils_grid_keeps_its_margins_protected(app):
    """Sex × household as published next to the sex and household tables: no row or column of the grid (its
    margins being those tables' figures) holds a single unknown."""
    at = app("pages/profils.py", diffusion="true", commune="Doullens")
    frames = {tuple(f.value.columns): f.value for f in at.dataframe}
    grid = next(v for k, v in frames.items() if "Situation familiale" in k and "Femme" in k)
    cells = {(r, c): grid[c][i] for i, r in enumerate(grid["Situation familiale"]) for c in ("Femme", "Homme")}
    masked = {key for key, v in cells.items() if v in ("< 11", "masqué")}
    rows = {r for r, _ in cells}
    household = next(v for k, v in frames.items() if k[0] == "Situation familiale" and "Part" in k)
    sex = next(v for k, v in frames.items() if k[0] == "Sexe")
    row_margin = dict(zip(household["Situation familiale"], household["Personnes"]))
    col_margin = dict(zip(sex["Sexe"], sex["Personnes"]))
    for r in rows:  # each household: its two cells and its margin (the household table)
        unknowns = [c for c in ("Femme", "Homme") if (r, c) in masked] + (["margin"] if row_margin.get(r, "0") in ("< 11", "masqué") else [])
        assert len(unknowns) != 1, (r, unknowns)
    for c in ("Femme", "Homme"):  # each sex: its cells and its margin (the sex table)
        unknowns = [r for r in rows if (r, c) in masked] + (["margin"] if col_margin.get(c, "0") in ("< 11", "masqué") else [])
        assert len(unknowns) != 1, (c, unknowns)
    assert masked  # Doullens (19 participants) has small cells to protect
