"""File active and Activité: the new series on small hand-built datasets, the pure charts, and the pages on the sample.

Expected values in the first part are computed by hand from the rows written in each test.
"""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from analytics import fmt
from analytics import schema as S
from analytics.charts import activity as activity_charts
from analytics.indicators import Filters, Period, compute_indicators
from analytics.indicators.activity import (DELAY_BUCKETS, appointments, appointments_by_month, first_appointment_delay_buckets,
                                           immersion_outcomes, immersions)
from analytics.indicators.base import Dataset
from analytics.indicators.caseload import caseload_table, months_at_or_above_target, year_earlier
from analytics.store import connect_readonly

Y2023 = Period.year(2023)
REFERENCE_CASELOAD_2023 = [31, 37, 36, 32, 35, 35, 40, 33, 32, 42, 46, 47]
IMM_SCHEMA = {"action": pl.String, "territoire": pl.String, "id_participant": pl.String, "date_debut": pl.Date,
              "date_fin": pl.Date, "secteur": pl.String, "debouche_contrat": pl.Boolean}
APP_SCHEMA = {"month": pl.String, "modalite": pl.String, "presence": pl.String, "n": pl.Int64}


def d(text: str) -> date:
    return date.fromisoformat(text)


def persons(*rows: dict) -> pl.DataFrame:
    """Typed participants rows; unspecified columns are null."""
    schema = S.typed_schema(S.PARTICIPANTS)
    full = [{name: row.get(name) for name in schema} for row in rows]
    return pl.DataFrame(full, schema=schema)


def dataset(people=(), imm=(), app=(), period=Y2023, target=None) -> Dataset:
    return Dataset(period, Filters(), persons(*people) if people else pl.DataFrame(schema=S.typed_schema(S.PARTICIPANTS)),
                   pl.DataFrame(list(imm), schema=IMM_SCHEMA), pl.DataFrame(list(app), schema=APP_SCHEMA, orient="row"),
                   {}, target)


def imm(pid, start, sector, led, end=None):
    return {"action": "a", "territoire": "t", "id_participant": pid, "date_debut": d(start), "date_fin": d(end or start),
            "secteur": sector, "debouche_contrat": led}


# ---------------------------------------------------------------- analytics, by hand

def test_appointments_by_month_counts_modalities_and_monthly_attendance():
    ds = dataset(app=[
        ("2023-01", "Physique", "Présent", 3), ("2023-01", "Physique", "Absent excusé", 1),
        ("2023-01", "Téléphone", "Présent", 2), ("2023-01", "Visio", "Absent non excusé", 2),
        ("2023-03", "Collectif", "Présent", 1), ("2023-03", "Physique", "Absent non excusé", 3),
    ])
    out = appointments_by_month(ds)
    assert out.columns == ["month", "modalite", "n", "planned", "attended", "attendance_rate"]
    assert out.select("month", "modalite", "n").rows() == [
        ("2023-01", "Physique", 4), ("2023-01", "Téléphone", 2), ("2023-01", "Visio", 2),
        ("2023-03", "Physique", 3), ("2023-03", "Collectif", 1),  # contract order of the modalities
    ]
    jan = out.filter(pl.col("month") == "2023-01").row(0, named=True)
    assert (jan["planned"], jan["attended"], jan["attendance_rate"]) == (8, 5, 0.625)
    mar = out.filter(pl.col("month") == "2023-03").row(0, named=True)
    assert (mar["planned"], mar["attended"], mar["attendance_rate"]) == (4, 1, 0.25)
    # the same figures as the engine's `appointments`
    assert out["n"].sum() == appointments(ds)["planned"] == 12
    assert out.unique("month")["attended"].sum() == appointments(ds)["attended"] == 6


def test_appointments_by_month_empty():
    out = appointments_by_month(dataset())
    assert out.is_empty() and out.columns[:3] == ["month", "modalite", "n"]


def test_first_appointment_delay_buckets_edges():
    presc = "2023-01-01"
    # delays 0, 7 | 8, 15 | 16, 30 | 31 ; one first appointment outside the period is not counted
    days = {"P0": "2023-01-01", "P7": "2023-01-08", "P8": "2023-01-09", "P15": "2023-01-16", "P16": "2023-01-17",
            "P30": "2023-01-31", "P31": "2023-02-01"}
    people = [{"id_participant": k, "date_prescription": d(presc), "date_premier_rdv": d(v)} for k, v in days.items()]
    people.append({"id_participant": "OUT", "date_prescription": d("2022-11-01"), "date_premier_rdv": d("2022-12-30")})
    out = first_appointment_delay_buckets(dataset(people))
    assert out["bucket"].to_list() == DELAY_BUCKETS
    assert out["n"].to_list() == [2, 2, 2, 1]
    assert out["share"].to_list() == [round(2 / 7, 4), round(2 / 7, 4), round(2 / 7, 4), round(1 / 7, 4)]


