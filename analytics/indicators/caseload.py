"""The monthly active caseload ("file active") against the agreed target."""

from __future__ import annotations

import polars as pl

from analytics.indicators.base import Dataset

c = pl.col


def monthly_caseload(ds: Dataset) -> dict[str, int]:
    """For each month M meeting P: entered by the last day of M∩P and not exited before its first day."""
    entry, exit_ = ds.persons["date_entree"], ds.persons["date_sortie"]
    out = {}
    for key, first, last in ds.period.months():
        out[key] = int(((entry <= last) & (exit_.is_null() | (exit_ >= first))).fill_null(False).sum())
    return out


def average_caseload(ds: Dataset) -> float | None:
    months = monthly_caseload(ds)
    return round(sum(months.values()) / len(months), 2) if months else None


def caseload_target(ds: Dataset) -> int | None:
    return ds.caseload_target
