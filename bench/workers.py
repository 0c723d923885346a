"""Measurements that run in a child process, one process per measurement, so that the parent reads
each one's peak memory (`os.wait4`, ru_maxrss) and no measurement inherits another's caches or heap.

    python -m bench.workers KIND PARAMS.json RESULT.json

KIND is one of `generate`, `import`, `floor`, `engine`, `peer`, `dashboard`; PARAMS.json holds its
parameters; the worker writes its timings to RESULT.json. Every timing is taken inside the worker
around the measured call (interpreter and module start-up excluded): `wall` from
`time.perf_counter`, `cpu` from `time.process_time` (user + system of all the process's threads).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import pkgutil
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("participants", "rendez_vous", "immersions")


def timed(fn, *args, **kwargs):
    """(result, wall seconds, cpu seconds) of one call."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


# ---------------------------------------------------------------- data

def generate(params: dict) -> dict:
    """A synthetic extract of n persons written as CSV, chunk by chunk (`write_synthetic`)."""
    from analytics.synthetic import write_synthetic

    counts, wall, _ = timed(write_synthetic, params["n"], params["out"], params["seed"])
    return {"counts": counts, "generate_s": wall}


# ---------------------------------------------------------------- import and its floor

def import_(params: dict) -> dict:
    """`analytics.importer.run_import` of the extract into a fresh DuckDB file."""
    from analytics.importer import run_import

    if params.get("data_path"):  # the shared store: its data files go there
        os.environ["COACHING_DATA_PATH"] = params["data_path"]
    result, wall, cpu = timed(run_import, params["src"], params["db"])
    if params["db"].startswith("ducklake:"):
        size = sum(f.stat().st_size for f in Path(params["data_path"]).rglob("*") if f.is_file())
    else:
        size = os.path.getsize(params["db"])
    return {"wall": wall, "cpu": cpu, "counts": result.counts, "db_bytes": size}


def year_call(params: dict) -> dict:
    """A year's `compute_indicators` on a warm read-only connection (either store): the connection's opening, then
    `repeat` calls after one untimed call."""
    from analytics.indicators import Period, compute_indicators
    from analytics.store import connect_readonly

    if params.get("data_path"):
        os.environ["COACHING_DATA_PATH"] = params["data_path"]
    if params.get("cache"):
        os.environ["COACHING_LAKE_CACHE"] = params["cache"]
    con, open_s, _ = timed(connect_readonly, params["db"])
    period = Period.year(params["year"])
    compute_indicators(con, period)
    walls = [timed(compute_indicators, con, period)[1] for _ in range(params["repeat"])]
    replica = sum(f.stat().st_size for f in Path(params["cache"]).glob("*.duckdb")) if params.get("cache") else 0
    return {"open": open_s, "calls": walls, "replica_bytes": replica}


def floor(params: dict) -> dict:
    """The floor: a bare DuckDB CREATE TABLE … AS SELECT * FROM read_csv(…) of the same three files into a fresh
    database file (the connection is closed, hence checkpointed, inside the timing, as the import's is)."""
    import duckdb

    def load():
        con = duckdb.connect(params["db"])
        try:
            for name in TABLES:
                path = str(Path(params["src"]) / f"{name}.csv").replace("'", "''")
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', delim=';', header=true, "
                            "dateformat='%d/%m/%Y')").fetchall()
        finally:
            con.close()

    _, wall, cpu = timed(load)
    return {"wall": wall, "cpu": cpu, "db_bytes": os.path.getsize(params["db"])}


# ---------------------------------------------------------------- the engine and its pandas peer

def _variants(params: dict):
    from analytics.indicators import Filters

    return {name: Filters(**{k: tuple(v) for k, v in spec.items()}) for name, spec in params["variants"].items()}


def _fresh(ds):
    """The same Dataset without any memoised population, so that each figure is timed on its own."""
    if dataclasses.is_dataclass(ds):
        return dataclasses.replace(ds)
    out = copy.copy(ds)
    out.__dict__.pop("_memo", None)
    return out


def engine(params: dict) -> dict:
    """Every indicator family, the dataset load, `compute` and the whole `compute_indicators` call, per filter
    variant, on one warm read-only connection (one untimed call per variant first)."""
    from analytics import indicators
    from analytics.indicators import FIGURES, Period, compute_indicators
    from analytics.store import connect_readonly

    con = connect_readonly(params["db"])
    period = Period.year(params["year"])
    variants = _variants(params)
    figures = {name: compute_indicators(con, period, f) for name, f in variants.items()}  # warm-up
    times: dict[str, list[float]] = {}

    def record(name: str, wall: float, cpu: float | None = None) -> None:
        times.setdefault(name, []).append(wall)
        if cpu is not None:
            times.setdefault(name + ":cpu", []).append(cpu)

    for _ in range(params["repeat"]):
        for vname, f in variants.items():
            ds, wall, cpu = timed(indicators.dataset, con, period, f)
            record(f"load|{vname}", wall, cpu)
            for key, fn in FIGURES.items():
                fresh = _fresh(ds)
                _, wall, _ = timed(fn, fresh)
                record(f"key:{key}|{vname}", wall)
            _, wall, cpu = timed(indicators.compute, _fresh(ds))
            record(f"compute|{vname}", wall, cpu)
            _, wall, cpu = timed(compute_indicators, con, period, f)
            record(f"indicators|{vname}", wall, cpu)
    rows = {name: {"persons": ds.persons.height, "immersions": ds.immersions.height, "appointments": ds.appointments.height}
            for name, ds in ((n, indicators.dataset(con, period, f)) for n, f in variants.items())}
    con.close()
    return {"times": times, "figures": figures, "dataset_rows": rows}


