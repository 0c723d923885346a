"""The benchmark's pandas peer gives the engine's figures, and the bench runner works end to end at a tiny size.

No wall-clock limit is asserted here: timings belong to `make bench` (bench/RESULTS.md).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from analytics.indicators import FIGURES, Filters, Period, compute_indicators
from analytics.store import connect_readonly, query
from bench import pandas_peer

ROOT = Path(__file__).resolve().parent.parent


def _check(db: Path, period: Period, filters: Filters) -> dict:
    con = connect_readonly(db)
    try:
        engine = compute_indicators(con, period, filters)
        peer = pandas_peer.indicators(pandas_peer.read_tables(con), period.start, period.end, filters)
    finally:
        con.close()
    assert pandas_peer.differences(engine, peer, FIGURES) == []
    return peer


@pytest.mark.parametrize("filters", [Filters(), Filters(commune=("Doullens",)), Filters(prescriber=("Pôle emploi",))],
                         ids=["all", "doullens", "pole-emploi"])
def test_pandas_peer_equals_the_engine_on_the_sample_2023(sample_db, filters):
    peer = _check(sample_db, Period.year(2023), filters)
    if filters.is_empty():  # the peer is not trivially empty: the 2023 report's head counts
        assert (peer["positioned"], peer["participants"], peer["exits"]) == (134, 117, 76)


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory) -> Path:
    """A synthetic extract of 2 000 persons, written as CSV and imported like any extract."""
    from analytics.importer import run_import
    from analytics.sample import synthetic_extract, write_extract

    folder = tmp_path_factory.mktemp("synthetic")
    write_extract(synthetic_extract(2000, seed=7), folder / "extract")
    db = folder / "store.duckdb"
    run_import(folder / "extract", db)
    return db


def _top_commune(db: Path, year: int) -> str:
    con = connect_readonly(db)
    try:
        return query(con, "SELECT commune, count(*) AS n FROM participants WHERE date_entree <= ? AND "
                          "(date_sortie IS NULL OR date_sortie >= ?) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
                     [date(year, 12, 31), date(year, 1, 1)])["commune"][0]
    finally:
        con.close()


@pytest.mark.parametrize("with_commune", [False, True], ids=["all", "commune"])
def test_pandas_peer_equals_the_engine_on_a_synthetic_extract(synthetic_db, with_commune):
    filters = Filters(commune=(_top_commune(synthetic_db, 2024),)) if with_commune else Filters()
    peer = _check(synthetic_db, Period.year(2024), filters)
    assert peer["participants"] > 0 and peer["appointments"]["planned"] > 0 and peer["immersions"]["count"] > 0


def test_pandas_peer_equals_the_engine_on_a_period_cutting_months(synthetic_db):
    _check(synthetic_db, Period(date(2023, 3, 15), date(2023, 8, 10)), Filters(prescriber=("Pôle emploi",)))


def test_differences_name_the_key_that_disagrees():
    engine = {"exits": 3, "sex": {"Femme": 2, "Homme": 0}, "esf": None}
    assert pandas_peer.differences(engine, {"exits": 3, "sex": {"Femme": 2}, "esf": None}) == []  # zero counts may be left out
    diffs = pandas_peer.differences(engine, {"exits": 4, "sex": {"Femme": 2}}, ["exits", "sex", "esf"])
    assert [d.split(":")[0] for d in diffs] == ["exits", "esf"]


@pytest.mark.xdist_group("heavy")
def test_the_bench_runs_end_to_end_on_the_sample(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--sizes", "134", "--repeat", "1", "--out", str(out),
                           "--work", str(tmp_path / "work")], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "| measure (median) | sample |" in proc.stdout  # the table is printed as well as written
    for heading in ("## Machine", "## Method", "## Results", "## Targets of issue #6", "## Targets of issue #17 (bounded memory)",
                    "## Hot spots", "## Checks"):
        assert heading in text
    assert "`nproc` = " in text and "Load average" in text and "duckdb " in text and "polars " in text
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip().strip("|").split("|")]
                                              for line in text.splitlines() if line.startswith("| "))}
    expected = [
        "persons (participants table)", "floor: DuckDB read_csv → 3 tables (fresh process), s",
        "import: coaching import (fresh process), s", "import ÷ floor (wall)", "generation peak RSS, MB",
        "import peak RSS, MB", "compute_indicators, year — sans filtre, ms", "compute_indicators, year — commune, ms",
        "compute_indicators, year — prescripteur, ms", "dataset load (DuckDB → Polars) — sans filtre, ms",
        "coaching indicators --json end to end — sans filtre, ms", "pandas: read 3 tables into DataFrames, ms",
        "pandas: compute — sans filtre, ms", "pandas (read + compute) ÷ engine — sans filtre",
        "pandas figures = engine figures (keys × filters)", "dashboard: rerun after a commune filter change, ms",
        "dashboard process peak RSS, MB", "dashboard: first run, page « Vue d'ensemble », ms",
        *[f"figure `{key}` — {v}, ms" for key in FIGURES for v in ("sans filtre", "commune", "prescripteur")],
    ]
    missing = [name for name in expected if name not in rows]
    assert not missing, missing
    sample_rows = len((ROOT / "data" / "sample" / "participants.csv").read_text(encoding="utf-8-sig").splitlines()) - 1
    assert rows["persons (participants table)"] == [str(sample_rows)]
    # the busiest year the sample covers entirely (most participants), found here with the engine
    from analytics.extract import load_extract
    from analytics.store import import_extract

    db = tmp_path / "check.duckdb"
    import_extract(load_extract(ROOT / "data" / "sample"), db)
    con = connect_readonly(db)
    try:
        lo, hi = con.execute("""SELECT min(least(date_prescription, date_entree)),
                                       max(greatest(date_prescription, coalesce(date_entree, date_prescription),
                                                    coalesce(date_sortie, date_prescription))) FROM participants""").fetchone()
        full = [y for y in range(lo.year, hi.year + 1) if lo <= date(y, 1, 1) and date(y, 12, 31) <= hi]
        busiest = max(full, key=lambda y: compute_indicators(con, Period.year(y))["participants"])
    finally:
        con.close()
    assert rows["year measured (busiest full year)"] == [str(busiest)]
    assert rows["pandas figures = engine figures (keys × filters)"] == [f"yes ({len(FIGURES)} × 3)"]
    from bench.workers import page_files

    assert sum(1 for name in rows if name.startswith("dashboard: page « ")) == len(page_files()) - 1  # every other page
    assert "exception on" not in text and "failed" not in text.split("## Checks")[1]


def test_engine_pair_times_both_stores_in_each_round(sample_db, synthetic_db):
    from bench.workers import engine_pair

    out = engine_pair({"dbs": [str(sample_db), str(synthetic_db)], "years": [2023, 2024], "rounds": 3, "repeat": 2})
    assert len(out["rounds"]) == 3 and all(len(r) == 2 and all(t > 0 for t in r) for r in out["rounds"])
