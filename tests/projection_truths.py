"""Synthetic extracts whose truth is known, for the projection's backtest (tests/test_projection.py, bench)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl

START, END = date(2021, 1, 1), date(2025, 12, 31)


def _rate(kind: str, month_index: int, month_of_year: int) -> float:
    if kind == "stationary":
        return 6.0
    if kind == "growing":  # 3 entries a month in January 2021, 9 in December 2025
        return 3.0 + 6.0 * month_index / 59
    if kind == "seasonal":  # many entries in early autumn and late winter, few in summer and December
        return 6.0 * (1 + 0.6 * math.cos(2 * math.pi * (month_of_year - 3) / 6) * (0.5 if month_of_year in (7, 8, 12) else 1)
                      - (0.6 if month_of_year in (7, 8, 12) else 0))
    raise ValueError(kind)


def truth(kind: str, seed: int = 0) -> pl.DataFrame:
    """date_prescription, date_entree, date_sortie of the persons of 2021–2025 (data date 31/12/2025): Poisson entries at
    the rate of `kind`, stays of a mixture of short (mean 3 months, 40 %) and long (mean 11 months) exponential
    durations, one prescription in five never followed by an entry."""
    rng = np.random.default_rng(seed)
    rows = []
    y, m, i = START.year, START.month, 0
    while date(y, m, 1) <= END:
        first = date(y, m, 1)
        days = (date(y + (m == 12), m % 12 + 1, 1) - first).days
        for _ in range(rng.poisson(max(_rate(kind, i, m), 0.2))):
            entry = first + timedelta(days=int(rng.integers(0, days)))
            presc = entry - timedelta(days=int(rng.integers(3, 30)))
            stay = int(rng.exponential(90 if rng.random() < 0.4 else 330))
            exit_ = entry + timedelta(days=stay)
            rows.append((presc, entry, exit_ if exit_ <= END else None))
        for _ in range(rng.poisson(max(_rate(kind, i, m), 0.2) / 4)):  # never entered
            rows.append((first + timedelta(days=int(rng.integers(0, days))), None, None))
        y, m, i = (y + 1, 1, i + 1) if m == 12 else (y, m + 1, i + 1)
    return pl.DataFrame(rows, schema={"date_prescription": pl.Date, "date_entree": pl.Date, "date_sortie": pl.Date}, orient="row")
