"""`make bench`, second part: the shared store (a DuckLake on PostgreSQL) next to the embedded one, and a load run.

    .venv/bin/python -m bench.shared                                   # 1 000 000 persons, 5/10/20 sessions
    .venv/bin/python -m bench.shared --n 100000 --sessions 2 --changes 2 --out /tmp/R.md   # a quick try

1. A real PostgreSQL server is started for the run (tests/pgserver.py: `initdb` in a temporary folder, 127.0.0.1,
   a free port) and holds the lake's catalog; the data files go to a folder under --work.
2. Import of the cached synthetic extract of N persons (bench/run.py's cache, generated when missing) into a fresh
   DuckDB file and into a fresh lake, once each, in child processes (wall, CPU, peak RSS, size on disk).
3. A year's `compute_indicators` without filter (the busiest full year) on a warm read-only connection to each
   store: the opening of the connection, then the median of `--repeat` calls.
4. The load run: 5, 10 and 20 concurrent browser sessions (one headless Chromium, one context per session) on the
   lake, with one dashboard server, then with two (sessions spread over them as a sticky proxy would). Each session
   opens the overview page, then changes the filters `--changes` times (a random year of the data and a random
   commune, loaded through the URL: the page is reloaded, its script runs, every chart is drawn); an interaction is
   timed from the navigation to the page being drawn. Median and 95th percentile of the interactions per run, with
   the load average of the machine.

The results replace the section « Shared store » of --out (bench/RESULTS.md), or are appended to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.run import ROOT, choose_year_and_filters, extract_dir, label, log, remove_db, worker

SECTION = "## Shared store (DuckLake on PostgreSQL) and load run"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


async def _session(browser, url: str, year_choices: list[int], communes: list[str], changes: int, seed: int,
                   out: list[float], errors: list[str]) -> None:
    from tests.browser.conftest import _READY_JS

    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page = await context.new_page()
    page.set_default_timeout(300_000)
    try:
        await page.goto(f"{url}/?annee={year_choices[0]}")
        await page.wait_for_function(_READY_JS, polling=100)
        for _ in range(changes):
            query = f"annee={rng.choice(year_choices)}&commune={rng.choice(communes)}"
            t0 = time.perf_counter()
            await page.goto(f"{url}/?{query}")
            await page.wait_for_function(_READY_JS, polling=50)
            out.append(time.perf_counter() - t0)
            if await page.locator("[data-testid=stException], [data-testid=stAlertContentError]").count():
                errors.append(query)
    except Exception as exc:  # noqa: BLE001 - reported in the results, never hidden
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _load(urls: list[str], sessions: int, year_choices, communes, changes: int) -> tuple[list[float], list[str]]:
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    times, errors = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*[_session(browser, urls[i % len(urls)], year_choices, communes, changes, i, times, errors)
                                   for i in range(sessions)])
        finally:
            await browser.close()
    return times, errors


def load_run(lake: str, servers: int, sessions: int, year_choices, communes, changes: int, replica: str | None = None) -> dict:
    from tests.browser.conftest import serve

    with contextlib.ExitStack() as stack:
        if replica:  # the servers read local copies of the snapshot ($COACHING_LAKE_CACHE, inherited)
            os.environ["COACHING_LAKE_CACHE"] = replica
            stack.callback(os.environ.pop, "COACHING_LAKE_CACHE", None)
        urls = [stack.enter_context(serve(lake, f"bench-lake-{servers}-{i}")) for i in range(servers)]
        # each server opened once first (extensions loaded, lake attached): a steady state, not a cold start
        asyncio.run(_load(urls, len(urls), year_choices, communes[:1], 0))
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        times, errors = asyncio.run(_load(urls, sessions, year_choices, communes, changes))
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
    return {"servers": servers, "replica": bool(replica), "sessions": sessions, "n": len(times), "median": statistics.median(times) if times else None,
            "p95": pct(times, 0.95), "max": max(times) if times else None, "wall": wall, "errors": errors,
            "load_before": load_before, "load_after": load_after}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sessions", default="5,10,20")
    p.add_argument("--changes", type=int, default=4, help="filter changes per session")
    p.add_argument("--repeat", type=int, default=5, help="timed calls of a year's indicators")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = p.parse_args(argv)
    from tests.pgserver import PgServer, bin_dir

    work = args.work.resolve()
    tmp = work / "tmp"
    src, _ = extract_dir(args.n, args.seed, work)
    bindir = bin_dir()
    if bindir is None:
        print("PostgreSQL absent (paquet Debian « postgresql ») : banc de la base partagée non lancé.", file=sys.stderr)
        return 1
    server = PgServer(bindir).start()
    data = work / "lake-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    os.environ["COACHING_DATA_PATH"] = str(data)
    started = datetime.now()
    res: dict = {"load_start": os.getloadavg()}
    try:
        lake = "ducklake:postgres:" + server.create_database("bench")
        file_db = work / "stores" / f"{args.n}.shared-bench.duckdb"
        file_db.parent.mkdir(parents=True, exist_ok=True)
        remove_db(file_db)
        log(f"{label(args.n)}: import into the embedded store")
        res["import_file"] = worker("import", {"src": str(src), "db": str(file_db)}, tmp)
        log(f"{label(args.n)}: import into the lake")
        res["import_lake"] = worker("import", {"src": str(src), "db": lake, "data_path": str(data)}, tmp)
        res["catalog_mb"] = server.database_size("bench") / 2**20
        choice = choose_year_and_filters(file_db)
        year = choice["year"]
        res["year"] = year
        for name, db in (("file", str(file_db)), ("lake", lake)):
            log(f"{label(args.n)}: a year's indicators on the {name} store")
            res[f"year_{name}"] = worker("year_call", {"db": db, "year": year, "repeat": args.repeat, "data_path": str(data)}, tmp)
        cache = work / "lake-cache"
        shutil.rmtree(cache, ignore_errors=True)
        log(f"{label(args.n)}: a year's indicators on the lake through a local replica (first opening = the copy)")
        res["year_replica"] = worker("year_call", {"db": lake, "year": year, "repeat": args.repeat, "data_path": str(data),
                                                   "cache": str(cache)}, tmp)
        years = sorted({year - 1, year, year + 1} & set(range(2000, 2101)))
        communes = choice["communes"][:12]
        res["load"] = []
        for sessions in [int(x) for x in args.sessions.split(",") if x]:
            for servers, replica in ((1, None), (2, None), (2, str(cache))):
                log(f"load run: {sessions} sessions, {servers} server(s) on the lake" + (" (local replicas)" if replica else ""))
                res["load"].append(load_run(lake, servers, sessions, years, communes, args.changes, replica))
                write_section(args.out, render({**res, "load_end": os.getloadavg()}, args, started))  # so far
        remove_db(file_db)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    res["load_end"] = os.getloadavg()
    text = render(res, args, started)
    print(text)
    write_section(args.out, text)
    return 0


def _mb(b: float) -> str:
    return f"{b / 2**20:,.0f} MB".replace(",", " ")


def render(res: dict, args, started: datetime) -> str:
    fi, la = res["import_file"], res["import_lake"]
    yf, yl, yr = res["year_file"], res["year_lake"], res["year_replica"]
    load = lambda t: " / ".join(f"{x:.1f}" for x in t)  # noqa: E731
    lines = [
        SECTION, "",
        f"Run of {started:%Y-%m-%d %H:%M} (`.venv/bin/python -m bench.shared --n {args.n} --sessions {args.sessions} "
        f"--changes {args.changes}`, part of `make bench`), {label(args.n)} persons "
        f"({fi['counts'].get('rendez_vous', 0):,} appointments); PostgreSQL {Path(str(_pg_version())).name} started for the run "
        f"on 127.0.0.1, data files on the local disk. Load average (1/5/15 min) at the start {load(res['load_start'])}, "
        f"at the end {load(res['load_end'])}".replace(",", " ") + (
            f": above the machine's {os.cpu_count()} cores (other work ran at the same time), so these are one run on a busy machine."
            if max(res["load_start"][0], res["load_end"][0]) > (os.cpu_count() or 1) else ": a quiet machine."),
        "",
        "| | embedded (DuckDB file) | shared (DuckLake, PostgreSQL catalog) |",
        "|---|---|---|",
        f"| import (`run_import`, fresh store) | {fi['wall']:.1f} s wall, {fi['cpu']:.1f} s CPU, {fi['rss_mb']:,.0f} MB peak RSS | "
        f"{la['wall']:.1f} s wall, {la['cpu']:.1f} s CPU, {la['rss_mb']:,.0f} MB peak RSS |",
        f"| size | {_mb(fi['db_bytes'])} file (+ one hard link per import in `.history`) | {_mb(la['db_bytes'])} of Parquet files + "
        f"{res['catalog_mb']:.0f} MB catalog database |",
        f"| a year's `compute_indicators` ({res['year']}, no filter, warm connection, median of {args.repeat}) | "
        f"{statistics.median(yf['calls']) * 1000:.0f} ms | {statistics.median(yl['calls']) * 1000:.0f} ms |",
        f"| opening a read-only connection | {yf['open'] * 1000:.0f} ms | {yl['open'] * 1000:.0f} ms (extensions loaded, lake attached) |",
        f"| lake read through a local replica (`$COACHING_LAKE_CACHE`): a year's call; first opening = copying the snapshot | | "
        f"{statistics.median(yr['calls']) * 1000:.0f} ms; copy {yr['open']:.1f} s, {_mb(yr['replica_bytes'])} |",
        "",
        f"Load run on the lake ({label(args.n)} persons): concurrent sessions in one headless Chromium, each opening the overview "
        f"then changing the filters {args.changes} times (random year among {res['year'] - 1}–{res['year'] + 1} and commune, "
        "through the URL: reload, script run, every chart drawn); times from the navigation to the page drawn, browser "
        "included (it runs on the same 2 cores).",
        "",
        "| sessions | servers | interactions | median | p95 | max | errors | load average before → after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in res["load"]:
        lines.append(f"| {r['sessions']} | {r['servers']}{' (local replicas)' if r['replica'] else ''} | {r['n']} | {r['median']:.2f} s | {r['p95']:.2f} s | {r['max']:.2f} s | "
                     f"{len(r['errors'])} | {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |")
    errors = [e for r in res["load"] for e in r["errors"]]
    if errors:
        lines += ["", "Errors seen: " + "; ".join(sorted(set(errors))[:5])]
    return "\n".join(lines) + "\n"


def _pg_version() -> str:
    from tests.pgserver import bin_dir

    b = bin_dir()
    return f"{b.parent.name}" if b else "?"


def write_section(out: Path, text: str) -> None:
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    if SECTION in old:
        head, rest = old.split(SECTION, 1)
        nxt = rest.find("\n## ")
        old = head + (rest[nxt + 1:] if nxt >= 0 else "")
    out.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
