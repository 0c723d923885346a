"""Streamlit glue: the store connection, the cached datasets and the current selection.

The connection is a cached resource opened read-only and keyed by the store version (the
file's identity; on the shared store, the lake's snapshot, to which the connection is pinned), so an
import — which atomically replaces the file or commits a snapshot — is picked up on the next rerun.
Datasets and figures are cached by (store version, period, filters). When the analyst picks an earlier
import (sidebar « Import affiché », URL key `import`), the version is `import-N`: the store as it was right
after import N (`store.connect_readonly(as_of=N)`), which never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from analytics import indicators
from analytics.indicators import Dataset, Filters, Period, PeriodAfterData
from analytics.store import HistoryError, connect_readonly, db_path, is_shared, query, store_version
from ui import access

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
FILTER_KEYS = {"commune": "commune", "prescripteur": "prescriber", "territoire": "territory", "action": "action",
               "epci": "epci", "type": "typology"}  # type: the typology of the publics (numbers, as strings in the URL)


def current_db():
    path = db_path()
    return path if path.is_absolute() else ROOT / path


def _latest_version(path) -> str | None:
    return store_version(path)


def as_of() -> int | None:
    """The earlier import the analyst picked (URL key `import`), None for the latest."""
    value = st.session_state.get("import") or st.query_params.get("import")
    try:
        return int(value) if value not in (None, "", LATEST) else None
    except (TypeError, ValueError):
        return None


LATEST = "le plus récent"


def current_version() -> str | None:
    """The cache key of what the page shows: the latest store version, or `import-N` for an earlier import."""
    latest = _latest_version(current_db())
    if latest is None:
        return None
    n = as_of()
    if n is not None and n in [i["import_id"] for i in imports()] and n != imports()[0]["import_id"]:
        try:  # opened (and cached) here: an import whose state was not kept is said, not raised
            _connection(str(current_db()), f"import-{n}")
        except HistoryError as exc:
            st.warning(f"Impossible d'afficher l'import n° {n} : {exc}. Les chiffres affichés sont ceux du dernier import.")
            return latest
        return f"import-{n}"
    return latest


def ensure_store() -> str | None:
    """Build the embedded store from the shipped sample on first start; returns the store version."""
    path = current_db()
    if not is_shared(path) and not path.exists() and SAMPLE_DIR.exists():
        # imported here: the extract validator (pandera) is not loaded by a server that only reads
        from analytics.importer import run_import

        with st.spinner("Première ouverture : construction de la base à partir des données de démonstration…"):
            run_import(SAMPLE_DIR, path)
    return store_version(path)


def open_connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    """A new read-only connection on what `version` names (the latest store, or `import-N`)."""
    if version.startswith("import-"):
        return connect_readonly(path, as_of=int(version.split("-")[1]))
    return connect_readonly(path, version=version)


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    return open_connection(path, version)


def connection() -> duckdb.DuckDBPyConnection | None:
    version = current_version()
    return None if version is None else _connection(str(current_db()), version)


@st.cache_data(max_entries=4, show_spinner=False)
def _imports(path: str, version: str) -> list[dict]:
    con = _connection(path, version)
    rows = query(con, "SELECT import_id, imported_at, file_name FROM imports WHERE status = 'importé' ORDER BY import_id DESC")
    return rows.to_dicts()


def imports() -> list[dict]:
    """The successful imports of the store, latest first (number, time, source file)."""
    latest = _latest_version(current_db())
    return [] if latest is None else _imports(str(current_db()), latest)


def shown_import() -> dict | None:
    """The import whose figures the page shows."""
    found = imports()
    if not found:
        return None
    version = current_version() or ""
    n = int(version.split("-")[1]) if version.startswith("import-") else found[0]["import_id"]
    return next((i for i in found if i["import_id"] == n), found[0])


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
    out["data_date"] = indicators.data_date(con)  # the whole store's, whatever the user's territories
    from analytics import typology  # the types of the publics, stored by the last import (none on an older store)

    types = typology.load(con).types
    out["type"] = [str(t) for t in types["type"].to_list()]
    out["type_labels"] = {str(t): f"{t}. {lab}" for t, lab in zip(types["type"].to_list(), types["label"].to_list())}
    demo = query(con, "SELECT count(*) FILTER (WHERE file_name <> 'sample') AS other, count(*) AS n FROM imports WHERE status = 'importé'")
    out["demo"] = bool(demo["n"][0]) and demo["other"][0] == 0
    return out


def options() -> dict:
    version = current_version()
    if version is None:
        return {"commune": [], "prescripteur": [], "territoire": [], "action": [], "epci": [], "type": [], "type_labels": {},
                "first_date": None, "last_date": None, "data_date": None, "demo": False}
    return _options(str(current_db()), version, access.scope())


def data_date(opts: dict | None = None) -> date | None:
    """The data date of the store (`analytics.indicators.data_date`), None without data."""
    opts = options() if opts is None else opts
    return opts.get("data_date") or opts.get("last_date")


def default_year(opts: dict) -> int:
    """The last complete calendar year with data (2023 for the sample, whose data stop in January 2024): the year of
    the data date when it is a 31 December or when the data begin that year."""
    last = data_date(opts)
    if last is None:
        return date.today().year - 1
    if (last.month, last.day) == (12, 31):
        return last.year
    return last.year - 1 if last.year > (opts["first_date"] or last).year else last.year


def year_options(opts: dict) -> list[str]:
    """The years offered: from the first year with data to the year of the data date (never a year after it)."""
    first, last = opts.get("first_date"), data_date(opts)
    if first is None or last is None:
        return [str(date.today().year)]
    return [str(y) for y in range(last.year, min(first, last).year - 1, -1)]


@dataclass(frozen=True)
class Selection:
    period: Period
    filters: Filters


def selection() -> Selection:
    """The global filters as set in the sidebar (and the URL)."""
    ss = st.session_state
    opts = options()
    start, end = ss.get("debut"), ss.get("fin")
    if ss.get("mode_periode") == "Dates" and start and end and start <= end:
        period = Period(start, end)
    else:
        year = ss.get("annee") or str(default_year(opts))
        period = Period.year(int(year) if str(year).isdigit() else default_year(opts))
    # no month after the data date: a period reaching past it is clipped (and labelled so), one after it is replaced
    # by the default year
    try:
        period = period.clip(data_date(opts))
    except PeriodAfterData:
        period = Period.year(default_year(opts)).clip(data_date(opts))
    filters = Filters(**{attr: tuple(ss.get(key) or ()) for key, attr in FILTER_KEYS.items() if key != "type"},
                      typology=_types(ss.get("type")))
    return Selection(period, _restrict(filters))


def _types(values) -> tuple[int, ...]:
    """The type filter (URL `?type=2`): the known type numbers among the values (an unknown or stale one is dropped)."""
    known = set(options().get("type") or [])
    return tuple(sorted(int(v) for v in (values or ()) if str(v) in known))


@st.cache_resource(max_entries=2, show_spinner=False)
def _typology(path: str, version: str):
    from analytics import typology

    con = _connection(path, version)
    return typology.load(con), typology.assignments(con)


def typology():
    """(the stored typology, each entered person's type), cached per store version; None without a store."""
    version = store_version(current_db())
    return None if version is None else _typology(str(current_db()), version)


@st.cache_data(max_entries=16, show_spinner=False)
def _typology_outcomes(path: str, version: str, period: Period, filters: Filters):
    from analytics.typology import outcomes

    typ, assign = _typology(path, version)
    ds = _dataset(path, version, period, filters)
    con = _connection(path, version)
    return (outcomes.outcomes(ds, assign, typ.types), outcomes.attendance(con, period, filters),
            outcomes.exit_categories(ds, assign, typ.types), outcomes.exits_by_reason(ds, assign))


@st.cache_data(max_entries=8, show_spinner=False)
def _typology_years(path: str, version: str, years: tuple[int, ...], filters: Filters):
    from analytics.typology import outcomes

    typ, assign = _typology(path, version)
    return outcomes.by_year(_connection(path, version), list(years), filters, assign, typ.types)


def typology_outcomes(period: Period | None = None, filters: Filters | None = None):
    """(outcomes per type, attendance per type, exits by category per type, exits by reason per type) of the selection
    (`analytics.typology.outcomes`)."""
    sel = selection()
    return _typology_outcomes(str(current_db()), store_version(current_db()), period or sel.period, filters or sel.filters)


def typology_years(filters: Filters | None = None):
    """The outcomes per type for each calendar year of the store (the convention's years)."""
    years = tuple(int(y) for y in sorted(year_options(options())))
    return _typology_years(str(current_db()), store_version(current_db()), years, filters or selection().filters)


def _restrict(filters: Filters) -> Filters:
    """The filters within the territories and actions granted to the logged-in user: a URL cannot widen them."""
    return access.restrict(filters)


# Person-level datasets weigh up to ~85 MB for a year at 1 million persons: keep a few (figures are cached apart;
# bench/RESULTS.md measured a 2 GB peak with 8).
@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(path: str, version: str, period: Period, filters: Filters) -> Dataset:
    return indicators.dataset(_connection(path, version), period, filters)


def dataset(period: Period | None = None, filters: Filters | None = None) -> Dataset:
    sel = selection()
    period, filters = period or sel.period, _restrict(filters) if filters is not None else sel.filters
    version = current_version()
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
    sel = selection()
    period, filters = period or sel.period, _restrict(filters) if filters is not None else sel.filters
    version = current_version()
    if version is None:
        return indicators.compute(indicators.empty_dataset(period, filters))
    if access.diffusion_enabled():
        return _suppressed(str(current_db()), version, period, filters, access.diffusion_k())
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
    _imports.clear()
    _options.clear()
    _figures.clear()
    _projection.clear()
    _suppressed.clear()
    _typology_outcomes.clear()
    _typology_years.clear()


__all__ = ["Selection", "connection", "dataset", "ensure_store", "figures", "options", "selection", "typology",
           "typology_outcomes", "typology_years"]
