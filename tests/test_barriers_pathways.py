"""Barriers, pathways and exits: the new frames on a hand-built Dataset, their consistency with the contract's
figures on the reference sample, and the pure chart builders."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from analytics import schema as S
from analytics.charts import barriers as barrier_charts
from analytics.charts import pathways as pathway_charts
from analytics.indicators import Filters, Period, compute, dataset, empty_dataset
from analytics.indicators.barriers import barrier_by_outcome, barrier_cooccurrence
from analytics.indicators.base import Dataset, persons_schema
from analytics.indicators.exits import exits_by_immersion, pathway_flows, positive_rate_by_month, time_in_programme
from analytics.store import connect_readonly

P = Period.year(2023)
D = date.fromisoformat


def person(pid: str, sexe: str, foyer: str, frein: str, secondaires: str | None = None, entree: str | None = None,
           sortie: str | None = None, motif: str | None = None, detail: str | None = None, presc: str = "2022-10-01") -> dict:
    return {
        "id_participant": pid, "date_prescription": D(presc), "prescripteur": "Pôle emploi", "territoire": S.DEFAULT_TERRITORY,
        "action": S.DEFAULT_ACTION, "commune": "Doullens", "sexe": sexe, "age": 30, "niveau_formation": 3, "statut": "RSA",
        "situation_familiale": foyer, "frein_principal": frein, "freins_secondaires": secondaires,
        "date_entree": entree and D(entree), "motif_non_entree": None if entree else "En attente",
        "date_sortie": sortie and D(sortie), "motif_sortie": motif, "detail_sortie": detail,
    }


ALONE_WITH, ALONE, COUPLE, COUPLE_WITH = S.HOUSEHOLD[1], S.HOUSEHOLD[0], S.HOUSEHOLD[2], S.HOUSEHOLD[3]
PERSONS = [
    # participants of 2023
    person("P1", "Femme", ALONE_WITH, "Mobilité", "Garde d'enfants|Numérique", "2022-11-01", "2023-03-15", "Emploi", "CDI"),
    person("P2", "Femme", ALONE_WITH, "Garde d'enfants", "Mobilité", "2023-02-01", "2023-03-20", "Abandon"),
    person("P3", "Homme", COUPLE, "Mobilité", None, "2023-05-01"),
    person("P4", "Femme", COUPLE_WITH, "Numérique", "Mobilité|Garde d'enfants", "2023-06-01", "2023-09-30", "Fin de suivi"),
    person("P5", "Homme", ALONE, "Aucun", None, "2023-03-01", "2023-03-31", "Formation", "Qualifiante"),
    person("P6", "Femme", ALONE_WITH, "Santé", None, "2023-10-01", "2024-01-10", "Emploi", "CDI"),
    # not participants: left before 2023, never entered
    person("P7", "Femme", ALONE_WITH, "Mobilité", "Santé", "2022-03-01", "2022-12-15", "Emploi", "Intérim", presc="2022-02-01"),
    person("P8", "Femme", ALONE_WITH, "Logement", presc="2023-04-01"),
]
IMMERSIONS = [  # (person, start): P1 one before its exit and one after; P4 two before; P5 one after its exit; P3 in progress
    ("P1", "2023-01-10"), ("P1", "2023-04-01"), ("P4", "2023-07-01"), ("P4", "2023-08-01"), ("P5", "2023-04-15"), ("P3", "2023-06-01"),
]


@pytest.fixture(scope="module")
def ds() -> Dataset:
    empty = empty_dataset(P)
    persons = pl.DataFrame([{**{c: None for c in empty.persons.columns}, **row} for row in PERSONS], schema=persons_schema())
    imm = pl.DataFrame([{**{c: None for c in empty.immersions.columns}, "action": S.DEFAULT_ACTION, "territoire": S.DEFAULT_TERRITORY,
                         "id_participant": pid, "date_debut": D(start), "date_fin": D(start).replace(day=D(start).day + 5)}
                        for pid, start in IMMERSIONS], schema=empty.immersions.schema)
    collected = {name: set(table.names) for name, table in S.TABLES.items()}
    return Dataset(P, Filters(), persons, imm, empty.appointments, collected=collected, caseload_target=40)


def test_the_hand_built_dataset_has_the_expected_populations(ds):
    f = compute(ds, ["participants", "exits", "positive_exits", "active_at_end", "barrier_any", "exits_with_immersion"])
    assert (f["participants"], f["exits"], f["positive_exits"], f["active_at_end"]) == (6, 4, 2, 2)
    assert f["barrier_any"] == {"Mobilité": 4, "Garde d'enfants": 3, "Santé": 1, "Numérique": 2, "Aucun": 1}
    assert f["exits_with_immersion"] == 2


# ---------------------------------------------------------------- barriers


def test_barrier_cooccurrence_by_hand(ds):
    frame = barrier_cooccurrence(ds)
    order = ["Mobilité", "Garde d'enfants", "Santé", "Numérique", "Aucun"]
    assert frame.columns == ["barrier", "with_barrier", "n"]
    assert frame.height == len(order) ** 2
    assert list(dict.fromkeys(frame["barrier"])) == order
    n = {(a, b): v for a, b, v in frame.iter_rows()}
    # P1 (Mobilité, Garde, Numérique), P2 (Garde, Mobilité), P4 (Numérique, Mobilité, Garde)
    assert n[("Mobilité", "Garde d'enfants")] == 3
    assert n[("Mobilité", "Numérique")] == 2
    assert n[("Garde d'enfants", "Numérique")] == 2
    assert n[("Aucun", "Mobilité")] == 0 and n[("Santé", "Garde d'enfants")] == 0
    assert all(n[(a, b)] == n[(b, a)] for a in order for b in order)  # symmetric
    assert {a: n[(a, a)] for a in order} == compute(ds, ["barrier_any"])["barrier_any"]  # diagonal = barrier_any


def test_barrier_by_outcome_by_hand(ds):
    frame = barrier_by_outcome(ds)
    assert frame.columns == ["frein_principal", "outcome", "n"]
    got = {(b, o): v for b, o, v in frame.iter_rows()}
    expected = {
        "Mobilité": (1, 0, 1),          # P1 Emploi, P3 still in
        "Garde d'enfants": (0, 1, 0),   # P2 Abandon
        "Santé": (0, 0, 1),             # P6 leaves in 2024: still in at the end of 2023
        "Numérique": (0, 1, 0),         # P4 Fin de suivi
        "Aucun": (1, 0, 0),             # P5 Formation
    }
    assert list(dict.fromkeys(frame["frein_principal"])) == list(expected)
    for barrier, values in expected.items():
        assert tuple(got[(barrier, o)] for o in ("Sortie positive", "Autre sortie", "En parcours")) == values, barrier
    assert frame["n"].sum() == 6


# ---------------------------------------------------------------- pathways and exits


def test_pathway_flows_by_hand(ds):
    frame = pathway_flows(ds)
    assert frame.columns == ["stage", "source", "target", "n"]
    assert frame.rows() == [
        (1, "Participants", "Emploi", 1), (1, "Participants", "Formation", 1), (1, "Participants", "Fin de suivi", 1),
        (1, "Participants", "Abandon", 1), (1, "Participants", "En cours", 2),
        (2, "Emploi", "CDI", 1), (2, "Formation", "Qualifiante", 1), (2, "Fin de suivi", "Non renseigné", 1),
    ]


def test_positive_rate_by_month_by_hand(ds):
    frame = positive_rate_by_month(ds)
    assert frame.columns == ["month", "exits", "positive_exits", "rate"]
    assert frame["month"].to_list() == [f"2023-{m:02d}" for m in range(1, 13)]
    rows = {m: (e, p, r) for m, e, p, r in frame.iter_rows()}
    assert rows["2023-03"] == (3, 2, 0.6667)  # P1 Emploi, P5 Formation, P2 Abandon
    assert rows["2023-09"] == (1, 0, 0.0)     # P4
    assert rows["2023-01"] == (0, 0, None)    # no exit: no rate
    assert frame["exits"].sum() == 4 and frame["positive_exits"].sum() == 2


def test_time_in_programme_by_hand(ds):
    frame = time_in_programme(ds)
    assert frame.columns == ["motif_sortie", "days", "months"]
    # contract order of the reasons; 134 days = 4,4 months of 30,44 days
    assert frame.rows() == [("Emploi", 134, 4.4), ("Formation", 30, 1.0), ("Fin de suivi", 121, 4.0), ("Abandon", 47, 1.5)]


def test_exits_by_immersion_by_hand(ds):
    frame = exits_by_immersion(ds)
    assert frame.columns == ["motif_sortie", "immersion", "n"]
    assert frame.rows() == [
        ("Emploi", "Avec immersion", 1), ("Emploi", "Sans immersion", 0),        # P1: one immersion before its exit
        ("Formation", "Avec immersion", 0), ("Formation", "Sans immersion", 1),  # P5: its immersion came after
        ("Fin de suivi", "Avec immersion", 1), ("Fin de suivi", "Sans immersion", 0),
        ("Abandon", "Avec immersion", 0), ("Abandon", "Sans immersion", 1),
    ]


def test_new_frames_of_an_empty_dataset():
    ds = empty_dataset(P)
    assert barrier_cooccurrence(ds).is_empty() and barrier_by_outcome(ds).is_empty()
    assert pathway_flows(ds).is_empty() and time_in_programme(ds).is_empty() and exits_by_immersion(ds).is_empty()
    rate = positive_rate_by_month(ds)
    assert rate.height == 12 and rate["exits"].sum() == 0 and rate["rate"].null_count() == 12


# ---------------------------------------------------------------- on the reference sample: they add up to the contract


def load_sample(sample_db, communes: tuple[str, ...] = ()) -> tuple[Dataset, dict]:
    con = connect_readonly(sample_db)
    try:
        data = dataset(con, P, Filters(commune=communes))
    finally:
        con.close()
    return data, compute(data)


@pytest.fixture(scope="module", params=[(), ("Doullens",)], ids=["all", "doullens"])
def sample(request, sample_db):
    return load_sample(sample_db, request.param)


def test_sample_frames_add_up_to_the_figures(sample):
    ds, f = sample
    flows = pathway_flows(ds)
    stage1 = flows.filter(pl.col("stage") == 1)
    assert set(stage1["source"]) == {"Participants"}
    assert stage1["n"].sum() == f["participants"]
    assert dict(stage1.filter(pl.col("target") != "En cours").select("target", "n").iter_rows()) == f["exit_reason"]
    for reason, details in f["exit_detail"].items():
        assert dict(flows.filter((pl.col("stage") == 2) & (pl.col("source") == reason)).select("target", "n").iter_rows()) == details

    co = barrier_cooccurrence(ds)
    assert dict(co.filter(pl.col("barrier") == pl.col("with_barrier")).select("barrier", "n").iter_rows()) == f["barrier_any"]

    outcome = barrier_by_outcome(ds)
    assert outcome["n"].sum() == f["participants"]
    per_barrier = dict(outcome.group_by("frein_principal").agg(pl.col("n").sum()).iter_rows())
    assert {k: v for k, v in per_barrier.items() if v} == f["primary_barrier"]
    by = dict(outcome.group_by("outcome").agg(pl.col("n").sum()).iter_rows())
    assert by["Sortie positive"] == f["positive_exits"]
    assert by["Sortie positive"] + by["Autre sortie"] == f["exits"]
    assert by["En parcours"] == f["active_at_end"]

    rate = positive_rate_by_month(ds)
    assert rate["exits"].sum() == f["exits"] and rate["positive_exits"].sum() == f["positive_exits"]

    assert time_in_programme(ds).height == f["exits"]

    imm = exits_by_immersion(ds)
    assert imm.filter(pl.col("immersion") == "Avec immersion")["n"].sum() == f["exits_with_immersion"]
    assert imm["n"].sum() == f["exits"]


def test_sample_2023_matches_the_report(sample_db):
    ds, _ = load_sample(sample_db)
    stage1 = dict(pathway_flows(ds).filter(pl.col("stage") == 1).select("target", "n").iter_rows())
    assert stage1["En cours"] == 41 and sum(stage1.values()) == 117
    imm = exits_by_immersion(ds)
    assert imm.filter(pl.col("immersion") == "Avec immersion")["n"].sum() == 35


# ---------------------------------------------------------------- charts: frame in, figure out


def spec(fig) -> dict:
    return json.loads(fig.to_json())


def test_charts_carry_the_numbers(ds):
    heat = spec(barrier_charts.cooccurrence(barrier_cooccurrence(ds)))
    pairs, diagonal = heat["data"][0]["z"], heat["data"][1]["z"]
    assert [diagonal[i][i] for i in range(len(diagonal))] == [4, 3, 1, 2, 1]
    assert pairs[0][1] == 3 and pairs[0][0] is None

    bars = spec(barrier_charts.by_outcome(barrier_by_outcome(ds)))
    assert [t["name"] for t in bars["data"]] == ["Sortie positive", "Autre sortie", "En parcours"]
    assert sum(sum(t["x"]) for t in bars["data"]) == 6

    sankey = spec(pathway_charts.sankey(pathway_flows(ds)))["data"][0]
    assert sankey["type"] == "sankey"
    assert sum(v for s, v in zip(sankey["link"]["source"], sankey["link"]["value"]) if s == 0) == 6
    assert "Participants (6)" in sankey["node"]["label"]

    rate = spec(pathway_charts.positive_rate(positive_rate_by_month(ds)))
    line, positive, other = rate["data"]
    assert line["y"][2] == pytest.approx(66.67) and line["text"][2] == "67\u00a0%" and line["y"][0] is None
    assert positive["y"][2] == 2 and other["y"][2] == 1 and other["y"][8] == 1

    box = spec(pathway_charts.time_in_programme(time_in_programme(ds)))
    assert [t["name"] for t in box["data"]] == ["Emploi", "Formation", "Fin de suivi", "Abandon"]
    assert box["data"][0]["x"] == [4.4]
    assert box["layout"]["yaxis"]["ticktext"][0] == "Emploi (1)<br>médiane 4,4 mois"

    imm = spec(pathway_charts.exits_by_immersion(exits_by_immersion(ds)))
    assert imm["data"][0]["name"] == "Avec immersion" and sum(imm["data"][0]["x"]) == 2


def test_charts_of_empty_frames_say_so():
    ds = empty_dataset(P)
    for fig in (barrier_charts.cooccurrence(barrier_cooccurrence(ds)), barrier_charts.by_outcome(barrier_by_outcome(ds)),
                pathway_charts.sankey(pathway_flows(ds)), pathway_charts.positive_rate(positive_rate_by_month(ds)),
                pathway_charts.time_in_programme(time_in_programme(ds)),
                pathway_charts.exits_by_immersion(exits_by_immersion(ds))):
        s = spec(fig)
        assert s["data"] == [] and "Aucune donnée" in s["layout"]["annotations"][0]["text"]


def test_a_box_of_many_leavers_is_drawn_from_its_statistics():
    """Beyond MAX_BOX_POINTS leavers, the box carries its quartiles and fences instead of every value."""
    many = pathway_charts.MAX_BOX_POINTS + 1
    months = [float(i % 40) for i in range(many)] + [200.0]  # 0–39 months, and one outlier
    frame = pl.DataFrame({"motif_sortie": ["Emploi"] * (many + 1) + ["Formation"] * 3, "months": months + [1.0, 2.0, 3.0]})
    big, small = spec(pathway_charts.time_in_programme(frame))["data"]
    assert "x" not in big and big["boxpoints"] is False
    values = sorted(months)  # by hand: linear-interpolated quartiles, Tukey's fences
    def q(p):
        k = (len(values) - 1) * p
        return values[int(k)] + (values[min(int(k) + 1, len(values) - 1)] - values[int(k)]) * (k - int(k))
    assert big["q1"] == [pytest.approx(q(0.25))] and big["median"] == [pytest.approx(q(0.5))] and big["q3"] == [pytest.approx(q(0.75))]
    iqr = q(0.75) - q(0.25)
    assert big["upperfence"] == [39.0] and q(0.75) + 1.5 * iqr < 200 and big["lowerfence"] == [0.0]
    assert small["x"] == [1.0, 2.0, 3.0] and small["boxpoints"] == "all"  # few leavers: every point, as before
