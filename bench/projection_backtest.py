"""Backtest of the caseload projection on synthetic extracts whose truth is known (docs/steering.md, REPORT-15.md).

    .venv/bin/python -m bench.projection_backtest

For each truth (stationary, growing, seasonal entries) and two draws: forecasts made at the 18 last month ends whose
six following months are known, against what happened, and against the naive « the caseload stays as it is »."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from analytics.indicators.projection import actual_caseload, backtest, backtest_summary  # noqa: E402
from projection_truths import END, truth  # noqa: E402


def main() -> None:
    for kind in ("stationary", "growing", "seasonal"):
        frames = []
        for seed in (0, 1):
            persons = truth(kind, seed)
            bt = backtest(persons, END, months=6, origins=18, runs=300)
            naive = actual_caseload(persons, bt["at"].dt.strftime("%Y-%m").unique().to_list())
            frames.append(bt.with_columns(pl.col("at").dt.strftime("%Y-%m").replace_strict(naive).alias("naive")))
        bt = pl.concat(frames)
        naive = bt.group_by("horizon").agg((pl.col("naive") - pl.col("actual")).abs().mean().round(2).alias("naive_mae"))
        table = backtest_summary(bt).join(naive, on="horizon").sort("horizon")
        print(f"\n{kind} (mean caseload {bt['actual'].mean():.1f}, {bt.height} forecasts)")
        print("horizon | MAE | naive MAE | bias | MAPE | 80 % coverage")
        for r in table.iter_rows(named=True):
            print(f"{r['horizon']} | {r['mean_abs_error']:.2f} | {r['naive_mae']:.2f} | {r['mean_error']:+.2f} | "
                  f"{r['mean_abs_pct_error']:.1%} | {r['coverage']:.0%}")


if __name__ == "__main__":
    main()
