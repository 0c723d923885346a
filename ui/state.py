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
import streamlit as st

from analytics import indicators
from analytics.importer import run_import
from analytics.indicators import Dataset, Filters, Period
from analytics.store import HistoryError, connect_readonly, db_path, is_shared, query, store_version

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
FILTER_KEYS = {"commune": "commune", "prescripteur": "prescriber", "territoire": "territory", "action": "action",
               "epci": "epci"}


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
    demo = query(con, "SELECT count(*) FILTER (WHERE file_name <> 'sample') AS other, count(*) AS n FROM imports WHERE status = 'importé'")
    out["demo"] = bool(demo["n"][0]) and demo["other"][0] == 0
    return out


def options() -> dict:
    version = current_version()
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
    from ui import diffusion

    sel = selection()
    period, filters = period or sel.period, _restrict(filters) if filters is not None else sel.filters
    version = current_version()
    if version is None:
        return indicators.compute(indicators.empty_dataset(period, filters))
    if diffusion.enabled():
        return _suppressed(str(current_db()), version, period, filters, diffusion.k())
    return _figures(str(current_db()), version, period, filters)


def clear_caches() -> None:
    """After an import made from the app."""
    _imports.clear()
    _options.clear()
    _figures.clear()
    _suppressed.clear()


__all__ = ["Selection", "connection", "dataset", "ensure_store", "figures", "options", "selection"]
