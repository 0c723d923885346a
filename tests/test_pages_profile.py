"""Profils, Freins, Parcours et sorties: the sex × household frame by hand, and the three pages through AppTest on
the reference sample — no exception, the engine's numbers in the Plotly JSON, the empty state, click-to-filter."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from analytics import schema as S
from analytics.charts import profile as profile_charts
from analytics.indicators import Filters, Period, compute, compute_indicators, empty_dataset
from analytics.indicators.base import Dataset, persons_schema
from analytics.indicators.profile import sex_by_household
from analytics.store import connect_readonly

P = Period.year(2023)
PAGES = ["pages/profils.py", "pages/freins.py", "pages/parcours.py"]


# ---------------------------------------------------------------- sex × household, by hand


def _persons(rows: list[tuple]) -> pl.DataFrame:
    """rows: (id, sexe, situation_familiale, date_entree, date_sortie)."""
    empty = empty_dataset(P).persons
    out = []
    for pid, sexe, foyer, entree, sortie in rows:
        row = {c: None for c in empty.columns}
        row.update(id_participant=pid, action=S.DEFAULT_ACTION, territoire=S.DEFAULT_TERRITORY, date_prescription=date(2022, 1, 1),
                   prescripteur="Pôle emploi", commune="Doullens", sexe=sexe, age=30, niveau_formation=3, statut="RSA",
                   situation_familiale=foyer, frein_principal="Mobilité", date_entree=entree and date.fromisoformat(entree),
                   date_sortie=sortie and date.fromisoformat(sortie), motif_sortie=sortie and "Abandon",
                   motif_non_entree=None if entree else "En attente")
        out.append(row)
    return pl.DataFrame(out, schema=persons_schema())


def test_sex_by_household_by_hand():
    alone_with, couple = "Seul(e) avec enfant(s)", "Couple sans enfant"
    persons = _persons([
        ("A", "Femme", alone_with, "2023-02-01", None),
        ("B", "Femme", alone_with, "2022-06-01", "2023-01-15"),   # left during 2023: a participant
        ("C", "Femme", alone_with, "2022-06-01", "2022-12-31"),   # left before 2023: not counted
        ("D", "Femme", alone_with, None, None),                   # never entered: not counted
        ("E", "Homme", couple, "2023-12-31", None),
        ("F", "Homme", alone_with, "2023-03-01", None),
    ])
    empty = empty_dataset(P)
    ds = Dataset(P, Filters(), persons, empty.immersions, empty.appointments)
    frame = sex_by_household(ds)
    assert frame.columns == ["sexe", "situation_familiale", "n"]
    assert frame.select("sexe", "situation_familiale").rows() == [(s, h) for s in S.SEX for h in S.HOUSEHOLD]
    got = {(s, h): n for s, h, n in frame.iter_rows()}
    assert got[("Femme", alone_with)] == 2 and got[("Homme", couple)] == 1 and got[("Homme", alone_with)] == 1
    assert frame["n"].sum() == compute(ds, ["participants"])["participants"] == 4
    # the margins are the contract's figures
    f = compute(ds, ["sex", "household"])
    assert {k: v for k, v in frame.group_by("sexe").agg(pl.col("n").sum()).iter_rows() if v} == f["sex"]
    assert {k: v for k, v in frame.group_by("situation_familiale").agg(pl.col("n").sum()).iter_rows() if v} == f["household"]
    fig = json.loads(profile_charts.sex_by_household(frame).to_json())
    assert [t["name"] for t in fig["data"]] == ["Femmes", "Hommes"]
    assert fig["data"][0]["y"] == [0, 2, 0, 0] and fig["data"][0]["text"] == ["0", "2", "0", "0"]
    assert sex_by_household(empty_dataset(P))["n"].sum() == 0


# ---------------------------------------------------------------- the pages on the reference sample


@pytest.fixture(scope="module")
def engine(sample_db):
    """compute_indicators on the sample for 2023, whole territory and Doullens."""
    con = connect_readonly(sample_db)
    try:
        return {(): compute_indicators(con, P), ("Doullens",): compute_indicators(con, P, Filters(commune=("Doullens",)))}
    finally:
        con.close()


def charts(at) -> dict[str, dict]:
    """Plotly specs of the page by chart key (element ids end with the key)."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def bars(spec: dict, trace: int = 0) -> dict:
    t = spec["data"][trace]
    return dict(zip(t["y"], t["x"])) if t.get("orientation") == "h" else dict(zip(t["x"], t["y"]))


