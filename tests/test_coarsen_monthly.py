"""Monthly tables of diffusion mode grouped by quarter before suppressing (`analytics.diffusion.coarsen_monthly`):
hand-computed small frames, the caseload (a stock) as the mean of its months, and every export through it."""

from __future__ import annotations

import csv
import io
from contextlib import closing
from datetime import date

import openpyxl
import polars as pl
import pytest

from analytics import diffusion
from analytics.diffusion import Masked, coarsen_caseload, coarsen_monthly, coarsen_tracking, to_quarters
from analytics.indicators import Filters, Period, dataset
from analytics.reports.common import build_context, monthly_tracking
from analytics.store import connect_readonly

K = 11
MONTHS = [f"2023-{m:02d}" for m in range(1, 7)]


def _fig(caseload: dict, average, entries: int) -> dict:
    return {"diffusion": {"k": K, "masked": []}, "monthly_caseload": caseload, "average_caseload": average,
            "entries": entries, "exits": 0}


def _frame(caseload: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"month": MONTHS, "caseload": caseload, "entries": [4, 5, 3, 6, 14, 12], "exits": [0] * 6})


def test_to_quarters_sums_flows_and_averages_stocks():
    q = to_quarters(_frame([5, 20, 20, 30, 31, 32]), ["entries", "exits"], ["caseload"])
    assert q["month"].to_list() == ["2023-T1", "2023-T2"]
    assert q["entries"].to_list() == [4 + 5 + 3, 6 + 14 + 12] and q["exits"].to_list() == [0, 0]
    assert q["caseload"].to_list() == [15.0, 31.0]  # (5 + 20 + 20) / 3, (30 + 31 + 32) / 3: a mean, not a sum
    assert q.columns == ["month", "caseload", "entries", "exits"]


def test_months_with_a_masked_cell_become_quarters_and_only_what_is_still_small_is_masked():
    # entries 4, 5, 3, 6 are below 11 month by month; by quarter 12 and 32 are not
    # caseload: January (5) is masked in the published monthly figure, February too (secondary: the average
    # 135 / 6 = 22,5 would give January back); the first quarter's mean is 15 — it gives back only January +
    # February = 25, which the average and the shown months already give
    fig = _fig({"2023-01": Masked(K), "2023-02": Masked(K, True), "2023-03": 20, "2023-04": 30, "2023-05": 30,
                "2023-06": 30}, 22.5, 44)
    done = coarsen_caseload(_frame([5, 20, 20, 30, 30, 30]), fig, ["entries", "exits"], {"entries": 44, "exits": 0})
    assert done.quarterly
    assert done.frame.rows() == [("2023-T1", 15.0, 12, 0), ("2023-T2", 30.0, 32, 0)]
    assert done.note == ("Regroupé par trimestre pour respecter le secret statistique : mois par mois, des effectifs "
                         "inférieurs à 11 auraient été masqués.")


def test_a_quarter_still_small_is_masked_and_said_so():
    # January to March 5, 6, 4 (all masked month by month): the first quarter's mean 5 is still below 11
    fig = _fig({m: (Masked(K) if m < "2023-04" else 30) for m in MONTHS}, 17.5, 44)
    done = coarsen_caseload(_frame([5, 6, 4, 30, 30, 30]), fig, ["entries", "exits"], {"entries": 44, "exits": 0})
    assert done.frame["caseload"].to_list() == [None, 30.0]
    assert done.frame["entries"].to_list() == [12, 32]
    assert "restent masqués" in done.note


def test_a_quarter_that_would_give_back_a_masked_month_is_masked():
    # only January (5) is masked in the published months and the average is masked too: the first quarter's mean
    # (5 + 20 + 20) / 3 = 15 is not small, but 3 × 15 − 20 − 20 would give January back
    fig = _fig({"2023-01": Masked(K), **{m: v for m, v in zip(MONTHS[1:], [20, 20, 30, 30, 30])}}, Masked(K, True), 44)
    frame = _frame([5, 20, 20, 30, 30, 30]).with_columns(pl.Series("entries", [20, 20, 20, 20, 20, 20]))
    done = coarsen_caseload(frame, fig, ["entries", "exits"], {"entries": 120, "exits": 0})
    assert done.quarterly  # no flow is masked, the caseload is
    assert done.frame["caseload"].to_list() == [None, 30.0]


