"""Series over the convention (SPEC-indicators v2 `--by`): each sub-period is exactly a call on it alone."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.extract import load_extract
from analytics.indicators import Filters, Period, compute_indicators
from analytics.indicators.series import convention_frame, series, sub_periods
from analytics.store import connect_readonly, import_extract
from coaching_test_helpers import write_extract
from test_properties import extracts

spans = st.tuples(st.integers(0, 1200), st.integers(0, 800)).map(
    lambda t: Period(date(2022, 1, 1) + timedelta(days=t[0]), date(2022, 1, 1) + timedelta(days=t[0] + t[1])))


@settings(max_examples=200, deadline=None)
@given(spans, st.sampled_from(["year", "quarter", "month"]))
def test_sub_periods_tile_the_period(period, by):
    subs = sub_periods(period, by)
    assert subs[0][1].start == period.start and subs[-1][1].end == period.end
    for (_, a), (_, b) in zip(subs, subs[1:]):
        assert b.start == a.end + timedelta(days=1)  # contiguous, no overlap
    for key, p in subs:
        assert p.start.year == p.end.year and str(p.start.year) == key[:4]
        if by == "month":
            assert key == p.start.strftime("%Y-%m") and p.start.month == p.end.month
        if by == "quarter":
            assert key[5:] == f"Q{(p.start.month - 1) // 3 + 1}" and (p.start.month - 1) // 3 == (p.end.month - 1) // 3
    assert len({k for k, _ in subs}) == len(subs)


def test_sub_periods_by_hand():
    assert [k for k, _ in sub_periods(Period(date(2023, 11, 15), date(2024, 2, 3)), "quarter")] == ["2023-Q4", "2024-Q1"]
    assert sub_periods(Period(date(2023, 11, 15), date(2024, 2, 3)), "year") == [
        ("2023", Period(date(2023, 11, 15), date(2023, 12, 31))), ("2024", Period(date(2024, 1, 1), date(2024, 2, 3)))]


def _store(ex: dict, folder: Path) -> Path:
    rows = [{**p, "date_prescription": p["date_prescription"].isoformat()} for p in ex["persons"]]
    write_extract(folder / "x", rows, ex["rendez_vous"], ex["immersions"])
    db = folder / "x.duckdb"
    import_extract(load_extract(folder / "x"), db)
    return db


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(extracts(), spans, st.sampled_from(["year", "quarter", "month"]))
def test_each_sub_period_equals_a_call_on_it_alone(ex, period, by):
    with tempfile.TemporaryDirectory() as tmp:
        db = _store(ex, Path(tmp))
        con = connect_readonly(db)
        try:
            out = series(con, period, Filters(), by)
            whole = compute_indicators(con, period)
            for key, sub in sub_periods(period, by):
                alone = compute_indicators(con, sub)
                assert out["series"][key] == {k: v for k, v in alone.items() if k not in ("period", "filters")}, key
            # additive figures: the sub-periods' entries and exits add up to the period's
            for key in ("entries", "exits", "positive_exits"):
                assert sum(f[key] for f in out["series"].values()) == whole[key], key
            assert out["by"] == by and out["period"] == period.as_json()
        finally:
            con.close()


def test_cli_by_year_on_the_sample(sample_db, capsys):
    from analytics.cli import main

    assert main(["indicators", "--db", str(sample_db), "--from", "2022-03-01", "--to", "2023-12-31", "--by", "year", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["series"]) == ["2022", "2023"] and out["by"] == "year"
    reference = json.loads((Path(__file__).parent / "reference" / "bilan-2023.json").read_text(encoding="utf-8"))
    assert out["series"]["2023"]["participants"] == reference["participants"]
    assert main(["indicators", "--db", str(sample_db), "--year", "2023", "--by", "week", "--json"]) == 2
    assert "invalides" in capsys.readouterr().err


def test_convention_frame_marks_the_year_to_date(sample_db):
    con = connect_readonly(sample_db)
    span = Period(date(2022, 1, 1), date(2023, 6, 30))
    frame = convention_frame(series(con, span, Filters(), "year")["series"], span)
    con.close()
    assert frame["year"].to_list() == ["2022", "2023"] and frame["partial"].to_list() == [False, True]
    assert frame["through"].to_list() == [date(2022, 12, 31), date(2023, 6, 30)]
