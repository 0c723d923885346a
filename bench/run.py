"""`make bench`: how the cost of the import, the indicators and the dashboard grows with the data.

    .venv/bin/python -m bench.run                               # sample, 100 000 and 1 000 000 persons
    .venv/bin/python -m bench.run --sizes 134,100000,1000000,5000000 --large-import-repeat 1 --work /tmp/bench
    .venv/bin/python -m bench.run --sizes 134,100000 --repeat 3 # a quicker run
    .venv/bin/python -m bench.run --sizes 134 --repeat 1 --out /tmp/RESULTS.md --work /tmp/bench

Sizes: `134` is the reference sample `data/sample` (184 persons, 134 positioned in 2023); any other N is a
synthetic extract of N persons written by `coaching sample --participants N --seed S` (chunk by chunk,
`analytics.synthetic.write_synthetic`; its wall time and peak RSS are reported), cached under `--work` (default
bench/work/, git-ignored) and generated only when missing.

For each size, in this order (each measurement in its own child process, see bench/workers.py):
  1. import: `coaching import EXTRACT --db FRESH` as a user runs it (a new process, start-up included), against
     the floor, a bare DuckDB `CREATE TABLE … AS SELECT * FROM read_csv(…, delim=';', header=true,
     dateformat='%d/%m/%Y')` of the same three files into a fresh file, also in a new process — alternated,
     `--repeat` times each (`--large-import-repeat` at 1 000 000 persons and more); wall and CPU time and peak
     RSS of each process;
  2. engine: on a warm read-only connection to the imported store, for the busiest full calendar year
     (most participants among the years the data cover entirely), without filters, with the most frequent
     commune and with the most frequent prescriber of that year: the dataset load, every key of `FIGURES`
     on its own (on a fresh copy of the loaded Dataset, so no population memoised by another figure), the
     whole `compute` and the whole `compute_indicators` call;
  3. the pandas peer (bench/pandas_peer.py): read of the whole tables into pandas, then its computation,
     timed separately, and its figures compared with the engine's for every key and every filter variant
     (up to `--peer-max` persons: it holds the whole tables, ~6 GB at 1 000 000 persons);
  4. the command line end to end (`coaching indicators --db … --year Y --json`, Python start-up included)
     and, for reference, the bare start-up (`python -c "import analytics.cli, analytics.indicators"`);
  5. the dashboard (streamlit.testing AppTest in a child process): first run of the default page, then
     every other page of dashboard.py once, then reruns after a change of the sidebar's commune
     multiselect (a different commune each time); the server time of each run and the peak RSS.

It prints one table of medians with the ratios and writes it to `--out` (bench/RESULTS.md) with the
machine's description and the targets of issues #6 and #17 marked met or missed. Every step's process reports its
peak RSS (`ru_maxrss`), and the load average is recorded next to each import and generation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
SAMPLE_SIZE = 134  # `--sizes 134` is the reference sample (134 persons positioned in 2023)
LARGE = 1_000_000
SMALL, SMALL_ENGINE_REPEAT = 100_000, 7  # engine measurements below SMALL persons: max(--repeat, 7) runs
TABLES = ("participants", "rendez_vous", "immersions")
VARIANTS = ("all", "commune", "prescriber")
VARIANT_LABEL = {"all": "sans filtre", "commune": "commune", "prescriber": "prescripteur"}
PACKAGES = ("duckdb", "polars", "pyarrow", "pandas", "numpy", "streamlit", "plotly")

# Targets of issue #6, evaluated at the largest size.
TARGET_IMPORT = 3.0  # import ≤ 3 × floor
TARGET_FLAT = 3.0  # indicators(N) ≤ 3 × indicators(sample)
PAIR_ROUNDS, PAIR_REPEAT = 7, 5  # the sample and the largest size alternated: rounds, calls per store and round
TARGET_PEER = 10.0  # ≥ 10 × faster than the pandas peer
TARGET_RERUN_MS = 1000.0  # dashboard rerun after a filter change < 1 s of server time
TARGET_RSS_MB = 2048.0  # dashboard process < 2 GB resident
# Targets of issue #17 (bounded memory), as a user runs the commands
HUGE = 5_000_000
TARGET_IMPORT_RSS_MB = {LARGE: 1536.0, HUGE: 3072.0}  # coaching import peak RSS
TARGET_IMPORT_FLOOR = 2.5  # coaching import ≤ 2.5 × the floor's process at 1 000 000 persons
TARGET_GENERATE_RSS_MB = 2048.0  # coaching sample --participants 5 000 000
TARGET_CLI_S = 1.0  # a year's coaching indicators end to end at 5 000 000 persons


def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    return "sample" if n == SAMPLE_SIZE else f"{n:,}".replace(",", " ")


def median(values) -> float | None:
    values = [v for v in (values or []) if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- child processes

def run_child(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command to completion; its wall time, CPU time, peak RSS (MB) and exit status (os.wait4)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "stderr": stderr}


def worker(kind: str, params: dict, tmp: Path, env: dict | None = None) -> dict:
    """A bench.workers measurement in a fresh interpreter: its result, plus the child's peak RSS."""
    tmp.mkdir(parents=True, exist_ok=True)
    pfile, rfile = tmp / f"{kind}.params.json", tmp / f"{kind}.result.json"
    rfile.unlink(missing_ok=True)
    pfile.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    child = run_child([sys.executable, "-m", "bench.workers", kind, str(pfile), str(rfile)], env)
    if child["rc"] != 0 or not rfile.exists():
        tail = "\n".join(child["stderr"].strip().splitlines()[-15:])
        raise RuntimeError(f"bench worker {kind} failed (exit {child['rc']}):\n{tail}")
    out = json.loads(rfile.read_text(encoding="utf-8"))
    out["rss_mb"] = child["rss_mb"]
    out["process_cpu"] = child["cpu"]
    out["process_wall"] = child["wall"]
    return out


