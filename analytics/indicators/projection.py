"""Caseload projection (SPEC-indicators v2 `coaching projection`): the next months' « file active » with an 80 %
interval, from what was known on `at` only, and the entries and prescriptions it would take to reach the target.

Method (stated to the users in `analytics.definitions`, key `projection`):

* What is known on `at`: the persons prescribed on or before `at`; an entry or an exit dated after `at` is unknown
  (the person is not yet in, or still in).
* Exits: the Kaplan–Meier estimate (`analytics.indicators.survival`) of the time spent in the action over every entry
  up to `at`, censored at `at`. Beyond the durations where fewer than `TAIL_AT_RISK` persons remain observed, the
  survival continues with the constant exit rate observed past the median stay (exits / person-days), so that nobody
  stays for ever. A person in the action on `at` for d days leaves after t more days with probability
  1 − S(d + t) / S(d) (the exit hazard by time already spent).
* Entries: Poisson each month, with a rate = a level × a month-of-year factor. The level is the exponentially weighted
  mean (half-life `HALF_LIFE_MONTHS` months) of the deseasonalised entries of the last 24 complete months; its
  uncertainty is that of a Poisson rate estimated on those weights (a Gamma draw per simulation). The month-of-year
  factors come from the complete years of history (at least two), shrunk towards 1 in proportion to the number of
  years (a single year is no evidence of a season).
* Monte Carlo: `RUNS` simulated futures (fixed seed, so a forecast is reproducible); `expected` is their mean, `low`
  and `high` their 10th and 90th percentiles (the 80 % interval) of each month's caseload (the `monthly_caseload`
  definition: in the action at any day of the month).
* Entries needed: month by month, the extra entries that bring the expected caseload up to the target, counting those
  asked for in the earlier months that would still be in the action; prescriptions needed: entries needed / the share
  of the prescriptions of the 12 months before `at` that had led to an entry by `at`.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from analytics.indicators.base import Filters
from analytics.indicators.survival import durations, km_table
from analytics.store import query

c = pl.col
RUNS = 2000
HALF_LIFE_MONTHS = 4
HISTORY_MONTHS = 24
TAIL_AT_RISK = 10
HORIZON_DAYS = 3 * 366 + 400  # the survival grid: far beyond any projection
SEED = 20231


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: date, k: int) -> date:
    y, m = divmod(d.month - 1 + k, 12)
    return date(d.year + y, m + 1, 1)


def _key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def known_on(persons: pl.DataFrame, at: date) -> pl.DataFrame:
    """The persons as the store knew them on `at`: prescribed by then, entry and exit dates after `at` blanked."""
    return (persons.filter(c("date_prescription").is_null() | (c("date_prescription") <= at))
            .filter(c("date_prescription").is_not_null() | (c("date_entree") <= at))
            .with_columns(pl.when(c("date_entree") <= at).then(c("date_entree")).alias("date_entree"))
            .with_columns(pl.when(c("date_entree").is_not_null() & (c("date_sortie") <= at)).then(c("date_sortie"))
                          .alias("date_sortie")))


def survival_grid(known: pl.DataFrame, at: date) -> np.ndarray:
    """S(t) for t = 0 … HORIZON_DAYS days (see the module docstring: Kaplan–Meier, then a constant-rate tail)."""
    entered = known.filter(c("date_entree").is_not_null())
    frame = durations(entered, at).collect()
    grid = np.ones(HORIZON_DAYS + 1)
    if frame.is_empty():
        return grid
    table = km_table(frame)
    reliable = table.filter(c("at_risk") >= TAIL_AT_RISK)
    for days, s in zip(reliable["days"], reliable["survival"]):
        if days <= HORIZON_DAYS:
            grid[days:] = s
    last = int(reliable["days"][-1]) if reliable.height else 0
    # the tail: exits / person-days beyond the median observed duration
    cut = float(frame["days"].median())
    beyond = frame.filter(c("days") >= cut)
    person_days = float((beyond["days"] - cut).sum()) + beyond.height
    rate = float(beyond["event"].sum()) / person_days if person_days > 0 else 0.0
    if rate <= 0:  # no exit ever observed: the overall rate, or a two-year mean stay
        total = float(frame["days"].sum()) + frame.height
        rate = max(float(frame["event"].sum()) / total, 1 / 730)
    t = np.arange(HORIZON_DAYS + 1)
    tail = t > last
    grid[tail] = grid[last] * np.exp(-rate * (t[tail] - last))
    return grid


@dataclass(frozen=True)
class EntryModel:
    level: float  # entries per month (deseasonalised)
    shape: float  # Gamma posterior of the level: shape / rate
    rate: float
    seasonal: np.ndarray  # 12 month-of-year factors (mean 1)


def entry_model(known: pl.DataFrame, at: date) -> EntryModel:
    """The monthly entry rate from the complete months before `at` (see the module docstring)."""
    first_full = _add_months(_month_start(at), -HISTORY_MONTHS)
    last_full = _add_months(_month_start(at), 0)  # exclusive: the month of `at` is incomplete (unless `at` is its end)
    if at == _month_end(at):
        last_full = _add_months(_month_start(at), 1)
    entries = known.filter(c("date_entree").is_not_null()).select(c("date_entree").dt.strftime("%Y-%m").alias("m"))
    by_month = dict(entries.group_by("m").len().iter_rows())
    first_entry = known["date_entree"].drop_nulls().min()
    # month-of-year factors from the complete calendar years of history
    seasonal = np.ones(12)
    if first_entry is not None:
        years = [y for y in range(first_entry.year, at.year + 1)
                 if date(y, 1, 1) >= _month_start(first_entry) and date(y, 12, 31) < last_full]
        if len(years) >= 2:
            counts = np.array([[by_month.get(f"{y:04d}-{m:02d}", 0) for m in range(1, 13)] for y in years], dtype=float)
            means = counts.mean(axis=1, keepdims=True)
            usable = means[:, 0] > 0
            if usable.any():
                raw = (counts[usable] / means[usable]).mean(axis=0)
                weight = len(years) / (len(years) + 2)  # two years: half-way between 1 and the observed factors
                seasonal = 1 + weight * (raw - 1)
                seasonal = seasonal / seasonal.mean()
    months, weights, values = [], [], []
    m = first_full
    start = _month_start(first_entry) if first_entry is not None else last_full
    while m < last_full:
        if m >= start:
            months.append(m)
        m = _add_months(m, 1)
    n = len(months)
    for i, month in enumerate(months):
        age = n - 1 - i
        weights.append(0.5 ** (age / HALF_LIFE_MONTHS))
        values.append(by_month.get(_key(month), 0) / seasonal[month.month - 1])
    w, x = np.array(weights), np.array(values)
    if not n:
        return EntryModel(0.0, 0.5, 1.0, seasonal)
    level = float((w * x).sum() / w.sum())
    # Poisson rate on weighted months: Gamma(Σw·x + ½, Σw) (Jeffreys prior)
    return EntryModel(level, float((w * x).sum()) + 0.5, float(w.sum()), seasonal)


def _exit_after(grid: np.ndarray, spent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Days until the exit for persons who have spent `spent` days in the action (exit hazard by time spent)."""
    spent = np.minimum(spent, HORIZON_DAYS)
    u = rng.random(spent.shape[0]) * grid[spent]
    # first t with S(t) <= u·S(d); S is non-increasing → search on −S
    t = np.searchsorted(-grid, -u, side="left")
    t = np.maximum(t, spent)
    return np.where(t > HORIZON_DAYS, 10 ** 6, t - spent)


