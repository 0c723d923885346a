"""The monthly active caseload ("file active") against the agreed target."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.indicators.base import Dataset, Period
from analytics.indicators.populations import memoized

c = pl.col


@memoized
def monthly_caseload(ds: Dataset) -> dict[str, int]:
    """For each month M meeting P: entered by the last day of M∩P and not exited before its first day (all the
    months in one pass over the persons)."""
    entry, exit_ = c("date_entree"), c("date_sortie")
    months = ds.period.months()
    if not months:
        return {}
    row = ds.persons.select([((entry <= last) & (exit_.is_null() | (exit_ >= first))).fill_null(False).sum().alias(key)
                             for key, first, last in months]).row(0)
    return {key: int(n or 0) for (key, _, _), n in zip(months, row)}


def average_caseload(ds: Dataset) -> float | None:
    months = monthly_caseload(ds)
    return round(sum(months.values()) / len(months), 2) if months else None


def caseload_target(ds: Dataset) -> int | None:
    return ds.caseload_target


def applicable_target(ds: Dataset) -> int | None:
    """The target the selection is compared with: the convention's, None when a filter cuts across the conventions
    (commune, EPCI, prescriber: `analytics.config.objective_for`)."""
    from analytics.config import cuts_across

    return None if cuts_across(ds.filters) else ds.caseload_target


def caseload_frame(ds: Dataset) -> pl.DataFrame:
    """month, caseload, target: the file-active series drawn against the target that applies (`applicable_target`)."""
    months = monthly_caseload(ds)
    return pl.DataFrame({"month": list(months), "caseload": list(months.values()),
                         "target": [applicable_target(ds)] * len(months)},
                        schema={"month": pl.String, "caseload": pl.Int64, "target": pl.Int64})


def _by_month(ds: Dataset, column: str, extra: list[str] = ()) -> pl.DataFrame:
    p = ds.period
    return (ds.persons.filter(c(column).is_between(p.start, p.end))
            .group_by(c(column).dt.strftime("%Y-%m").alias("month"), *extra).len("n"))


def monthly_flows(ds: Dataset) -> pl.DataFrame:
    """month, entries, exits for every month of the period (zeros included)."""
    months = pl.DataFrame({"month": [m for m, _, _ in ds.period.months()]})
    ent = _by_month(ds, "date_entree").rename({"n": "entries"})
    ext = _by_month(ds, "date_sortie").rename({"n": "exits"})
    return (months.join(ent, on="month", how="left").join(ext, on="month", how="left")
            .with_columns(c("entries").fill_null(0).cast(pl.Int64), c("exits").fill_null(0).cast(pl.Int64)))


def monthly_exits_by_reason(ds: Dataset) -> pl.DataFrame:
    """month, motif_sortie, n: exits of each month by reason (the monthly tracking table)."""
    return _by_month(ds, "date_sortie", ["motif_sortie"]).sort("month", "motif_sortie")


def prescriptions_by_month(ds: Dataset) -> pl.DataFrame:
    """month, prescripteur, n: prescriptions received each month of P."""
    return _by_month(ds, "date_prescription", ["prescripteur"]).sort("month", "prescripteur")


def months_at_or_above_target(ds: Dataset) -> int | None:
    """Number of months of P whose caseload reaches the convention's target; None without a target that applies."""
    target = applicable_target(ds)
    if target is None:
        return None
    return sum(1 for n in monthly_caseload(ds).values() if n >= target)


def caseload_table(ds: Dataset) -> pl.DataFrame:
    """month, caseload, target, entries, exits: the month-by-month table of the File active page."""
    return caseload_frame(ds).join(monthly_flows(ds), on="month", how="left", maintain_order="left")


def year_earlier(period: Period) -> Period:
    """The same dates one year before (a calendar year gives `period.previous()`); 29 February → 28."""
    def shift(d: date) -> date:
        return d.replace(year=d.year - 1, day=28) if (d.month, d.day) == (2, 29) else d.replace(year=d.year - 1)

    return Period(shift(period.start), shift(period.end))
