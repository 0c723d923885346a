"""Series over the convention (SPEC-indicators v2): the figures of each calendar year, quarter or month of a period.

Each sub-period is clipped to the period and computed exactly as a call on it alone (`compute_indicators`), so the
series and the single calls can never disagree. The « Convention » page reads the years side by side from here.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

import duckdb
import polars as pl

from analytics.indicators.base import Filters, Period

BY = {"year": "année", "quarter": "trimestre", "month": "mois"}


def sub_periods(period: Period, by: str) -> list[tuple[str, Period]]:
    """(key, sub-period) for each calendar year (`YYYY`), quarter (`YYYY-Qn`) or month (`YYYY-MM`) meeting the period,
    clipped to it, in order."""
    if by not in BY:
        raise ValueError(f"découpage inconnu « {by} » : year, quarter ou month")
    out, y, m = [], period.start.year, period.start.month
    step = {"year": 12, "quarter": 3, "month": 1}[by]
    m = 1 if by == "year" else (m - 1) // 3 * 3 + 1 if by == "quarter" else m
    while date(y, m, 1) <= period.end:
        last_month = m + step - 1
        first, last = date(y, m, 1), date(y, last_month, calendar.monthrange(y, last_month)[1])
        key = f"{y:04d}" if by == "year" else f"{y:04d}-Q{(m - 1) // 3 + 1}" if by == "quarter" else f"{y:04d}-{m:02d}"
        out.append((key, Period(max(first, period.start), min(last, period.end))))
        y, m = (y + 1, 1) if last_month == 12 else (y, last_month + 1)
    return out


def series(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, by: str,
           transform: Callable[[dict, Period], dict] | None = None) -> dict:
    """`{"period", "filters", "by", "series": {key: figures}}`; `transform(figures, sub_period)` (e.g. the diffusion
    mode's suppression) is applied to each sub-period's figures, as it would be to a single call."""
    from analytics.indicators import compute_indicators

    out = {}
    for key, sub in sub_periods(period, by):
        figures = compute_indicators(con, sub, filters)
        if transform is not None:
            figures = transform(figures, sub)
        out[key] = {k: v for k, v in figures.items() if k not in ("period", "filters")}
    return {"period": period.as_json(), "filters": filters.as_json(), "by": by, "series": out}


# ---------------------------------------------------------------- the years side by side (« Convention » page)

CONVENTION_COLUMNS = {  # column → (French heading, kind: int / pct / dec)
    "positioned": ("Positionnés", "int"),
    "participants": ("Participants", "int"),
    "entries": ("Entrées", "int"),
    "exits": ("Sorties", "int"),
    "positive_exit_rate": ("Taux de sorties positives", "pct"),
    "average_caseload": ("File active moyenne", "dec"),
    "caseload_target": ("Objectif de file active", "int"),
    "first_appointment_median_days": ("Délai médian du 1er rendez-vous (jours)", "dec"),
    "attendance_rate": ("Taux de présence aux rendez-vous", "pct"),
    "esf_participants": ("FSE+ EECO01 participants", "int"),
    "esf_employment": ("FSE+ EECR04 en emploi à la sortie", "int"),
    "esf_training": ("FSE+ EECR02 en formation à la sortie", "int"),
}


def years_of(first: date, data_date: date) -> Period:
    """The convention's span as the store holds it: 1 January of the first year with data to the data date."""
    return Period(date(first.year, 1, 1), data_date)


def convention_frame(years: dict[str, dict], span: Period) -> pl.DataFrame:
    """year, partial, through, and the columns of `CONVENTION_COLUMNS`: one row per calendar year of `series(…, "year")`
    (`years` = its `series`); `partial` marks a year cut by the end of the span (the current year to date), `through`
    the last day it covers. A masked value (diffusion mode, « < k ») is null."""
    def value(v):
        return None if isinstance(v, str) else v

    def esf(fig, code):
        block = (fig.get("esf") or {}).get(code)
        return value(block.get("total")) if isinstance(block, dict) else None

    rows = []
    for key, sub in sub_periods(span, "year"):
        f = years[key]
        delay, app = f.get("first_appointment_delay_days") or {}, f.get("appointments") or {}
        rows.append({
            "year": key, "partial": sub.end < date(sub.start.year, 12, 31) or sub.start > date(sub.start.year, 1, 1),
            "through": sub.end,
            "positioned": value(f["positioned"]), "participants": value(f["participants"]), "entries": value(f["entries"]),
            "exits": value(f["exits"]), "positive_exit_rate": value(f["positive_exit_rate"]),
            "average_caseload": value(f["average_caseload"]), "caseload_target": f["caseload_target"],
            "first_appointment_median_days": value(delay.get("median")), "attendance_rate": value(app.get("attendance_rate")),
            "esf_participants": esf(f, "EECO01"), "esf_employment": esf(f, "EECR04"), "esf_training": esf(f, "EECR02"),
        })
    schema = {"year": pl.String, "partial": pl.Boolean, "through": pl.Date} | {
        col: (pl.Float64 if kind != "int" else pl.Int64) for col, (_, kind) in CONVENTION_COLUMNS.items()}
    return pl.DataFrame(rows, schema=schema, orient="row")


def trend(frame: pl.DataFrame, column: str) -> float | None:
    """The change of `column` between the last two complete years (None without two complete years or a value)."""
    full = frame.filter(~pl.col("partial"))[column].to_list()
    return None if len(full) < 2 or full[-1] is None or full[-2] is None else full[-1] - full[-2]
