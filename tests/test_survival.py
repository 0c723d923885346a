"""Exit categories and time in the programme (SPEC-indicators v2), on a hand-built extract of ten entrants of 2024.

Durations at the end of 2024 (days; e = exit, c = censored), computed by hand:
    P1 0e · P2 30e · P3 30e · P4 30e (1 Feb → 2 Mar, leap year) · P5 30c (1 Dec, still in) · P6 91e · P7 213c (leaves in
    2025) · P8 182e · P9 305c (1 Mar, still in) · P10 365e
Kaplan–Meier: u=0: n=10 d=1 → 0.9 · u=30: n=9 d=3 → 0.6 · u=91: n=5 d=1 → 0.48 · u=182: n=4 d=1 → 0.36 ·
u=365: n=1 d=1 → 0. Median: the first event duration with S ≤ 0.5 = 91 days.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from analytics.indicators import Filters, Period
from analytics.indicators.survival import km_table, survival_curves


@pytest.fixture(scope="module")
def ten(tmp_path_factory):
    from coaching_test_helpers import person, store

    rows = [
        person("P1", "2024-01-01", "2024-01-01", "Emploi", "CDI"),
        person("P2", "2024-01-01", "2024-01-31", "Emploi", "Intérim"),
        person("P3", "2024-01-01", "2024-01-31", "Emploi", None),
        person("P4", "2024-02-01", "2024-03-02", "Formation", "Qualifiante"),
        person("P5", "2024-12-01", frein_principal="Santé"),
        person("P6", "2024-01-01", "2024-04-01", "Abandon"),
        person("P7", "2024-06-01", "2025-01-15", "Emploi", "CDI"),
        person("P8", "2024-01-01", "2024-07-01", "Emploi", "CDD de 6 mois et plus"),
        person("P9", "2024-03-01", frein_principal="Santé"),
        person("P10", "2024-01-01", "2024-12-31", "Fin de suivi", "Coaching social"),
        person("OLD", "2023-05-02", "2024-02-15", "Emploi", "Intérim"),  # entered before 2024: exit, not in the cohort
        person("NE", presc="2024-03-03"),  # never entered
    ]
    return store(tmp_path_factory.mktemp("ten"), rows)


def test_exit_category_by_hand(ten, kit):
    fig = kit.figures(ten, Period.year(2024))
    assert fig["exit_category"] == {"Emploi durable": 2, "Emploi de transition": 2, "Emploi non précisé": 1,
                                    "Sortie positive": 1, "Autre sortie": 2}
    assert sum(fig["exit_category"].values()) == fig["exits"] == 8
    positive = sum(v for k, v in fig["exit_category"].items() if k != "Autre sortie")
    assert positive == fig["positive_exits"]


def test_kaplan_meier_by_hand(ten, kit):
    fig = kit.figures(ten, Period.year(2024))
    assert fig["time_to_exit"] == {"cohort": 10, "events": 7, "median_days": 91,
                                   "survival": {"30": 0.6, "91": 0.48, "182": 0.36, "365": 0.0}}


def test_kaplan_meier_censoring_moves_with_the_period(ten, kit):
    """First half of 2024: P1–P4, P6–P10 entered (P5 entered in December). Censored at 30 June: P7 at 29 days,
    P9 at 121, P8 (leaves 1 July) and P10 at 181. u=0: n=9 d=1 → 8/9 · u=30: n=7 (P7 left the risk set at 29)
    d=3 → 8/9·4/7 · u=91: n=4 d=1 → ·3/4. S(30) = 0.5079 > 0.5, so the median is 91."""
    fig = kit.figures(ten, Period(Period.year(2024).start, Period.year(2024).start.replace(month=6, day=30)))
    s30 = 8 / 9 * 4 / 7
    s91 = s30 * 3 / 4
    assert fig["time_to_exit"] == {"cohort": 9, "events": 5, "median_days": 91,
                                   "survival": {"30": round(s30, 4), "91": round(s91, 4), "182": round(s91, 4),
                                                "365": round(s91, 4)}}


def test_empty_cohort(ten, kit):
    fig = kit.figures(ten, Period.year(2022))
    assert fig["time_to_exit"] == {"cohort": 0, "events": 0, "median_days": None,
                                   "survival": {"30": None, "91": None, "182": None, "365": None}}


def test_greenwood_band_by_hand():
    frame = pl.DataFrame({"days": [0, 30, 30, 30, 30, 91, 182, 213, 305, 365],
                          "event": [True, True, True, True, False, True, True, False, False, True]})
    table = km_table(frame)
    assert table["days"].to_list() == [0, 30, 91, 182, 365]
    assert table["at_risk"].to_list() == [10, 9, 5, 4, 1]
    assert table["survival"].to_list() == pytest.approx([0.9, 0.6, 0.48, 0.36, 0.0])
    # u=0: var = 1/(10·9); half-width on log(−log S) = 1.96·√var/|log 0.9|; band = S^exp(±half)
    half = 1.959964 * math.sqrt(1 / 90) / abs(math.log(0.9))
    assert table["low"][0] == pytest.approx(0.9 ** math.exp(half), abs=1e-6)
    assert table["high"][0] == pytest.approx(0.9 ** math.exp(-half), abs=1e-6)
    inside = table.filter(pl.col("low").is_not_null())
    assert (inside["low"] <= inside["survival"]).all() and (inside["survival"] <= inside["high"]).all()
    assert table["low"][-1] is None  # S = 0: no band


def test_curves_by_cohort_and_barrier(ten):
    from analytics.indicators import dataset
    from analytics.store import connect_readonly

    con = connect_readonly(ten)
    ds = dataset(con, Period.year(2024), Filters())
    semesters = survival_curves(ds, "semester")
    assert semesters.group_by("group").agg(pl.col("n").first()).sort("group").rows() == [("2024 S1", 9), ("2024 S2", 1)]
    first = semesters.group_by("group", maintain_order=True).first()
    assert first["days"].to_list() == [0, 0] and first["survival"].to_list() == [1.0, 1.0]  # each curve starts at 100 %
    assert semesters.filter(pl.col("group") == "2024 S1")["survival"].to_list()[1] == pytest.approx(8 / 9)  # P1 at 0 days
    barriers = survival_curves(ds, "primary_barrier")
    assert set(barriers["group"]) == {"Mobilité", "Santé"}
    # diffusion: groups of fewer than k persons are left out, and a curve stops where fewer than k are followed
    assert survival_curves(ds, "primary_barrier", k=3)["group"].unique().to_list() == ["Mobilité"]
    assert survival_curves(ds, "year", k=5)["at_risk"].min() >= 5
    con.close()


def test_cli_and_workbook_carry_both_figures(ten, tmp_path, capsys):
    import json

    import openpyxl

    from analytics.cli import main

    assert main(["indicators", "--db", str(ten), "--year", "2024", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exit_category"]["Emploi durable"] == 2 and out["time_to_exit"]["median_days"] == 91
    xlsx = tmp_path / "bilan.xlsx"
    assert main(["report", "--db", str(ten), "--year", "2024", "--out", str(xlsx)]) == 0
    rows = {r[0]: r[1] for ws in openpyxl.load_workbook(xlsx) for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert rows["Emploi durable"] == 2 and rows["Autre sortie"] == 2
    assert rows["Durée médiane dans l'action (jours)"] == 91
    assert rows["Encore dans l'action 182 jours après l'entrée"] == pytest.approx(0.36)


def test_median_reached_at_exactly_one_half_despite_float_rounding():
    import polars as pl

    from analytics.indicators.survival import km_table, median_days

    # 10 entries, exits after 30, 60, 60, 90, 120, 200 days, 4 censored: S(120) = 9/10 · 7/9 · 6/7 · 5/6 = 1/2 exactly,
    # which floats compute as 0.5000000000000001; the contract's median (S ≤ 0.5) is 120 days, not 200
    frame = pl.DataFrame({"days": [30, 60, 60, 90, 120, 200, 364, 364, 364, 364], "event": [True] * 6 + [False] * 4})
    assert median_days(km_table(frame)) == 120