def assert_page_sound(at, minimum_charts: int = 3) -> None:
    assert not at.exception, [e.value for e in at.exception]
    specs = charts(at)
    assert len(specs) >= minimum_charts
    # every chart is introduced by its label with a definition tooltip
    helped = [m for m in at.markdown if m.proto.help]
    assert len(helped) >= len(specs)


@pytest.mark.parametrize("communes", [(), ("Doullens",)], ids=["all", "doullens"])
def test_profils_page(app, engine, communes):
    f = engine[communes]
    at = app("pages/profils.py", **({"commune": list(communes)} if communes else {}))
    assert_page_sound(at, 7)
    assert at.title[0].value == "Profils"
    specs = charts(at)
    sex = specs["profils_sex"]["data"][0]
    assert dict(zip(sex["labels"], sex["values"])) == f["sex"]
    assert bars(specs["profils_age"]) == f["age_band"]
    assert bars(specs["profils_status"]) == f["status"]
    assert bars(specs["profils_prescriber"]) == f["prescriber"]
    # the commune chart sets the commune filter: it keeps every commune, the chosen ones highlighted (issue 16)
    assert bars(specs["profils_commune"]) == engine[()]["commune"]
    picked = specs["profils_commune"]["data"][0].get("selectedpoints")
    assert ([specs["profils_commune"]["data"][0]["y"][i] for i in picked] if picked else []) == list(communes)
    education = bars(specs["profils_education"])
    assert education == {S.EDUCATION_LABELS[int(k)]: v for k, v in f["education_level"].items()}
    household = specs["profils_sex_household"]["data"]
    for trace, sex_label in zip(household, ("Femme", "Homme")):
        assert sum(trace["y"]) == f["sex"].get(sex_label, 0)
    assert [sum(col) for col in zip(*(t["y"] for t in household))] == [f["household"].get(h, 0) for h in S.HOUSEHOLD]
    women_alone = household[0]["y"][S.HOUSEHOLD.index("Seul(e) avec enfant(s)")]
    m = metrics(at)
    assert m["Participants"] == str(f["participants"])
    assert m["Positionnés"] == str(f["positioned"])
    assert m["Femmes seules avec enfant(s)"].startswith(f"{women_alone} (")
    if not communes:  # the reference figures of the 2023 report
        assert dict(zip(sex["labels"], sex["values"])) == {"Femme": 81, "Homme": 36}
        assert m["Femmes"] == "81 (69,2\u00a0%)"
        assert women_alone == 45


@pytest.mark.parametrize("communes", [(), ("Doullens",)], ids=["all", "doullens"])
def test_freins_page(app, engine, communes):
    f = engine[communes]
    at = app("pages/freins.py", **({"commune": list(communes)} if communes else {}))
    assert_page_sound(at, 4)
    assert at.title[0].value == "Freins"
    specs = charts(at)
    assert bars(specs["freins_primary"]) == f["primary_barrier"]
    assert bars(specs["freins_any"]) == f["barrier_any"]
    diagonal = specs["freins_cooccurrence"]["data"][1]
    labels = diagonal["y"]
    assert {b: diagonal["z"][i][i] for i, b in enumerate(labels)} == f["barrier_any"]
    outcome = specs["freins_outcome"]["data"]
    assert sum(sum(t["x"]) for t in outcome) == f["participants"]
    assert sum(outcome[0]["x"]) == f["positive_exits"]
    if not communes:
        assert bars(specs["freins_primary"])["Mobilité"] == 51
        assert metrics(at)["Frein principal le plus cité : Mobilité"] == "51 (43,6\u00a0%)"