# ---------------------------------------------------------------- data

def extract_dir(n: int, seed: int, work: Path) -> tuple[Path, dict | None]:
    """The CSV folder of size n: data/sample, or the cached synthetic extract (generated when missing)."""
    if n == SAMPLE_SIZE:
        return SAMPLE_DIR, None
    folder = work / "extracts" / f"synthetic-{n}-seed{seed}"
    marker = folder / ".complete.json"
    if marker.exists() and all((folder / f"{t}.csv").exists() for t in TABLES):
        return folder, json.loads(marker.read_text(encoding="utf-8"))
    log(f"generating a synthetic extract of {label(n)} persons (cached in {folder})")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    load = round(os.getloadavg()[0], 1)
    child = run_child(coaching_cli() + ["sample", "--participants", str(n), "--seed", str(seed), "--out", str(partial)])
    if child["rc"] != 0:
        raise RuntimeError(f"coaching sample failed (exit {child['rc']}): {child['stderr'].strip()[-2000:]}")
    info = {"generate_s": child["wall"], "generate_cpu": child["cpu"], "generate_rss_mb": child["rss_mb"], "generate_load": load}
    (partial / ".complete.json").write_text(json.dumps(info), encoding="utf-8")
    partial.rename(folder)
    return folder, info


def coaching_cli() -> list[str]:
    coaching = Path(sys.executable).with_name("coaching")
    return [str(coaching)] if coaching.exists() else [sys.executable, "-m", "analytics.cli"]


def store_counts(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    finally:
        con.close()


def remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}.wal"), Path(f"{path}.lock"), Path(f"{path}.refused.jsonl")):
        p.unlink(missing_ok=True)
    shutil.rmtree(f"{path}.history", ignore_errors=True)  # the store's past states (hard links, analytics/store.py)


# ---------------------------------------------------------------- choosing the year and the filters

def choose_year_and_filters(db: Path) -> dict:
    """The busiest full calendar year (most participants among the years the data cover entirely; the busiest
    year at all when none is complete), its most frequent commune, and its most frequent prescriber."""
    from analytics.store import connect_readonly, query

    con = connect_readonly(db)
    try:
        b = query(con, """SELECT min(least(date_prescription, date_entree)) AS lo,
                                 max(greatest(date_prescription, coalesce(date_entree, date_prescription),
                                              coalesce(date_sortie, date_prescription))) AS hi FROM participants""")
        lo, hi = b["lo"][0], b["hi"][0]
        years = list(range(lo.year, hi.year + 1))
        full = [y for y in years if lo <= date(y, 1, 1) and date(y, 12, 31) <= hi] or years

        def participants_in(y: int) -> int:
            return query(con, "SELECT count(*) AS n FROM participants WHERE date_entree <= ? AND "
                              "(date_sortie IS NULL OR date_sortie >= ?)", [date(y, 12, 31), date(y, 1, 1)])["n"][0]

        year = max(full, key=lambda y: (participants_in(y), y))
        span = [date(year, 12, 31), date(year, 1, 1)]
        communes = query(con, """SELECT commune AS v, count(*) AS n FROM participants WHERE date_entree <= ? AND
                                 (date_sortie IS NULL OR date_sortie >= ?) AND commune IS NOT NULL
                                 GROUP BY 1 ORDER BY 2 DESC, 1""", span)["v"].to_list()
        prescribers = query(con, """SELECT prescripteur AS v, count(*) AS n FROM participants WHERE date_entree <= ? AND
                                    (date_sortie IS NULL OR date_sortie >= ?) AND prescripteur IS NOT NULL
                                    GROUP BY 1 ORDER BY 2 DESC, 1""", span)["v"].to_list()
    finally:
        con.close()
    return {"year": year, "communes": communes, "commune": communes[0], "prescriber": prescribers[0],
            "variants": {"all": {}, "commune": {"commune": [communes[0]]}, "prescriber": {"prescriber": [prescribers[0]]}}}


# ---------------------------------------------------------------- one size

