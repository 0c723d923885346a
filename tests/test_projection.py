"""Caseload projection (SPEC-indicators v2 `coaching projection`): only what was known on `at`, the entries needed, and
a backtest on synthetic extracts whose truth is known (stationary, growing, seasonal entries)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from analytics.indicators.projection import (actual_caseload, backtest, backtest_summary, entries_needed, entry_share, known_on,
                                             project)
from projection_truths import END, truth


def test_nothing_after_at_is_used():
    persons = truth("stationary", 3)
    at = date(2024, 3, 14)
    base = project(persons, at, 4, 40, runs=300)
    # rewrite everything that happened after `at`: other exits, other entries, new prescriptions
    rng = np.random.default_rng(9)
    changed = persons.with_columns(
        pl.when(pl.col("date_sortie") > at).then(pl.col("date_sortie") + pl.duration(days=int(rng.integers(1, 300))))
        .otherwise(pl.col("date_sortie")).alias("date_sortie"),
        pl.when(pl.col("date_entree") > at).then(None).otherwise(pl.col("date_entree")).alias("date_entree"))
    extra = pl.DataFrame({"date_prescription": [at + timedelta(days=3)] * 50, "date_entree": [at + timedelta(days=5)] * 50,
                          "date_sortie": [None] * 50}, schema=persons.schema)
    assert project(pl.concat([changed, extra]), at, 4, 40, runs=300) == base
    # …while a change known on `at` does change it
    earlier = persons.with_columns(pl.when(pl.col("date_entree") < at - timedelta(days=200)).then(None)
                                   .otherwise(pl.col("date_sortie")).alias("date_sortie"))
    assert project(earlier, at, 4, 40, runs=300)["months"] != base["months"]


def test_known_on_blanks_the_future():
    persons = pl.DataFrame({"date_prescription": [date(2024, 1, 2), date(2024, 1, 3), date(2024, 5, 1)],
                            "date_entree": [date(2024, 1, 10), date(2024, 3, 1), None],
                            "date_sortie": [date(2024, 2, 20), None, None]})
    known = known_on(persons, date(2024, 2, 1))
    assert known.rows() == [(date(2024, 1, 2), date(2024, 1, 10), None), (date(2024, 1, 3), None, None)]


def test_entry_share_and_prescriptions_by_hand():
    at = date(2024, 6, 30)
    persons = pl.DataFrame({"date_prescription": [date(2023, 6, 30), date(2023, 7, 1), date(2024, 1, 5), date(2024, 6, 20),
                                                  date(2024, 6, 25)],
                            "date_entree": [date(2023, 7, 5), date(2023, 7, 8), None, date(2024, 7, 2), date(2024, 6, 28)],
                            "date_sortie": [None] * 5}, schema={"date_prescription": pl.Date, "date_entree": pl.Date,
                                                                "date_sortie": pl.Date})
    # the 12 months before `at`: 1 July 2023 – 30 June 2024 → 4 prescriptions, 2 entered by `at` (2 July 2024 is after it)
    assert entry_share(known_on(persons, at), at) == 0.5


def test_entries_needed_by_hand():
    bounds = [(date(2024, 7, 1), date(2024, 7, 31)), (date(2024, 8, 1), date(2024, 8, 31)), (date(2024, 9, 1), date(2024, 9, 30))]
    grid = np.full(5000, 0.5)  # half of those who enter are still in at any later month start
    grid[0] = 1.0
    # July: 40 − 36.2 → 4 entries; August: 36 + 4·0.5 = 38 → 2; September: 41 + 4·0.5 + 2·0.5 > 40 → 0
    assert entries_needed(np.array([36.2, 36.0, 41.0]), bounds, grid, 40) == [4, 2, 0]
    assert entries_needed(np.array([36.2, 36.0, 41.0]), bounds, grid, None) is None


def test_the_interval_holds_the_expected_and_widens():
    out = project(truth("stationary", 4), date(2024, 6, 30), 6, 40, runs=500)
    months = list(out["months"].values())
    assert all(m["low"] <= m["expected"] <= m["high"] for m in months)
    assert months[-1]["high"] - months[-1]["low"] > months[0]["high"] - months[0]["low"]
    assert list(out["months"]) == ["2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12"]
    for key, n in out["entries_needed"].items():
        assert out["prescriptions_needed"][key] >= n and (n == 0) == (out["prescriptions_needed"][key] == 0)


@pytest.fixture(scope="module")
def backtests():
    """Forecasts made at 18 past month ends (6 months ahead) on two draws of each synthetic truth."""
    out = {}
    for kind in ("stationary", "growing", "seasonal"):
        frames = []
        for seed in (0, 1):
            persons = truth(kind, seed)
            bt = backtest(persons, END, months=6, origins=18, runs=300)
            naive = actual_caseload(persons, bt["at"].dt.strftime("%Y-%m").unique().to_list())
            frames.append(bt.with_columns(pl.col("at").dt.strftime("%Y-%m").replace_strict(naive).alias("naive")))
        out[kind] = pl.concat(frames)
    return out


@pytest.mark.parametrize("kind", ["stationary", "growing", "seasonal"])
def test_backtest_on_known_truths(backtests, kind):
    bt = backtests[kind]
    summary = {r["horizon"]: r for r in backtest_summary(bt).iter_rows(named=True)}
    # one month ahead: within 8 % of the caseload on average; six months ahead: within 20 %
    assert summary[1]["mean_abs_pct_error"] < 0.08
    assert summary[6]["mean_abs_pct_error"] < 0.20
    # the 80 % interval holds the truth about 80 % of the time (pooled over the horizons)
    coverage = ((bt["actual"] >= bt["low"]) & (bt["actual"] <= bt["high"])).mean()
    assert 0.65 <= coverage <= 0.97
    # better than "the caseload stays as it is", one month ahead and over all horizons
    err = (bt["expected"] - bt["actual"]).abs()
    naive = (bt["naive"] - bt["actual"]).abs()
    assert err.filter(bt["horizon"] == 1).mean() < naive.filter(bt["horizon"] == 1).mean()
    assert err.mean() < naive.mean() * 1.05


def test_cli_projection(sample_db, capsys):
    from analytics.cli import main

    assert main(["projection", "--db", str(sample_db), "--at", "2023-06-30", "--months", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["at"] == "2023-06-30" and out["target"] == 40
    assert list(out["months"]) == ["2023-07", "2023-08", "2023-09"]
    assert set(out) >= {"months", "entries_needed", "prescriptions_needed"}
    assert main(["projection", "--db", str(sample_db), "--at", "2023-13-01", "--json"]) == 2
    assert "date invalide" in capsys.readouterr().err


def test_file_active_page_shows_the_forecast_and_its_past_error(app, sample_db):
    from contextlib import closing

    from analytics.indicators.projection import load_persons
    from analytics.reports.common import data_date
    from analytics.store import connect_readonly

    at = app("pages/file_active.py")
    assert not at.exception, [e.value for e in at.exception]
    specs = {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    with closing(connect_readonly(sample_db)) as con:
        latest = data_date(con)
        expected = project(load_persons(con), latest, 6, 40)
    line = next(t for t in specs["file_active_forecast"]["data"] if t.get("name") == "File active prévue")
    assert line["y"][1:] == [m["expected"] for m in expected["months"].values()]
    table = at.dataframe[-1].value
    assert list(table.columns) == ["Mois", "File active prévue", "Intervalle à 80 %", "Erreur moyenne passée",
                                   "Entrées nécessaires", "Prescriptions nécessaires"]
    assert table["Entrées nécessaires"].tolist() == [str(n) for n in expected["entries_needed"].values()]
    # a forecast made earlier uses only what was known then
    at.date_input(key="projection_at").set_value(date(2023, 6, 30)).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table["Mois"].tolist()[0] == "Juillet 2023"


def test_reports_carry_the_forecast_and_the_convention(sample_db, tmp_path):
    from contextlib import closing

    import openpyxl

    from analytics.indicators import Filters, Period
    from analytics.indicators.projection import load_persons
    from analytics.reports.xlsx import SHEETS, build_xlsx
    from analytics.store import connect_readonly

    out = tmp_path / "bilan.xlsx"
    with closing(connect_readonly(sample_db)) as con:
        build_xlsx(con, Period.year(2023), Filters(), out)
        expected = project(load_persons(con), date(2023, 12, 31), 6, 40)
    wb = openpyxl.load_workbook(out)
    rows = list(wb[SHEETS["caseload"]].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "Mois prévu")
    forecast = rows[head + 1: head + 7]
    assert [r[1] for r in forecast] == [m["expected"] for m in expected["months"].values()]
    assert [r[5] for r in forecast] == list(expected["entries_needed"].values())
    convention = list(wb[SHEETS["convention"]].iter_rows(values_only=True))
    participants = next(r for r in convention if r[0] == "Participants")
    assert 117 in participants  # 2023, the reference year