def entry_share(known: pl.DataFrame, at: date) -> float | None:
    """Share of the prescriptions of the 12 months before `at` that had led to an entry by `at` (4 decimals)."""
    start = date(at.year - 1, at.month, min(at.day, calendar.monthrange(at.year - 1, at.month)[1])) + timedelta(days=1)
    presc = known.filter(c("date_prescription").is_between(start, at))
    if presc.is_empty():
        return None
    return round(presc.filter(c("date_entree").is_not_null()).height / presc.height, 4)


def project(persons: pl.DataFrame, at: date, months: int = 6, target: int | None = None, runs: int = RUNS,
            seed: int = SEED) -> dict:
    """The projection object of the contract from a frame of persons (`date_prescription`, `date_entree`, `date_sortie`):
    only what was known on `at` is used (`known_on`)."""
    known = known_on(persons.select("date_prescription", "date_entree", "date_sortie"), at)
    rng = np.random.default_rng(seed)
    grid = survival_grid(known, at)
    model = entry_model(known, at)
    first = _add_months(_month_start(at), 1)
    bounds = [(_add_months(first, k), _month_end(_add_months(first, k))) for k in range(months)]
    origin = at.toordinal()
    starts = np.array([s.toordinal() - origin for s, _ in bounds])  # days after `at`
    ends = np.array([e.toordinal() - origin for _, e in bounds])
    active = known.filter(c("date_entree").is_not_null() & c("date_sortie").is_null())
    spent = np.array([(at - d).days for d in active["date_entree"]], dtype=np.int64)
    # entry slots: the rest of the month of `at`, then each projected month (days after `at`, month of year)
    slots = [(1, (_month_end(at) - at).days, at.month, (_month_end(at) - at).days / calendar.monthrange(at.year, at.month)[1])]
    slots += [(int(s), int(e), b[0].month, 1.0) for s, e, b in zip(starts, ends, bounds)]
    caseload = np.zeros((runs, months))
    for r in range(runs):
        level = rng.gamma(model.shape, 1 / model.rate)
        counts = np.zeros(months)
        if spent.size:
            leave = _exit_after(grid, spent, rng)  # the person is in month M when their exit day is ≥ its first day
            counts += (leave[:, None] >= starts[None, :]).sum(axis=0)
        for lo, hi, month_of_year, fraction in slots:
            if hi < lo:
                continue
            n = rng.poisson(level * model.seasonal[month_of_year - 1] * fraction)
            if not n:
                continue
            day = rng.integers(lo, hi + 1, size=n)
            stay = _exit_after(grid, np.zeros(n, dtype=np.int64), rng)
            counts += ((day[:, None] <= ends[None, :]) & (day[:, None] + stay[:, None] >= starts[None, :])).sum(axis=0)
        caseload[r] = counts
    expected = caseload.mean(axis=0)
    low, high = np.percentile(caseload, 10, axis=0), np.percentile(caseload, 90, axis=0)
    keys = [_key(s) for s, _ in bounds]
    out = {"at": at.isoformat(), "target": target,
           "months": {k: {"expected": round(float(e), 1), "low": int(math.floor(lo_)), "high": int(math.ceil(hi_))}
                      for k, e, lo_, hi_ in zip(keys, expected, low, high)}}
    share = entry_share(known, at)
    needed = entries_needed(expected, bounds, grid, target)
    out["entries_needed"] = dict(zip(keys, needed)) if needed is not None else {k: None for k in keys}
    out["prescriptions_needed"] = {k: (None if n is None or (n and not share) else math.ceil(n / share) if n else 0)
                                   for k, n in out["entries_needed"].items()}
    out["entry_share"] = share
    out["basis"] = {"active_at": int(spent.size), "entries_per_month": round(model.level, 2),
                    "persons": int(known.filter(c("date_entree").is_not_null()).height)}
    return out