def engine_pair(params: dict) -> dict:
    """The whole `compute_indicators` call for a year, without filter, on two stores (the sample and the largest
    size) in one process, alternately: each round times `repeat` calls on the first store, then on the second, so
    that the two medians of a round see the same machine load. Returns the medians of each round."""
    import statistics

    from analytics.indicators import Period, compute_indicators
    from analytics.store import connect_readonly

    stores = [(connect_readonly(db), Period.year(year)) for db, year in zip(params["dbs"], params["years"])]
    for con, period in stores:  # warm-up
        compute_indicators(con, period)
    rounds = []
    for _ in range(params["rounds"]):
        rounds.append([statistics.median(timed(compute_indicators, con, period)[1] for _ in range(params["repeat"]))
                       for con, period in stores])
    for con, _ in stores:
        con.close()
    return {"rounds": rounds}


def peer(params: dict) -> dict:
    """The pandas peer: read (whole tables into pandas) and compute timed separately, per filter variant, and its
    figures checked against the engine's for every key."""
    from analytics.indicators import FIGURES, Period, compute_indicators
    from analytics.store import connect_readonly
    from bench import pandas_peer

    con = connect_readonly(params["db"])
    period = Period.year(params["year"])
    variants = _variants(params)
    engine_figures = {name: compute_indicators(con, period, f) for name, f in variants.items()}
    times: dict[str, list[float]] = {}
    diffs: dict[str, list[str]] = {}
    tables = None
    for rep in range(params["repeat"]):
        tables = None  # the previous copy is released before the next read
        tables, wall, cpu = timed(pandas_peer.read_tables, con)
        times.setdefault("read", []).append(wall)
        times.setdefault("read:cpu", []).append(cpu)
        for vname, f in variants.items():
            out, wall, cpu = timed(pandas_peer.indicators, tables, period.start, period.end, f)
            times.setdefault(f"compute|{vname}", []).append(wall)
            times.setdefault(f"compute|{vname}:cpu", []).append(cpu)
            if rep == 0:
                diffs[vname] = pandas_peer.differences(engine_figures[vname], out, FIGURES)
    rows = {name: len(getattr(tables, name)) for name in TABLES}
    con.close()
    return {"times": times, "differences": diffs, "rows": rows, "keys": len(FIGURES)}


# ---------------------------------------------------------------- the dashboard

def page_files() -> list[tuple[str, str]]:
    """(file, title) of every st.Page of dashboard.py, in the order of the navigation."""
    text = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    return re.findall(r'st\.Page\(\s*"([^"]+)"\s*,\s*title="([^"]+)"', text)


def _preimport() -> None:
    """What a running server has already imported before a session's first run (not the caches)."""
    for name in ("ui.state", "ui.filters", "ui.presentation", "ui.components", "analytics.indicators", "plotly.graph_objects"):
        importlib.import_module(name)
    import analytics.charts as charts

    for mod in pkgutil.iter_modules(charts.__path__):
        importlib.import_module(f"analytics.charts.{mod.name}")


def dashboard(params: dict) -> dict:
    """Every page of dashboard.py through AppTest on the store (COACHING_DB), then reruns after a change of the
    sidebar's commune multiselect (a different commune each time, so never a cache hit)."""
    os.environ["COACHING_DB"] = params["db"]
    _preimport()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=params.get("timeout", 1800))
    pages = page_files()
    out: dict = {"pages": [], "exceptions": {}, "filter_change": []}

    def run(label: str) -> float:
        _, wall, _ = timed(at.run)
        errors = [str(e.value).splitlines()[0] if e.value else "exception" for e in at.exception]
        if errors:
            out["exceptions"][label] = errors
        return wall

    out["pages"].append((pages[0][1], run(pages[0][1])))  # the default page, first run of the session
    for file, title in pages[1:]:
        at.switch_page(file)
        out["pages"].append((title, run(title)))
    # A second session on the default page (as a second user would open it: the server's caches are warm), whose
    # user then changes the commune in the sidebar. (After `switch_page`, AppTest's tree no longer shows the
    # sidebar's widgets, hence a fresh session rather than switching back.)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=params.get("timeout", 1800))
    out["second_session"] = run(pages[0][1])
    communes = params["communes"]
    for i in range(params["repeat"]):
        at.multiselect(key="commune").set_value([communes[i % len(communes)]])
        out["filter_change"].append(run(f"filtre commune {i + 1}"))
    return out


KINDS = {"generate": generate, "import": import_, "year_call": year_call, "floor": floor, "engine": engine, "engine_pair": engine_pair, "peer": peer,
         "dashboard": dashboard}


def main(argv: list[str]) -> int:
    kind, params_file, result_file = argv
    params = json.loads(Path(params_file).read_text(encoding="utf-8"))
    result = KINDS[kind](params)
    Path(result_file).write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
