"""Streamlit glue: the store connection, the cached datasets and the current selection.

The connection is a cached resource opened read-only and keyed by the store version (the
file's identity), so an import — which atomically replaces the file — is picked up on the next
rerun. Datasets and figures are cached by (store version, period, filters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from analytics import indicators
from analytics.importer import run_import
from analytics.indicators import Dataset, Filters, Period
from analytics.store import connect_readonly, db_path, query, store_version

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
FILTER_KEYS = {"commune": "commune", "prescripteur": "prescriber", "territoire": "territory", "action": "action",
               "epci": "epci"}


def current_db() -> Path:
    path = db_path()
    return path if path.is_absolute() else ROOT / path


def ensure_store() -> str | None:
    """Build the embedded store from the shipped sample on first start; returns the store version."""
    path = current_db()
    if not path.exists() and SAMPLE_DIR.exists():
        with st.spinner("Première ouverture : construction de la base à partir des données de démonstration…"):
            run_import(SAMPLE_DIR, path)
    return store_version(path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    return connect_readonly(path)


def connection() -> duckdb.DuckDBPyConnection | None:
    version = store_version(current_db())
    return None if version is None else _connection(str(current_db()), version)


@st.cache_data(max_entries=8, show_spinner=False)
def _options(path: str, version: str, scope: Filters = Filters()) -> dict:
    con = _connection(path, version)
    where, params = scope.sql("p")  # the territories and actions granted to the user (everything without login)
    out = {}
    for key, column in (("commune", "commune"), ("prescripteur", "prescripteur"), ("territoire", "territoire"), ("action", "action")):
        out[key] = query(con, f"SELECT DISTINCT {column} AS v FROM participants p WHERE {column} IS NOT NULL AND {where} ORDER BY 1",
                         params)["v"].to_list()
    try:  # a store written before the EPCI was derived at import has no such column until its next import
        out["epci"] = query(con, f"SELECT DISTINCT epci AS v FROM participants p WHERE epci IS NOT NULL AND {where} ORDER BY 1",
                            params)["v"].to_list()
    except duckdb.Error:
        out["epci"] = []
    bounds = query(con, f"""SELECT min(least(date_prescription, date_entree)) AS lo,
                                  max(greatest(date_prescription, coalesce(date_entree, date_prescription),
                                               coalesce(date_sortie, date_prescription))) AS hi FROM participants p WHERE {where}""",
                   params)
    out["first_date"], out["last_date"] = bounds["lo"][0], bounds["hi"][0]
    demo = query(con, "SELECT count(*) FILTER (WHERE file_name <> 'sample') AS other, count(*) AS n FROM imports WHERE status = 'importé'")
    out["demo"] = bool(demo["n"][0]) and demo["other"][0] == 0
    return out


def options() -> dict:
    version = store_version(current_db())
    if version is None:
        return {"commune": [], "prescripteur": [], "territoire": [], "action": [], "epci": [], "first_date": None, "last_date": None,
                "demo": False}
    from ui import auth

    return _options(str(current_db()), version, auth.scope())


def default_year(opts: dict) -> int:
    """The last complete calendar year with data (2023 for the sample, whose data stop in January 2024)."""
    last = opts.get("last_date")
    if last is None:
        return date.today().year - 1
    return last.year - 1 if last.year > (opts["first_date"] or last).year else last.year


def year_options(opts: dict) -> list[str]:
    first, last = opts.get("first_date"), opts.get("last_date")
    if first is None or last is None:
        return [str(date.today().year)]
    return [str(y) for y in range(last.year, first.year - 1, -1)]


@dataclass(frozen=True)
class Selection:
    period: Period
    filters: Filters


def selection() -> Selection:
    """The global filters as set in the sidebar (and the URL)."""
    ss = st.session_state
    start, end = ss.get("debut"), ss.get("fin")
    if ss.get("mode_periode") == "Dates" and start and end and start <= end:
        period = Period(start, end)
    else:
        year = ss.get("annee") or str(default_year(options()))
        period = Period.year(int(year))
    filters = Filters(**{attr: tuple(ss.get(key) or ()) for key, attr in FILTER_KEYS.items()})
    return Selection(period, _restrict(filters))


def _restrict(filters: Filters) -> Filters:
    """The filters within the territories and actions granted to the logged-in user: a URL cannot widen them."""
    from ui import auth

    return auth.restrict(filters)


# Person-level datasets weigh up to ~85 MB for a year at 1 million persons: keep a few (figures are cached apart;
# bench/RESULTS.md measured a 2 GB peak with 8).
@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(path: str, version: str, period: Period, filters: Filters) -> Dataset:
    return indicators.dataset(_connection(path, version), period, filters)


def dataset(period: Period | None = None, filters: Filters | None = None) -> Dataset:
    sel = selection()
    period, filters = period or sel.period, _restrict(filters) if filters is not None else sel.filters
    version = store_version(current_db())
    if version is None:
        return indicators.empty_dataset(period, filters)
    return _dataset(str(current_db()), version, period, filters)


@st.cache_data(max_entries=64, show_spinner=False)
def _figures(path: str, version: str, period: Period, filters: Filters) -> dict:
    return indicators.compute(_dataset(path, version, period, filters))


@st.cache_data(max_entries=64, show_spinner=False)
def _suppressed(path: str, version: str, period: Period, filters: Filters, k: int) -> dict:
    from analytics.diffusion import denominators, suppress_figures

    return suppress_figures(_figures(path, version, period, filters), k,
                            denominators=denominators(_dataset(path, version, period, filters)))


def figures(period: Period | None = None, filters: Filters | None = None) -> dict:
    """Every figure of the contract for the selection (or another period), cached; in diffusion mode the
    suppressed figures (`analytics.diffusion.suppress_figures`: masked values read « < k »)."""
    from ui import diffusion

    sel = selection()
    period, filters = period or sel.period, _restrict(filters) if filters is not None else sel.filters
    version = store_version(current_db())
    if version is None:
        return indicators.compute(indicators.empty_dataset(period, filters))
    if diffusion.enabled():
        return _suppressed(str(current_db()), version, period, filters, diffusion.k())
    return _figures(str(current_db()), version, period, filters)


def convention(filters: Filters | None = None):
    """The years of the convention side by side for the selection's filters (`analytics.indicators.series`): each year
    through `figures` (cached, suppressed in diffusion mode), from 1 January of the first year with data to the data
    date; None on an empty store."""
    from analytics.indicators.series import convention_frame, sub_periods, years_of
    from analytics.reports.common import data_date, first_date

    con = connection()
    if con is None:
        return None
    first, last = first_date(con), data_date(con)
    if first is None or last is None:
        return None
    span = years_of(first, last)
    filters = selection().filters if filters is None else filters
    return convention_frame({key: figures(sub, filters) for key, sub in sub_periods(span, "year")}, span)


@st.cache_data(max_entries=16, show_spinner=False)
def _projection(path: str, version: str, at: date, months: int, filters: Filters) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    from analytics.config import caseload_target_for
    from analytics.indicators.projection import backtest, forecast_frame, load_persons, project

    persons = load_persons(_connection(path, version), filters)
    target = caseload_target_for(filters)
    forecast = project(persons, at, months, target)
    return forecast, forecast_frame(persons, forecast), backtest(persons, at, months, target=target)


def projection(at: date, months: int = 6) -> tuple[dict, pl.DataFrame, pl.DataFrame] | None:
    """The caseload forecast made on `at` for the selection's filters, its frame to draw, and the backtest of the same
    method at the previous month ends (`analytics.indicators.projection`), cached; None on an empty store."""
    version = store_version(current_db())
    if version is None:
        return None
    return _projection(str(current_db()), version, at, months, selection().filters)


def clear_caches() -> None:
    """After an import made from the app."""
    _options.clear()
    _figures.clear()
    _projection.clear()
    _suppressed.clear()


__all__ = ["Selection", "connection", "dataset", "ensure_store", "figures", "options", "selection"]