def bench_size(n: int, args, work: Path) -> dict:
    res: dict = {"n": n, "label": label(n), "times": {}, "notes": []}
    T = res["times"]
    tmp = work / "tmp"
    src, gen = extract_dir(n, args.seed, work)
    res["csv_mb"] = sum((src / f"{t}.csv").stat().st_size for t in TABLES if (src / f"{t}.csv").exists()) / 2**20
    if gen:
        res.update({k: gen.get(k) for k in ("generate_s", "generate_cpu", "generate_rss_mb", "generate_load")})

    # 1. import against the floor, alternated
    reps = args.repeat if n < LARGE else args.large_import_repeat
    res["import_repeat"] = reps
    stores = work / "stores"
    stores.mkdir(parents=True, exist_ok=True)
    store = stores / f"{n}.duckdb"
    fresh, floor_db = stores / f"{n}.import.duckdb", stores / f"{n}.floor.duckdb"
    for i in range(reps):
        remove_db(floor_db)
        log(f"{label(n)}: floor {i + 1}/{reps}")
        fl = worker("floor", {"src": str(src), "db": str(floor_db)}, tmp)
        T.setdefault("floor", []).append(fl["process_wall"])  # a fresh process, start-up included
        T.setdefault("floor:cpu", []).append(fl["process_cpu"])
        T.setdefault("floor:rss", []).append(fl["rss_mb"])
        res["floor_db_mb"] = fl["db_bytes"] / 2**20
        remove_db(floor_db)
        remove_db(fresh)
        log(f"{label(n)}: import {i + 1}/{reps}")
        T.setdefault("import:load", []).append(round(os.getloadavg()[0], 1))
        im = run_child(coaching_cli() + ["import", str(src), "--db", str(fresh)])
        if im["rc"] != 0:
            raise RuntimeError(f"coaching import failed (exit {im['rc']}): {im['stderr'].strip()[-2000:]}")
        T.setdefault("import", []).append(im["wall"])
        T.setdefault("import:cpu", []).append(im["cpu"])
        T.setdefault("import:rss", []).append(im["rss_mb"])
        res["counts"], res["db_mb"] = store_counts(fresh), fresh.stat().st_size / 2**20
    remove_db(store)
    fresh.rename(store)
    remove_db(fresh)

    # 2. the engine
    choice = choose_year_and_filters(store)
    res.update(year=choice["year"], commune=choice["commune"], prescriber=choice["prescriber"])
    common = {"db": str(store), "year": choice["year"], "variants": choice["variants"], "repeat": args.repeat}
    log(f"{label(n)}: engine, year {choice['year']}, commune {choice['commune']!r}, prescriber {choice['prescriber']!r}")
    # the engine's timings last milliseconds below 100 000 persons: more runs there for a steadier median
    eng = worker("engine", common | {"repeat": args.repeat if n >= SMALL else max(args.repeat, SMALL_ENGINE_REPEAT)}, tmp)
    T.update(eng["times"])
    T["engine:rss"] = [eng["rss_mb"]]
    res["dataset_rows"] = eng["dataset_rows"]

    # 3. the pandas peer
    if n > args.peer_max:
        res["notes"].append(f"the pandas peer is not run above {label(args.peer_max)} persons (--peer-max): it holds the whole tables in memory")
    elif not args.skip_peer:
        log(f"{label(n)}: pandas peer")
        try:
            pr = worker("peer", common, tmp)
        except RuntimeError as exc:  # reported in the results rather than losing the whole run
            res["notes"].append(f"the pandas peer failed: {exc}")
        else:
            T.update({f"peer:{k}": v for k, v in pr["times"].items()})
            T["peer:rss"] = [pr["rss_mb"]]
            res["peer_differences"] = pr["differences"]
            res["peer_keys"] = pr["keys"]

    # 4. the command line, end to end
    cli = coaching_cli()
    filter_args = {"all": [], "commune": ["--commune", choice["commune"]], "prescriber": ["--prescriber", choice["prescriber"]]}
    log(f"{label(n)}: command line")
    for _ in range(args.repeat):
        start = run_child([sys.executable, "-c", "import analytics.cli, analytics.indicators"])
        T.setdefault("startup", []).append(start["wall"])
        for v in VARIANTS:
            r = run_child(cli + ["indicators", "--db", str(store), "--year", str(choice["year"]), "--json", *filter_args[v]])
            if r["rc"] != 0:
                raise RuntimeError(f"coaching indicators failed (exit {r['rc']}): {r['stderr'].strip()}")
            T.setdefault(f"cli|{v}", []).append(r["wall"])
            T.setdefault(f"cli|{v}:rss", []).append(r["rss_mb"])

    # 5. the dashboard
    if not args.skip_dashboard:
        log(f"{label(n)}: dashboard (AppTest)")
        env = dict(os.environ, COACHING_DB=str(store))
        try:
            dash = worker("dashboard", {"db": str(store), "repeat": args.repeat, "communes": choice["communes"]}, tmp, env)
        except RuntimeError as exc:
            res["notes"].append(f"the dashboard measurement failed: {exc}")
        else:
            res["pages"] = dash["pages"]
            res["page_exceptions"] = dash["exceptions"]
            T["dash:filter"] = dash["filter_change"]
            T["dash:second"] = [dash["second_session"]]
            T["dash:rss"] = [dash["rss_mb"]]
    return res