def test_first_appointment_delay_buckets_empty_population():
    out = first_appointment_delay_buckets(dataset())
    assert out["n"].to_list() == [0, 0, 0, 0] and out["share"].to_list() == [None] * 4


def test_immersion_outcomes_by_sector_and_contract():
    ds = dataset(imm=[
        imm("A", "2023-02-01", "Logistique", False), imm("B", "2023-03-01", "Logistique", True),
        imm("C", "2023-04-01", "Logistique", False), imm("D", "2023-05-01", "Caisse", None),
        imm("E", "2023-06-01", None, True), imm("F", "2023-07-01", "Caisse", False),
        imm("G", "2022-12-15", "Caisse", True, end="2023-01-05"),  # started before the period: not counted
    ])
    out = immersion_outcomes(ds)
    assert out.rows() == [
        ("Logistique", True, 1), ("Logistique", False, 2),
        ("Caisse", False, 1), ("Caisse", None, 1),
        ("Non renseigné", True, 1),
    ]
    assert out["n"].sum() == immersions(ds)["count"] == 6
    assert out.filter(pl.col("debouche_contrat").fill_null(False))["n"].sum() == immersions(ds)["led_to_contract"] == 2


def test_caseload_table_and_months_at_target():
    period = Period(d("2023-01-01"), d("2023-03-31"))
    people = [
        {"id_participant": "A", "date_prescription": d("2022-12-01"), "date_entree": d("2022-12-10")},
        {"id_participant": "B", "date_prescription": d("2023-01-02"), "date_entree": d("2023-01-05"), "date_sortie": d("2023-02-10")},
        {"id_participant": "C", "date_prescription": d("2023-02-01"), "date_entree": d("2023-02-20")},
        {"id_participant": "D", "date_prescription": d("2023-03-01"), "date_entree": d("2023-03-02"), "date_sortie": d("2023-03-30")},
    ]
    ds = dataset(people, period=period, target=3)
    out = caseload_table(ds)
    # Jan: A, B; Feb: A, B (left on the 10th), C; Mar: A, C, D
    assert out.rows() == [("2023-01", 2, 3, 1, 0), ("2023-02", 3, 3, 1, 1), ("2023-03", 3, 3, 1, 1)]
    assert months_at_or_above_target(ds) == 2
    assert months_at_or_above_target(dataset(people, period=period)) is None


def test_year_earlier():
    assert year_earlier(Y2023) == Y2023.previous() == Period.year(2022)
    assert year_earlier(Period(d("2024-02-29"), d("2024-05-31"))) == Period(d("2023-02-28"), d("2023-05-31"))


# ---------------------------------------------------------------- pure charts

def test_appointments_chart_stacks_modalities_with_rate_line():
    ds = dataset(app=[("2023-01", "Physique", "Présent", 3), ("2023-01", "Visio", "Absent excusé", 1),
                      ("2023-02", "Physique", "Présent", 2)])
    months = [m for m, _, _ in Y2023.months()]
    fig = json.loads(activity_charts.appointments_by_month(appointments_by_month(ds), months).to_json())
    bars = {t["name"]: t for t in fig["data"] if t["type"] == "bar"}
    assert list(bars) == ["Physique", "Visio"] and fig["layout"]["barmode"] == "stack"
    assert bars["Physique"]["y"][:3] == [3, 2, 0] and bars["Visio"]["y"][:3] == [1, 0, 0]
    line = next(t for t in fig["data"] if t["type"] == "scatter")
    assert line["name"] == "Taux de présence" and line["y"][:3] == [0.75, 1.0, None]
    assert line["yaxis"] != bars["Physique"]["yaxis"]  # the rate has its own axis, above the bars
    assert line["text"][:2] == [fmt.percent(0.75, 0), fmt.percent(1.0, 0)]


def test_empty_charts_say_so():
    for fig in (activity_charts.appointments_by_month(appointments_by_month(dataset()), []),
                activity_charts.first_appointment_delays(first_appointment_delay_buckets(dataset())),
                activity_charts.immersion_outcomes(immersion_outcomes(dataset()))):
        assert not fig.data and "Aucune donnée" in fig.layout.annotations[0].text


# ---------------------------------------------------------------- the pages on the sample

def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name", "").startswith(name))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def engine(sample_db, period=Y2023, filters=Filters()) -> dict:
    con = connect_readonly(sample_db)
    try:
        return compute_indicators(con, period, filters)
    finally:
        con.close()


