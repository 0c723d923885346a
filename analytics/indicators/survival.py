"""Time in the programme: a Kaplan–Meier estimate of how long people stay (SPEC-indicators v2, `time_to_exit`).

The cohort is the entries of P; each person's duration runs from `date_entree` to `date_sortie` when they left by
the end of P (an event), else to the end of P (censored). S(t) = Π over the event durations u ≤ t of (1 − d_u / n_u),
d_u the exits at duration u, n_u the persons whose duration is ≥ u; an exit on the day of entry is an event at 0.

The estimator is written here with Polars (a group-by and a cumulative product) rather than taken from `lifelines`:
lifelines 0.30.3 requires pandas < 3 (the project pins pandas 3.1.1, which Streamlit uses) and brings scipy,
matplotlib and autograd (+221 MB installed, 0.86 s to import) for a 20-line estimator; its results were compared
with this one (`tests/test_survival.py` holds the hand-computed case). The 95 % band is Greenwood's variance on
the log(−log S) scale (the "exponential Greenwood" band, lifelines' default).
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from analytics.indicators.base import Dataset, Period
from analytics.indicators.populations import lazy_population

c = pl.col
HORIZONS = [30, 91, 182, 365]  # the contract's survival points, in days
Z_95 = 1.959963984540054
COHORT_GROUPINGS = {"year": "Année d'entrée", "semester": "Semestre d'entrée", "primary_barrier": "Frein principal"}


def durations(persons: pl.DataFrame | pl.LazyFrame, end: date) -> pl.LazyFrame:
    """days, event for the persons given (their `date_entree` ≤ `end`): exit by `end` → event, else censored at `end`."""
    exited = c("date_sortie").is_not_null() & (c("date_sortie") <= end)
    return persons.lazy().select(
        pl.when(exited).then(c("date_sortie") - c("date_entree")).otherwise(pl.lit(end) - c("date_entree"))
        .dt.total_days().cast(pl.Int64).alias("days"),
        exited.alias("event"))


def km_table(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """days, at_risk, events, survival, low, high: the Kaplan–Meier estimate at each event duration of a (days, event)
    frame, with its 95 % band (Greenwood, log(−log) scale; the band is null where it is undefined: S = 0 or 1)."""
    by_day = (frame.lazy().group_by("days").agg(c("event").sum().cast(pl.Int64).alias("events"), pl.len().cast(pl.Int64).alias("n"))
              .sort("days").collect())
    if by_day.is_empty():
        return pl.DataFrame(schema={"days": pl.Int64, "at_risk": pl.Int64, "events": pl.Int64, "survival": pl.Float64,
                                    "low": pl.Float64, "high": pl.Float64})
    table = (by_day.with_columns(c("n").reverse().cum_sum().reverse().alias("at_risk"))
             .filter(c("events") > 0)
             .with_columns((1 - c("events") / c("at_risk")).cum_prod().alias("survival"),
                           (c("events") / (c("at_risk") * (c("at_risk") - c("events")))).cum_sum().alias("greenwood")))
    low, high = [], []
    for s, v in zip(table["survival"], table["greenwood"]):
        if s <= 0 or s >= 1 or v is None or not math.isfinite(v):
            low.append(None), high.append(None)
            continue
        half = Z_95 * math.sqrt(v) / abs(math.log(s))
        low.append(s ** math.exp(half)), high.append(s ** math.exp(-half))
    return table.select("days", "at_risk", "events", "survival").with_columns(
        pl.Series("low", low, dtype=pl.Float64), pl.Series("high", high, dtype=pl.Float64))


def survival_at(table: pl.DataFrame, t: int) -> float:
    """S(t): the estimate at the last event duration ≤ t (1 before the first)."""
    before = table.filter(c("days") <= t)
    return float(before["survival"][-1]) if before.height else 1.0


# S is a product of floats: 0.9 · 7/9 · 6/7 · 5/6 gives 0.5000000000000001, not 0.5. The median compares with this
# tolerance so that an S of exactly one half (by the contract's arithmetic) reaches it.
HALF_TOLERANCE = 1e-9


def median_days(table: pl.DataFrame) -> int | None:
    """The smallest event duration u with S(u) ≤ 0.5 (within `HALF_TOLERANCE`); None when S never reaches 0.5."""
    reached = table.filter(c("survival") <= 0.5 + HALF_TOLERANCE)
    return int(reached["days"][0]) if reached.height else None


def cohort(ds: Dataset) -> pl.LazyFrame:
    """The entries of P with their duration and event (SPEC-indicators v2)."""
    return durations(lazy_population(ds, "entries"), ds.period.end)


def time_to_exit(ds: Dataset) -> dict:
    """{"cohort", "events", "median_days", "survival": {"30", "91", "182", "365"}} for the entries of P."""
    frame = cohort(ds).collect()
    if frame.is_empty():
        return {"cohort": 0, "events": 0, "median_days": None, "survival": {str(t): None for t in HORIZONS}}
    table = km_table(frame)
    return {"cohort": frame.height, "events": int(frame["event"].sum()), "median_days": median_days(table),
            "survival": {str(t): round(survival_at(table, t), 4) for t in HORIZONS}}


def _group_expr(by: str) -> pl.Expr:
    entry = c("date_entree")
    if by == "year":
        return entry.dt.year().cast(pl.String)
    if by == "semester":
        return pl.format("{} S{}", entry.dt.year(), pl.when(entry.dt.month() <= 6).then(1).otherwise(2))
    if by == "primary_barrier":
        return c("frein_principal").cast(pl.String).fill_null("Non renseigné")
    raise ValueError(f"regroupement inconnu : {by}")


def survival_curves(ds: Dataset, by: str = "year", k: int | None = None) -> pl.DataFrame:
    """group, n, days, at_risk, survival, low, high: one Kaplan–Meier curve per group of the entries of P (entry year,
    entry semester or primary barrier), each starting at (0 days, 100 %), censored at the end of P.

    With `k` (diffusion mode), a group of fewer than k persons is left out and each curve stops before the first
    duration at which fewer than k persons were still followed (a share built on fewer than k persons is not shown)."""
    entries = lazy_population(ds, "entries").select("date_entree", "date_sortie", "frein_principal").collect()
    frames = []
    for (group,), persons in sorted(entries.with_columns(_group_expr(by).alias("group")).group_by("group"),
                                    key=lambda kv: str(kv[0][0])):
        if k is not None and persons.height < k:
            continue
        table = km_table(durations(persons, ds.period.end))
        if k is not None:
            table = table.filter(c("at_risk") >= k)
        start = pl.DataFrame({"days": [0], "at_risk": [persons.height], "events": [0], "survival": [1.0], "low": [1.0], "high": [1.0]},
                             schema=table.schema)
        frames.append(pl.concat([start, table])
                      .with_columns(pl.lit(str(group)).alias("group"), pl.lit(persons.height, dtype=pl.Int64).alias("n")))
    schema = {"group": pl.String, "n": pl.Int64, "days": pl.Int64, "at_risk": pl.Int64, "survival": pl.Float64,
              "low": pl.Float64, "high": pl.Float64}
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).select(list(schema))


def default_grouping(period: Period) -> str:
    """Entry cohorts by semester within one year or less, by year beyond."""
    return "semester" if period.days <= 366 else "year"