# ---------------------------------------------------------------- the table

def g(value, decimals: int = 0) -> str:
    """A number with a space between thousands."""
    return f"{value:,.{decimals}f}".replace(",", " ")


def fmt_num(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "n":
        return f"{int(value):,}".replace(",", " ")
    if unit == "x":
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    if unit == "MB":
        return f"{value:.1f}" if value < 10 else f"{value:,.0f}".replace(",", " ")
    if unit == "s":
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    if unit == "ms":
        return f"{value:.1f}" if value < 100 else f"{value:,.0f}".replace(",", " ")
    return str(value)


def build_rows(results: list[dict]) -> list[tuple[str, str, list, bool]]:
    """(measure, unit, one value per size, scales-with-size ratio wanted) — the one table."""
    rows: list[tuple[str, str, list, bool]] = []

    def med(r, key, scale=1.0):
        m = median(r["times"].get(key))
        return None if m is None else m * scale

    def add(name, unit, fn, ratio=False):
        rows.append((name, unit, [fn(r) for r in results], ratio))

    def ratio(a, b):
        return None if a is None or not b else a / b

    # the data
    add("persons (participants table)", "n", lambda r: r.get("counts", {}).get("participants"))
    add("appointments (rendez_vous)", "n", lambda r: r.get("counts", {}).get("rendez_vous"))
    add("immersions", "n", lambda r: r.get("counts", {}).get("immersions"))
    add("CSV files, MB", "MB", lambda r: r.get("csv_mb"))
    add("generation: coaching sample --participants N, s", "s", lambda r: r.get("generate_s"), True)
    add("generation peak RSS, MB", "MB", lambda r: r.get("generate_rss_mb"), True)
    add("  load average (1 min) when generated", "", lambda r: r.get("generate_load"))
    add("DuckDB store, MB", "MB", lambda r: r.get("db_mb"))
    add("year measured (busiest full year)", "", lambda r: r.get("year"))
    # import
    add("floor: DuckDB read_csv → 3 tables (fresh process), s", "s", lambda r: med(r, "floor"), True)
    add("import: coaching import (fresh process), s", "s", lambda r: med(r, "import"), True)
    add("  load average (1 min) at the imports' start", "", lambda r: med(r, "import:load"))
    add("import ÷ floor (wall)", "x", lambda r: ratio(med(r, "import"), med(r, "floor")))
    add("floor CPU (user+sys), s", "s", lambda r: med(r, "floor:cpu"), True)
    add("import CPU (user+sys), s", "s", lambda r: med(r, "import:cpu"), True)
    add("import ÷ floor (CPU)", "x", lambda r: ratio(med(r, "import:cpu"), med(r, "floor:cpu")))
    add("floor peak RSS, MB", "MB", lambda r: max(r["times"].get("floor:rss") or [0]) or None, True)
    add("import peak RSS, MB", "MB", lambda r: max(r["times"].get("import:rss") or [0]) or None, True)
    # engine
    for v in VARIANTS:
        add(f"compute_indicators, year — {VARIANT_LABEL[v]}, ms", "ms", lambda r, v=v: med(r, f"indicators|{v}", 1000), True)
    for v in VARIANTS:
        add(f"  dataset load (DuckDB → Polars) — {VARIANT_LABEL[v]}, ms", "ms", lambda r, v=v: med(r, f"load|{v}", 1000), True)
    for v in VARIANTS:
        add(f"  compute (every FIGURES key on the Dataset) — {VARIANT_LABEL[v]}, ms", "ms",
            lambda r, v=v: med(r, f"compute|{v}", 1000), True)
    add("compute_indicators CPU — sans filtre, ms", "ms", lambda r: med(r, "indicators|all:cpu", 1000), True)
    add("engine process peak RSS, MB", "MB", lambda r: max(r["times"].get("engine:rss") or [0]) or None, True)
    # command line
    add("python start-up + import analytics.indicators, ms", "ms", lambda r: med(r, "startup", 1000), True)
    for v in VARIANTS:
        add(f"coaching indicators --json end to end — {VARIANT_LABEL[v]}, ms", "ms", lambda r, v=v: med(r, f"cli|{v}", 1000), True)
    add("coaching indicators peak RSS, MB", "MB", lambda r: max(r["times"].get("cli|all:rss") or [0]) or None, True)
    # pandas peer
    add("pandas: read 3 tables into DataFrames, ms", "ms", lambda r: med(r, "peer:read", 1000), True)
    for v in VARIANTS:
        add(f"pandas: compute — {VARIANT_LABEL[v]}, ms", "ms", lambda r, v=v: med(r, f"peer:compute|{v}", 1000), True)
    add("pandas: read + compute — sans filtre, ms", "ms",
        lambda r: None if med(r, "peer:read") is None else (med(r, "peer:read") + med(r, "peer:compute|all")) * 1000, True)
    for v in VARIANTS:
        add(f"pandas (read + compute) ÷ engine — {VARIANT_LABEL[v]}", "x",
            lambda r, v=v: None if med(r, "peer:read") is None else
            ratio(med(r, "peer:read") + med(r, f"peer:compute|{v}"), med(r, f"indicators|{v}")))
    add("pandas compute only ÷ engine — sans filtre", "x", lambda r: ratio(med(r, "peer:compute|all"), med(r, "indicators|all")))
    add("pandas peer process peak RSS, MB", "MB", lambda r: max(r["times"].get("peer:rss") or [0]) or None, True)
    add("pandas figures = engine figures (keys × filters)", "",
        lambda r: None if "peer_differences" not in r else (
            f"yes ({r['peer_keys']} × {len(r['peer_differences'])})" if not any(r["peer_differences"].values())
            else "NO: " + ", ".join(sorted({d.split(':')[0] for ds in r["peer_differences"].values() for d in ds}))))
    # dashboard
    titles = []
    for r in results:
        for title, _ in r.get("pages", []):
            if title not in titles:
                titles.append(title)
    for i, title in enumerate(titles):
        name = f"dashboard: first run, page « {title} », ms" if i == 0 else f"dashboard: page « {title} », first visit, ms"
        add(name, "ms", lambda r, t=title: next((w * 1000 for tt, w in r.get("pages", []) if tt == t), None), True)
    add(f"dashboard: new session, « {titles[0] if titles else ''} » (server caches warm), ms", "ms",
        lambda r: med(r, "dash:second", 1000), True)
    add("dashboard: rerun after a commune filter change, ms", "ms", lambda r: med(r, "dash:filter", 1000), True)
    add("dashboard process peak RSS, MB", "MB", lambda r: max(r["times"].get("dash:rss") or [0]) or None, True)
    # every family on its own
    keys = []
    for r in results:
        for k in r["times"]:
            if k.startswith("key:"):
                key = k[4:].split("|")[0]
                if key not in keys:
                    keys.append(key)
    for v in VARIANTS:
        for key in keys:
            add(f"figure `{key}` — {VARIANT_LABEL[v]}, ms", "ms", lambda r, k=key, v=v: med(r, f"key:{k}|{v}", 1000), True)
    return rows


def table(results: list[dict]) -> str:
    multi = len(results) > 1
    head = ["measure (median)"] + [r["label"] for r in results] + ([f"{results[-1]['label']} ÷ {results[0]['label']}"] if multi else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for name, unit, values, scales in build_rows(results):
        cells = [fmt_num(v, unit) if unit else ("–" if v is None else str(v)) for v in values]
        if multi:
            a, b = values[-1], values[0]
            cells.append(f"{a / b:.1f}×" if scales and isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "")
        lines.append("| " + " | ".join([name] + cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- targets

def targets(results: list[dict]) -> list[str]:
    big, small = results[-1], results[0]
    where = (f"at {big['label']} persons" if big["n"] != SAMPLE_SIZE else "on the sample") + (
        "" if big["n"] >= LARGE else f" (the targets are set at 1 000 000 persons; largest size run: {big['label']})")

    def med(r, key):
        return median(r["times"].get(key))

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**missed**")

    out = []
    imp, flo = med(big, "import"), med(big, "floor")
    r = imp / flo if imp and flo else None
    out.append(f"- Import ≤ 3× the bare DuckDB load {where}: {verdict(None if r is None else r <= TARGET_IMPORT)}"
               + ("" if r is None else f" — {r:.2f}× (wall; CPU: {med(big, 'import:cpu') / med(big, 'floor:cpu'):.2f}×)"
                  + ("" if r <= TARGET_IMPORT else f", {r / TARGET_IMPORT:.1f} times over the target")))
    if big is small:
        out.append("- Indicators flat in the data size: needs the sample and a larger size.")
    else:
        for key, what in (("indicators|all", "in process, warm connection"), ("cli|all", "command line end to end, start-up included")):
            a, b = med(big, key), med(small, key)
            r = a / b if a and b else None
            out.append(f"- A year's full `indicators` call ≤ 3× the sample's ({what}): {verdict(None if r is None else r <= TARGET_FLAT)}"
                       + ("" if r is None else f" — {g(a * 1000, 0)} ms vs {g(b * 1000, 0)} ms = {r:.1f}×"
                          + ("" if r <= TARGET_FLAT else f", {r / TARGET_FLAT:.1f} times over the target")))
            sa, sb = med(big, "startup"), med(small, "startup")
            if key.startswith("cli") and sa and sb:
                out[-1] += (f" (Python start-up and imports alone, measured separately: {g(sa * 1000, 0)} ms vs {g(sb * 1000, 0)} ms;"
                            " when start-up dominates, this ratio says little about the engine's growth)")
            if key == "indicators|all" and big.get("pair"):
                ratios = sorted(b / a for a, b in big["pair"])
                r, a, b = median(ratios), median([x for x, _ in big["pair"]]), median([y for _, y in big["pair"]])
                out.append(f"- The same, the two sizes alternated in one process ({len(ratios)} rounds of {PAIR_REPEAT} calls each, "
                           f"so that both see the same machine load): {verdict(r <= TARGET_FLAT)} — median of the rounds' ratios "
                           f"{r:.2f}× (rounds from {ratios[0]:.2f}× to {ratios[-1]:.2f}×; medians {g(b * 1000, 0)} ms vs {g(a * 1000, 0)} ms)"
                           + ("" if r <= TARGET_FLAT else f", {(r / TARGET_FLAT - 1) * 100:.0f} % over the target"))
    pr, cp, en = med(big, "peer:read"), med(big, "peer:compute|all"), med(big, "indicators|all")
    r = (pr + cp) / en if pr is not None and cp is not None and en else None
    out.append(f"- ≥ 10× faster than the pandas peer {where}: {verdict(None if r is None else r >= TARGET_PEER)}"
               + ("" if r is None else f" — pandas read + compute {g((pr + cp) * 1000, 0)} ms vs engine {g(en * 1000, 0)} ms = {r:.1f}×"
                  f" (pandas compute alone, tables already in memory: {cp / en:.1f}×)"
                  + ("" if r >= TARGET_PEER else f", {TARGET_PEER / r:.1f} times short of the target")))
    rr = med(big, "dash:filter")
    out.append(f"- Dashboard rerun after a filter change < 1 s of server time {where}: "
               f"{verdict(None if rr is None else rr * 1000 < TARGET_RERUN_MS)}"
               + ("" if rr is None else f" — median {g(rr * 1000, 0)} ms"
                  + ("" if rr * 1000 < TARGET_RERUN_MS else f", {rr * 1000 / TARGET_RERUN_MS:.1f} times the target")))
    rss = max(big["times"].get("dash:rss") or [0]) or None
    out.append(f"- Dashboard process < 2 GB resident {where}: {verdict(None if rss is None else rss < TARGET_RSS_MB)}"
               + ("" if rss is None else f" — peak RSS {g(rss, 0)} MB"))
    return out


def targets_17(results: list[dict]) -> list[str]:
    """Issue #17: bounded memory, as a user runs the commands (each a new process)."""
    by_n = {r["n"]: r for r in results}

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**missed**")

    out = []
    for n, limit in TARGET_IMPORT_RSS_MB.items():
        r = by_n.get(n)
        rss = max(r["times"].get("import:rss") or [0]) or None if r else None
        out.append(f"- `coaching import` peak RSS ≤ {g(limit, 0)} MB at {label(n)} persons: {verdict(None if rss is None else rss <= limit)}"
                   + ("" if rss is None else f" — {g(rss, 0)} MB (floor: {g(max(r['times'].get('floor:rss') or [0]), 0)} MB)"))
    r = by_n.get(LARGE)
    imp, flo = (median(r["times"].get("import")), median(r["times"].get("floor"))) if r else (None, None)
    ratio = imp / flo if imp and flo else None
    out.append(f"- `coaching import` ≤ {TARGET_IMPORT_FLOOR}× the floor (both fresh processes) at 1 000 000 persons: "
               f"{verdict(None if ratio is None else ratio <= TARGET_IMPORT_FLOOR)}"
               + ("" if ratio is None else f" — {ratio:.2f}× wall ({g(imp, 1)} s vs {g(flo, 1)} s; CPU "
                  f"{median(r['times'].get('import:cpu')) / median(r['times'].get('floor:cpu')):.2f}×; load average at start "
                  f"{g(median(r['times'].get('import:load')), 1)})"))
    r = by_n.get(HUGE)
    rss = r.get("generate_rss_mb") if r else None
    out.append(f"- `coaching sample --participants 5000000` ≤ {g(TARGET_GENERATE_RSS_MB, 0)} MB: {verdict(None if rss is None else rss <= TARGET_GENERATE_RSS_MB)}"
               + ("" if rss is None else f" — {g(rss, 0)} MB in {g(r.get('generate_s'), 0)} s"))
    cli = median(r["times"].get("cli|all")) if r else None
    out.append(f"- A year's `coaching indicators` ≤ {TARGET_CLI_S:.0f} s end to end at 5 000 000 persons: "
               f"{verdict(None if cli is None else cli <= TARGET_CLI_S)}" + ("" if cli is None else f" — {g(cli * 1000, 0)} ms"))
    return out


def hot_spots(results: list[dict]) -> list[str]:
    """The costliest figures and the share of the load at the largest size."""
    big = results[-1]
    t = big["times"]
    total, load = median(t.get("indicators|all")), median(t.get("load|all"))
    out = []
    if total and load is not None:
        out.append(f"- {big['label']}: `compute_indicators` {g(total * 1000, 0)} ms, of which the dataset load (DuckDB → Polars) "
                   f"{g(load * 1000, 0)} ms ({load / total:.0%}) and `compute` {g(median(t.get('compute|all')) * 1000, 0)} ms.")
        rows = big.get("dataset_rows", {}).get("all")
        if rows:
            out.append(f"  The loaded Dataset holds {g(rows['persons'])} persons, {g(rows['immersions'])} immersions and "
                       f"{g(rows['appointments'])} appointment aggregate rows.")
    keys = sorted(((median(v), k[4:].split("|")[0]) for k, v in t.items() if k.startswith("key:") and k.endswith("|all")), reverse=True)
    if keys:
        out.append("- Costliest figures on their own (no filter, on the loaded Dataset): "
                   + ", ".join(f"`{k}` {g(m * 1000, 1)} ms" for m, k in keys[:6]) + ".")
    pages = sorted(((w, p) for p, w in big.get("pages", [])), reverse=True)
    if pages:
        out.append("- Slowest dashboard pages (first visit): " + ", ".join(f"« {p} » {g(w * 1000, 0)} ms" for w, p in pages[:3]) + ".")
    return out


# ---------------------------------------------------------------- the machine

def machine() -> dict:
    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError:
            return ""

    cpu = next((line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines() if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) / 2**20 for line in read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), None)
    osr = dict(line.split("=", 1) for line in read("/etc/os-release").splitlines() if "=" in line)
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(len(os.sched_getaffinity(0)))
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = "absent"

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.rstrip("\n")
        except OSError:
            return ""

    dirty = git("status", "--porcelain", "--", "analytics", "ui", "pages", "dashboard.py")
    return {"nproc": nproc, "memory": f"{mem:.1f} GiB" if mem else "?", "cpu": cpu,
            "os": f"{osr.get('PRETTY_NAME', platform.system()).strip(chr(34))}, kernel {platform.release()}",
            "python": platform.python_version(), "versions": versions,
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": [line[3:] for line in dirty.splitlines()], "code_hash": code_hash()}


def code_hash() -> str:
    """A digest of the code measured (analytics/, ui/, pages/, dashboard.py), to tell whether it changed during the run."""
    h = hashlib.sha256()
    for path in sorted([*ROOT.glob("analytics/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), ROOT / "dashboard.py"]):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


# ---------------------------------------------------------------- RESULTS.md

def render(results: list[dict], args, info: dict, started: datetime, load_start, load_end, elapsed: float) -> str:
    vers = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{' '.join(['python -m bench.run'] + args.argv)}` (see bench/run.py for what each row measures).",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, `nproc` = {info['nproc']}; memory {info['memory']}",
        f"- OS: {info['os']}",
        f"- Python {info['python']}; {vers}",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC, run time {elapsed / 60:.1f} min",
        f"- Load average (1, 5, 15 min) at start {load_start[0]:.2f}, {load_start[1]:.2f}, {load_start[2]:.2f}; "
        f"at end {load_end[0]:.2f}, {load_end[1]:.2f}, {load_end[2]:.2f}"
        + (" — **the machine was shared and loaded during the run** (load above its core count): wall times are inflated; "
           "the CPU-time rows and the ratios within a size are the steadier figures." if max(load_start[0], load_end[0]) > float(info["nproc"] or 1) else ""),
        f"- Code: commit {info['commit']}" + (f", with uncommitted changes in {', '.join(info['dirty'])} (work in progress in the "
                                              "shared working tree at the start of the run)" if info["dirty"] else "")
        + (f"; code digest {info['code_hash']}" + (" unchanged at the end of the run." if info["code_hash"] == info["code_hash_end"] else
           f", **changed during the run** (digest {info['code_hash_end']} at the end): the sizes were not all measured on the same code.")),
        "",
        "## Method",
        "",
        f"- Medians of {args.repeat} runs per measurement (the engine's, below {g(SMALL)} persons: "
        f"{max(args.repeat, SMALL_ENGINE_REPEAT)} runs, as they last milliseconds)"
        + "".join(f"; the import and its floor at {r['label']} persons: {r['import_repeat']} runs each"
                  for r in results if r.get("import_repeat") != args.repeat) + ". "
        "Each import, floor, engine, pandas and dashboard measurement runs in its own child process (`bench/workers.py`); "
        "peak memory is that process's `ru_maxrss` (`os.wait4`).",
        f"- Sizes: `sample` = `data/sample` (184 persons, 134 positioned in 2023); others = `coaching sample --participants N "
        f"--seed {args.seed}` (`analytics.synthetic.write_synthetic`: chunks of 250 000 persons appended to the files; UTF-8 BOM, "
        "`;`, JJ/MM/AAAA), cached under the work folder; its wall time and peak RSS are those of that command.",
        "- Import: `coaching import EXTRACT --db FRESH` (validation, privacy scan, copy-on-write store), a new process, "
        "start-up included, as a user runs it; store: the embedded DuckDB file. Floor: "
        "`CREATE TABLE t AS SELECT * FROM read_csv(f, delim=';', header=true, dateformat='%d/%m/%Y')` of the same three "
        "files into a fresh file, in a new process (start-up included). Import and floor runs alternate, so that both see the same load.",
        "- Engine: warm read-only connection (`connect_readonly`), one untimed call per filter first; the year is the busiest "
        "full calendar year of the data; filters: none, the year's most frequent commune ("
        + ", ".join(f"{r['label']}: {r.get('commune')}" for r in results) + "), its most frequent prescriber ("
        + ", ".join(f"{r['label']}: {r.get('prescriber')}" for r in results) + "). "
        "Each `figure` row times one key of `FIGURES` alone on a fresh copy of the loaded Dataset (its populations "
        "included), so the rows add up to more than `compute`, which shares them. The sizes are measured minutes apart; "
        f"for the flatness target the sample and the largest size are also timed alternately in one process ({PAIR_ROUNDS} "
        f"rounds of {PAIR_REPEAT} calls on each, `engine_pair` in bench/workers.py), and the median of the rounds' ratios is reported.",
        "- Pandas peer (`bench/pandas_peer.py`): the three tables pulled with `con.sql('SELECT * FROM …').df()`, then masks "
        "and value_counts/groupby per SPEC-indicators. Ratio = (read + compute) ÷ engine `compute_indicators` with the same filter.",
        "- Command line: `coaching indicators --db STORE --year Y --json [--commune C | --prescriber P]`, a new process each time.",
        "- Dashboard: `streamlit.testing.v1.AppTest` on dashboard.py in a child process (modules pre-imported as in a running "
        "server, caches cold): first run of the default page, each other page once, then "
        f"{args.repeat} reruns of « Vue d'ensemble » after setting the sidebar's commune multiselect to a different commune "
        "(never a cache hit). Server time = the duration of `at.run()`.",
        "",
        "## Results",
        "",
        table(results),
        "",
        "## Targets of issue #6",
        "",
        *targets(results),
        "",
        "## Targets of issue #17 (bounded memory)",
        "",
        *targets_17(results),
        "",
        "## Hot spots",
        "",
        *hot_spots(results),
    ]
    checks = []
    for r in results:
        for v, diffs in (r.get("peer_differences") or {}).items():
            for d in diffs:
                checks.append(f"- {r['label']}, {VARIANT_LABEL[v]}: {d}")
        for page, errors in (r.get("page_exceptions") or {}).items():
            checks.append(f"- {r['label']}: exception on « {page} »: {'; '.join(errors)}")
        for note in r.get("notes", []):
            checks.append(f"- {r['label']}: " + note.replace("\n", " / "))
    lines += ["", "## Checks", ""]
    lines += checks or ["- The pandas peer gives the engine's figures for every key, filter variant and size; no page raised an exception."]
    return "\n".join(lines) + "\n"


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if part:
            sizes.append(SAMPLE_SIZE if part == "sample" else int(part))
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes: comma-separated positive integers, e.g. 134,100000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=parse_sizes, default=parse_sizes("134,100000,1000000"),
                   help="comma-separated sizes; 134 = the reference sample (default 134,100000,1000000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement, the median is reported (default 3)")
    p.add_argument("--large-import-repeat", type=int, default=None,
                   help="runs of the import and of its floor at 1 000 000 persons and more (default: --repeat)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic extracts (default 1)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work", help="cache of extracts and stores (default bench/work)")
    p.add_argument("--peer-max", type=int, default=LARGE, help="largest size the pandas peer runs at (default 1000000)")
    p.add_argument("--skip-peer", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--skip-dashboard", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.argv = argv
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.large_import_repeat is None:
        args.large_import_repeat = args.repeat
    sizes = sorted(dict.fromkeys(args.sizes), key=lambda n: (n != SAMPLE_SIZE, n))
    started, t0, load_start = datetime.now(timezone.utc), time.perf_counter(), os.getloadavg()
    info = machine()
    work = args.work.resolve()
    results = []
    for n in sizes:
        results.append(bench_size(n, args, work))
        if len(sizes) > 1:  # the sizes measured so far, in case a later (larger) one is interrupted
            partial = render(results, args, info | {"code_hash_end": code_hash()}, started, load_start, os.getloadavg(),
                             time.perf_counter() - t0)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(partial + "\n_Partial: written after " + results[-1]["label"] + " persons; the run goes on._\n",
                                encoding="utf-8")
    if len(results) > 1 and results[0]["n"] == SAMPLE_SIZE:
        # the flatness ratio again, the sample and the largest size alternated in one process (the sizes above are
        # measured minutes apart, and this shared machine's speed drifts by 10–20 % in that time)
        small, big = results[0], results[-1]
        log(f"engine: {small['label']} and {big['label']} alternated")
        pair = worker("engine_pair", {"dbs": [str(work / "stores" / f"{r['n']}.duckdb") for r in (small, big)],
                                      "years": [small["year"], big["year"]], "rounds": PAIR_ROUNDS, "repeat": PAIR_REPEAT},
                      work / "tmp")
        big["pair"] = pair["rounds"]
    shutil.rmtree(work / "tmp", ignore_errors=True)
    info["code_hash_end"] = code_hash()
    text = render(results, args, info, started, load_start, os.getloadavg(), time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    work.mkdir(parents=True, exist_ok=True)  # the raw timings of the last run, for whoever wants more than medians
    (work / "last-results.json").write_text(json.dumps({"machine": info, "results": results}, ensure_ascii=False,
                                                       default=str, indent=1), encoding="utf-8")
    print(table(results))
    print()
    print("\n".join(targets(results) + targets_17(results)))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