def test_file_active_page_carries_the_2023_caseload(app, sample_db):
    at = app("pages/file_active.py")
    assert not at.exception
    specs = charts(at)
    assert len(specs) >= 2
    caseload = specs[0]
    assert trace(caseload, "File active")["y"] == REFERENCE_CASELOAD_2023
    assert trace(caseload, "Objectif")["y"] == [40] * 12
    prev = engine(sample_db, Period.year(2022))["monthly_caseload"]
    assert trace(caseload, "Année précédente")["y"] == list(prev.values())
    fig = engine(sample_db)
    m = metrics(at)
    assert m["File active moyenne"] == f"{fmt.number(fig['average_caseload'], 2)} / 40" == "37,17 / 40"
    from streamlit.proto.Metric_pb2 import Metric

    # below the target: a red downward delta (fmt.signed writes a typographic minus)
    assert (at.metric[0].proto.direction, at.metric[0].proto.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.RED)
    assert m["Mois à l'objectif"] == "4 / 12"  # 40, 42, 46, 47
    assert m["Présents en fin de période"] == fmt.number(fig["active_at_end"]) == "41"
    assert m["Entrées / sorties"] == f"{fig['entries']} / {fig['exits']}"
    flows = specs[1]
    assert sum(trace(flows, "Entrées")["y"]) == fig["entries"]
    assert sum(trace(flows, "Sorties")["customdata"]) == fig["exits"]
    table = at.dataframe[0].value
    assert table["File active"].tolist()[:12] == [str(v) for v in REFERENCE_CASELOAD_2023]
    assert table["Mois"].tolist()[0] == "Janvier 2023" and table["Mois"].tolist()[-1] == "Total / moyenne"


def test_file_active_page_filtered_by_commune(app, sample_db):
    at = app("pages/file_active.py", commune="Doullens")
    assert not at.exception
    fig = engine(sample_db, filters=Filters(commune=("Doullens",)))
    specs = charts(at)
    assert trace(specs[0], "File active")["y"] == list(fig["monthly_caseload"].values())
    assert trace(specs[0], "File active")["y"] != REFERENCE_CASELOAD_2023
    assert metrics(at)["File active moyenne"].startswith(fmt.number(fig["average_caseload"], 2))
    # prescriptions per month: every positioned person prescribed in 2023 is counted once
    con = connect_readonly(sample_db)
    try:
        n = con.execute("SELECT count(*) FROM participants WHERE commune = 'Doullens' AND year(date_prescription) = 2023").fetchall()[0][0]
    finally:
        con.close()
    assert sum(sum(t["y"]) for t in specs[2]["data"]) == n


def test_file_active_empty_selection_shows_empty_state(app):
    at = app("pages/file_active.py", debut="2010-01-01", fin="2010-12-31")
    assert not at.exception
    assert not at.get("plotly_chart")
    assert any("Aucune personne" in i.value for i in at.info)


def activity_expected(fig: dict) -> dict[str, str]:
    a, d_, i = fig["appointments"], fig["first_appointment_delay_days"], fig["immersions"]
    med = d_["median"]
    return {
        "Rendez-vous planifiés": fmt.number(a["planned"]),
        "Rendez-vous honorés": fmt.number(a["attended"]),
        "Taux de présence": fmt.percent(a["attendance_rate"]),
        "Délai médian 1er RDV": "–" if med is None else f"{fmt.number(med, 1 if med % 1 else 0)} j",
        "1ers RDV dans les 7 jours": fmt.percent(d_["within_7_days_rate"]),
        "Immersions (PMSMP)": fmt.number(i["count"]),
        "Immersions → contrat": fmt.number(i["led_to_contract"]),
    }


@pytest.mark.parametrize("query", [{}, {"commune": "Doullens"}], ids=["sample", "doullens"])
def test_activite_page_kpis_and_charts_equal_the_engine(app, sample_db, query):
    at = app("pages/activite.py", **query)
    assert not at.exception
    fig = engine(sample_db, filters=Filters(commune=(query["commune"],)) if query else Filters())
    assert metrics(at) == activity_expected(fig)
    specs = charts(at)
    assert len(specs) == 3
    bars = {t["name"]: sum(t["y"]) for t in specs[0]["data"] if t["type"] == "bar"}
    assert bars == fig["appointments"]["by_modality"]
    delays = specs[1]["data"][0]["y"]
    assert round(delays[0] / sum(delays), 4) == fig["first_appointment_delay_days"]["within_7_days_rate"]
    imm = specs[2]["data"]
    assert sum(sum(t["x"]) for t in imm) == fig["immersions"]["count"]
    assert sum(sum(t["x"]) for t in imm if t["name"] == "À débouché sur un contrat") == fig["immersions"]["led_to_contract"]


def test_activite_page_on_the_2023_sample_values(app):
    """The 2023 figures of the sample, written out (guards against the engine and the page drifting together)."""
    at = app("pages/activite.py")
    m = metrics(at)
    assert m["Rendez-vous planifiés"] == fmt.number(1579) and m["Taux de présence"] == fmt.percent(0.8284)
    assert m["Délai médian 1er RDV"] == "6 j" and m["1ers RDV dans les 7 jours"] == fmt.percent(0.7523)
    delays = charts(at)[1]["data"][0]
    assert delays["x"] == DELAY_BUCKETS and delays["y"] == [82, 12, 14, 1]