@pytest.mark.parametrize("communes", [(), ("Doullens",)], ids=["all", "doullens"])
def test_parcours_page(app, engine, communes):
    f = engine[communes]
    at = app("pages/parcours.py", **({"commune": list(communes)} if communes else {}))
    assert_page_sound(at, 4)
    assert at.title[0].value == "Parcours et sorties"
    specs = charts(at)
    sankey = specs["parcours_sankey"]["data"][0]
    root = sankey["node"]["label"].index(f"Participants ({f['participants']})")
    out = [v for s, v in zip(sankey["link"]["source"], sankey["link"]["value"]) if s == root]
    assert sum(out) == f["participants"]
    _, positive, other = specs["parcours_rate"]["data"]
    assert sum(positive["y"]) == f["positive_exits"] and sum(positive["y"]) + sum(other["y"]) == f["exits"]
    immersion = specs["parcours_immersion"]["data"]
    assert immersion[0]["name"] == "Avec immersion" and sum(immersion[0]["x"]) == f["exits_with_immersion"]
    assert sum(len(t["x"]) for t in specs["parcours_duration"]["data"]) == f["exits"]
    m = metrics(at)
    assert m["Sorties"] == str(f["exits"]) and m["Sorties positives"] == str(f["positive_exits"])
    # exit categories and time in the programme (v2)
    categories = specs["parcours_categories"]["data"][0]
    assert dict(zip(categories["y"], categories["x"])) == f["exit_category"]
    median = f["time_to_exit"]["median_days"]
    assert m["Durée médiane (Kaplan-Meier)"] == ("–" if median is None else f"{median} jours")
    cohorts = [t for t in specs["parcours_km_cohort"]["data"] if t.get("fill") is None]
    assert sum(int(t["name"].rsplit("(", 1)[1].rstrip(")")) for t in cohorts) == f["time_to_exit"]["cohort"]
    assert all(t["y"][0] == 100 for t in cohorts)
    # the exit detail tables
    tables = [t.value for t in at.dataframe]
    reasons = tables[0]
    assert dict(zip(reasons["Motif de sortie"], reasons["Sorties"])) == {**{k: str(v) for k, v in f["exit_reason"].items()},
                                                                         "Total": str(f["exits"])}
    if not communes:
        assert m["Taux de sorties positives"] == "42,1\u00a0%"
        assert (f["participants"], f["exits"], f["exits_with_immersion"]) == (117, 76, 35)
        assert dict(zip(tables[1]["Emploi"], tables[1]["Sorties"]))["CDD de moins de 6 mois"] == "10"


@pytest.mark.parametrize("page", PAGES)
def test_empty_selection_shows_an_empty_state(app, page):
    at = app(page, debut="2015-01-01", fin="2015-06-30")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("plotly_chart")
    assert any("Aucune personne ne correspond" in i.value for i in at.info)


# ---------------------------------------------------------------- click-to-filter


def click_bar(at, chart_key: str, label: str):
    """What the browser sends when a bar of a selectable chart is clicked: the chart's widget state (a JSON
    string) changes, Streamlit runs its on_select callback, then the script."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + chart_key))
    assert chart.proto.selection_mode, "the chart is not selectable"
    states = at._tree.get_widget_states()  # AppTest has no API for chart selections: the widgets' states, plus ours
    state = WidgetState(id=chart.proto.id)
    state.string_value = json.dumps({"selection": {"points": [{"y": label, "curve_number": 0, "point_index": 0}],
                                                   "point_indices": [0], "box": [], "lasso": []}})
    states.widgets.append(state)
    return at._run(states)


def test_clicking_a_commune_bar_filters_the_dashboard(app, engine):
    at = app("pages/profils.py")
    assert metrics(at)["Participants"] == "117"
    click_bar(at, "profils_commune", "Doullens")
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["commune"] == ["Doullens"]  # the sidebar's commune filter
    doullens = engine[("Doullens",)]
    assert metrics(at)["Participants"] == str(doullens["participants"])
    # the clicked chart keeps every commune (so that another can be clicked), Doullens highlighted
    spec = charts(at)["profils_commune"]
    shown = bars(spec)
    assert shown["Doullens"] == doullens["participants"] and shown == engine[()]["commune"]
    assert [spec["data"][0]["y"][i] for i in spec["data"][0]["selectedpoints"]] == ["Doullens"]
    assert "communes : Doullens" in at.caption[0].value
    # the filter holds on the other pages
    at.switch_page("pages/parcours.py").run()
    assert metrics(at)["Sorties"] == str(doullens["exits"])


def test_clicking_a_prescriber_bar_filters_the_dashboard(app, sample_db):
    at = app("pages/profils.py")
    click_bar(at, "profils_prescriber", "Conseil départemental")
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["prescripteur"] == ["Conseil départemental"]
    con = connect_readonly(sample_db)
    try:
        f = compute_indicators(con, P, Filters(prescriber=("Conseil départemental",)))
    finally:
        con.close()
    assert f["prescriber"] == {"Conseil départemental": 81}
    # every prescriber stays drawn (another one can be clicked), the chosen one highlighted, the others dimmed
    spec = charts(at)["profils_prescriber"]
    shown = bars(spec)
    assert shown["Conseil départemental"] == 81 and len(shown) > 1
    assert [spec["data"][0]["y"][i] for i in spec["data"][0]["selectedpoints"]] == ["Conseil départemental"]
    assert metrics(at)["Participants"] == str(f["participants"])
