"""The indicator engine: every figure of SPEC-indicators, each computed by exactly one function.

`FIGURES` maps each key of the `coaching indicators --json` contract to the function that
computes it; pages, reports and the command line all go through `compute` / `compute_indicators`.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from analytics.config import caseload_target_for
from analytics.indicators import activity, caseload, esf, exits, populations, profile, survival
from analytics.indicators.base import Dataset, Filters, Period, PeriodAfterData, data_date, empty_dataset, load_dataset

FIGURES: dict[str, Callable[[Dataset], object]] = {
    "positioned": populations.count_positioned,
    "participants": populations.count_participants,
    "entries": populations.count_entries,
    "exits": populations.count_exits,
    "active_at_end": populations.count_active_at_end,
    "positive_exits": populations.count_positive_exits,
    "not_entered": populations.not_entered,
    "prescriber": profile.prescriber,
    "sex": profile.sex,
    "age_band": profile.age_band,
    "education_level": profile.education_level,
    "status": profile.status,
    "household": profile.household,
    "primary_barrier": profile.primary_barrier,
    "barrier_any": profile.barrier_any,
    "commune": profile.commune,
    "epci": profile.epci,
    "exit_reason": exits.exit_reason,
    "exit_detail": exits.exit_detail,
    "exit_category": exits.exit_category,
    "positive_exit_rate": populations.positive_exit_rate,
    "monthly_caseload": caseload.monthly_caseload,
    "average_caseload": caseload.average_caseload,
    "caseload_target": caseload.caseload_target,
    "exits_with_immersion": exits.exits_with_immersion,
    "exits_with_two_or_more_immersions": exits.exits_with_two_or_more_immersions,
    "immersions": activity.immersions,
    "first_appointment_delay_days": activity.first_appointment_delay_days,
    "appointments": activity.appointments,
    "post_exit_follow_up_rate": exits.post_exit_follow_up_rate,
    "time_to_exit": survival.time_to_exit,
    "esf": esf.esf,
}


def dataset(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(), *, clip: bool = True) -> Dataset:
    """The data of a period and filters. The period is clipped at the store's data date (`Period.clip`): no month
    after it is counted (`PeriodAfterData` when the whole period lies after it). `clip=False` keeps the period as
    asked (the v1 contract of `coaching indicators`, see docs/periods.md)."""
    return load_dataset(con, period.clip(data_date(con)) if clip else period, filters, caseload_target_for(filters))


def compute(ds: Dataset, keys: list[str] | None = None) -> dict:
    return {k: FIGURES[k](ds) for k in (keys or FIGURES)}


def compute_indicators(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(),
                       keys: list[str] | None = None, *, clip: bool = False) -> dict:
    """The `coaching indicators --json` object: period, filters and every figure.

    `period` is the period the figures cover. By default the period as asked (the v1 contract); with `clip`, cut at
    the data date when it reaches past it. Keys outside the v1 contract: `data_date` (ISO date of the latest event
    in the store, null for an empty store) and, only when the period was clipped, `requested_period` (as asked)."""
    latest = data_date(con)
    ds = dataset(con, period, filters, clip=clip)
    extra = {"data_date": latest.isoformat() if latest else None}
    if ds.period.clipped:
        extra["requested_period"] = ds.period.requested.as_json()
    return {"period": ds.period.as_json(), "filters": filters.as_json(), **extra, **compute(ds, keys)}


__all__ = ["FIGURES", "Dataset", "Filters", "Period", "PeriodAfterData", "compute", "compute_indicators", "data_date", "dataset",
           "empty_dataset"]