def test_months_kept_when_nothing_is_masked_and_raw_figures_untouched():
    frame = _frame([30, 30, 30, 30, 30, 30]).with_columns(pl.col("entries") * 10)
    fig = _fig({m: 30 for m in MONTHS}, 30.0, 440)
    done = coarsen_caseload(frame, fig, ["entries", "exits"], {"entries": 440, "exits": 0})
    assert not done.quarterly and done.note is None and done.frame["month"].to_list() == MONTHS
    raw = coarsen_caseload(_frame([5, 20, 20, 30, 30, 30]), None, ["entries", "exits"])
    assert not raw.quarterly and raw.frame.equals(_frame([5, 20, 20, 30, 30, 30]))
    assert coarsen_monthly(frame, None, lambda f: (f, {}), flows=["entries"]).frame.equals(frame)


# ---------------------------------------------------------------- the sample, and every export through it

Y2023 = Period(date(2023, 1, 1), date(2023, 12, 31))
DOULLENS = Filters(commune=("Doullens",))  # a small selection: months below 11 in diffusion mode


@pytest.fixture(scope="module")
def doullens(sample_db):
    with closing(connect_readonly(sample_db)) as con:
        return build_context(con, Y2023, DOULLENS, suppress=K)


def test_the_tracking_table_of_a_small_selection_is_published_by_quarter(doullens):
    raw = monthly_tracking(doullens.ds)
    done = coarsen_tracking(raw, doullens.fig)
    assert done.quarterly and done.frame["month"].to_list() == ["2023-T1", "2023-T2", "2023-T3", "2023-T4"]
    # a quarter's flows are the sums of its months, where shown; its caseload the mean of its months, where shown
    quarters = to_quarters(raw, [c for c in raw.columns if c not in ("month", "caseload")], ["caseload"])
    for c in done.frame.columns[1:]:
        for shown, full in zip(done.frame[c].to_list(), quarters[c].to_list()):
            assert shown is None or shown == full, c
            if full is not None and 0 < full < K:
                assert shown is None, c  # what is still below 11 stays masked
    # never a small count published
    assert all(v is None or v == 0 or v >= K for c in done.frame.columns[2:] for v in done.frame[c].to_list())


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_csv_and_xlsx_exports_use_the_quarters(doullens, sample_db, tmp_path, monkeypatch):
    from analytics.reports.csv import monthly_tracking_csv
    from analytics.reports.xlsx import SHEETS, build_xlsx_from_context

    calls = []
    real = diffusion.coarsen_monthly
    monkeypatch.setattr("analytics.diffusion.coarsen.coarsen_monthly", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    rows = _csv(monthly_tracking_csv(doullens.ds, doullens.fig))
    assert calls  # the CSV goes through the one function
    assert rows[0][:2] == ["Trimestre", "File active moyenne"]
    assert [r[0] for r in rows[1:5]] == ["T1 2023", "T2 2023", "T3 2023", "T4 2023"]
    assert rows[6][0].startswith("Regroupé par trimestre pour respecter le secret statistique")
    expected = coarsen_tracking(monthly_tracking(doullens.ds), doullens.fig).frame
    assert rows[1][2] == (str(expected["entries"][0]) if expected["entries"][0] is not None else f"< {K}")
    # the raw CSV keeps its months
    assert _csv(monthly_tracking_csv(doullens.ds))[1][0] == "2023-01"

    out = tmp_path / "bilan.xlsx"
    calls.clear()
    build_xlsx_from_context(doullens, out)
    assert len(calls) >= 2  # the caseload sheet and the monthly tracking sheet
    wb = openpyxl.load_workbook(out)
    texts = [c.value for ws in (wb[SHEETS["monthly"]], wb[SHEETS["caseload"]]) for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert "T1 2023" in texts and "Trimestre" in texts
    assert sum("Regroupé par trimestre" in t for t in texts) == 2


def test_pdf_caseload_table_and_reading_use_the_quarters(doullens):
    from analytics.reports.sections import SECTIONS

    caseload = next(s for s in SECTIONS if s.key == "monthly_caseload")
    rows = caseload.table(doullens)
    done = coarsen_caseload(monthly_tracking(doullens.ds).select("month", "caseload"), doullens.fig)
    assert done.quarterly
    assert rows[0] == ["Trimestre", "File active moyenne"] and [r[0] for r in rows[1:5]] == ["T1 2023", "T2 2023", "T3 2023", "T4 2023"]
    assert "Regroupé par trimestre" in caseload.reading(doullens)


def test_file_active_page_in_diffusion_mode_shows_quarters(app):
    at = app("pages/file_active.py", annee="2023", commune="Doullens", diffusion="true")
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "File active moyenne" in d.value.columns and "Entrées" in d.value.columns)
    first = table.columns[0]
    assert first == "Trimestre" and list(table[first])[:4] == ["T1 2023", "T2 2023", "T3 2023", "T4 2023"]
    assert any("Regroupé par trimestre pour respecter le secret statistique" in c.value for c in at.caption)