def entries_needed(expected: np.ndarray, bounds: list[tuple[date, date]], grid: np.ndarray, target: int | None) -> list[int] | None:
    """Month by month, the extra entries (entered mid-month) that bring the expected caseload up to `target`, those
    asked for earlier counting in the later months with their probability of still being in the action."""
    if target is None:
        return None
    extra = np.zeros(len(bounds))
    needed = []
    for k, (start, end) in enumerate(bounds):
        n = max(0, math.ceil(target - (expected[k] + extra[k]) - 1e-9))
        needed.append(n)
        if n:
            mid = start + (end - start) / 2
            for j in range(k + 1, len(bounds)):
                extra[j] += n * grid[min((bounds[j][0] - mid).days, HORIZON_DAYS)]
    return needed


# ---------------------------------------------------------------- from the store

def load_persons(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pl.DataFrame:
    """The three dates of every person of the selection (the projection reads nothing else)."""
    where, params = filters.sql("p")
    return query(con, f"SELECT date_prescription, date_entree, date_sortie FROM participants p WHERE {where}", params)


def projection(con: duckdb.DuckDBPyConnection, at: date, months: int = 6, filters: Filters = Filters()) -> dict:
    """`coaching projection --json` (SPEC-indicators v2)."""
    from analytics.config import caseload_target_for

    return project(load_persons(con, filters), at, months, caseload_target_for(filters))


# ---------------------------------------------------------------- backtest

def actual_caseload(persons: pl.DataFrame, months: list[str]) -> dict[str, int]:
    """What happened: the `monthly_caseload` of each month (YYYY-MM), on every date of the persons."""
    out = {}
    for key in months:
        start = date(int(key[:4]), int(key[5:]), 1)
        end = _month_end(start)
        out[key] = persons.filter((c("date_entree") <= end) & (c("date_sortie").is_null() | (c("date_sortie") >= start))).height
    return out


def backtest(persons: pl.DataFrame, data_date: date, months: int = 6, origins: int = 12, runs: int = 400,
             target: int | None = None) -> pl.DataFrame:
    """at, month, horizon, expected, low, high, actual: forecasts made at the ends of past months — the last `origins`
    month ends whose N following months are all complete by `data_date` — against what then happened."""
    last_origin = _month_end(_add_months(_month_start(data_date), -months - (0 if data_date == _month_end(data_date) else 1)))
    first_entry = persons["date_entree"].drop_nulls().min()
    rows = []
    for i in range(origins):
        at = _month_end(_add_months(_month_start(last_origin), -i))
        if first_entry is None or at < _month_end(_add_months(_month_start(first_entry), 6)):
            break  # at least six months of history
        forecast = project(persons, at, months, target, runs=runs)
        actual = actual_caseload(persons, list(forecast["months"]))
        for h, (key, f) in enumerate(forecast["months"].items(), start=1):
            rows.append((at, key, h, f["expected"], f["low"], f["high"], actual[key]))
    schema = {"at": pl.Date, "month": pl.String, "horizon": pl.Int64, "expected": pl.Float64, "low": pl.Int64, "high": pl.Int64,
              "actual": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row").sort("at", "horizon")


def backtest_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """horizon, forecasts, mean_abs_error, mean_error (bias), mean_abs_pct_error, coverage (share of actuals inside the
    80 % interval)."""
    return (frame.group_by("horizon").agg(
        pl.len().alias("forecasts"),
        (c("expected") - c("actual")).abs().mean().round(2).alias("mean_abs_error"),
        (c("expected") - c("actual")).mean().round(2).alias("mean_error"),
        ((c("expected") - c("actual")).abs() / c("actual").clip(1)).mean().round(4).alias("mean_abs_pct_error"),
        ((c("actual") >= c("low")) & (c("actual") <= c("high"))).mean().round(4).alias("coverage"))
        .sort("horizon"))


def forecast_frame(persons: pl.DataFrame, forecast: dict, history_months: int = 12) -> pl.DataFrame:
    """month, kind (« observé » / « prévu »), caseload, expected, low, high, target: the last `history_months` months
    observed up to the month of `at` (as known on `at`), then the forecast — what the File active page draws."""
    at = date.fromisoformat(forecast["at"])
    known = known_on(persons.select("date_prescription", "date_entree", "date_sortie"), at)
    past = [_key(_add_months(_month_start(at), -k)) for k in range(history_months - 1, -1, -1)]
    observed = actual_caseload(known, past)
    rows = [(m, "observé", observed[m], None, None, None, forecast["target"]) for m in past]
    rows += [(m, "prévu", None, f["expected"], f["low"], f["high"], forecast["target"]) for m, f in forecast["months"].items()]
    return pl.DataFrame(rows, schema={"month": pl.String, "kind": pl.String, "caseload": pl.Int64, "expected": pl.Float64,
                                      "low": pl.Int64, "high": pl.Int64, "target": pl.Int64}, orient="row")


def basis_too_small(forecast: dict, k: int | None) -> bool:
    """Diffusion mode: a forecast built on fewer than k persons (in the action on `at`, or entered before it) is not shown."""
    if k is None:
        return False
    basis = forecast.get("basis") or {}
    return basis.get("active_at", 0) < k or basis.get("persons", 0) < k
