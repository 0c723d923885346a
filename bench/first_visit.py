"""First visit of each page in a fresh browser, on the sample (issue 16, point 8).

    .venv/bin/python -m bench.first_visit [--repeat 3] [--out bench/RESULTS.md]
    .venv/bin/python -m bench.first_visit --db /path/store.duckdb --repeat 2 --out /tmp/R.md   # any store (5 M persons)

One app server (`python -m ui.launch`, as `make run`) on the sample store, started and opened once at its root
(as after a deployment); then, for each page and each repetition, a *new browser* (Chromium, empty cache, new
Streamlit session) opens the page's address and the time until the page is drawn is measured: the script run
is over, no skeleton is left and every Plotly chart has drawn its SVG (tests/browser/conftest.py's readiness).
The split: `navigation → DOMContentLoaded` (the front-end bundle), then the rest (websocket, the script run on
the server, the drawing). The machine's load average is recorded before and after, since the numbers depend on it.
Then, in the same tab, a **filter change**: the sidebar's « Année » moved one year down (keyboard), timed from
the key to the new run drawn — what an analyst waits for on every click once the page is open.

The section between the markers `<!-- first-visit -->` … `<!-- /first-visit -->` of `--out` is replaced (appended
when absent).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- first-visit -->", "<!-- /first-visit -->"


def measure(repeat: int, store: Path | None = None) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import tempfile

    from playwright.sync_api import sync_playwright

    import conftest as browser  # tests/browser/conftest.py: serve(), readiness script, routes, Chromium options
    from analytics.extract import load_extract
    from analytics.store import import_extract

    os.environ.setdefault("COACHING_USERS", str(Path(tempfile.gettempdir()) / "bench-no-users.json"))
    routes = list(browser.read_routes().values())
    out = {r.title: [] for r in routes}
    dom = {r.title: [] for r in routes}
    change = {r.title: [] for r in routes}
    with tempfile.TemporaryDirectory(prefix="bench-first-visit-") as tmp:
        db = store
        if db is None:
            db = Path(tmp) / "coaching.duckdb"
            import_extract(load_extract(ROOT / "data" / "sample"), db)
        with browser.serve(db, "bench-first-visit") as url, sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(browser.CHROMIUM), args=browser.CHROMIUM_ARGS)
            warm = chromium.new_page()
            warm.goto(url)
            warm.wait_for_function(browser._READY_JS, timeout=120_000, polling=50)
            warm.close()
            for _ in range(repeat):
                for route in routes:
                    context = chromium.new_context(viewport=browser.VIEWPORT, locale="fr-FR")  # empty cache, new session
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{url}/{route.path}")
                    page.wait_for_function(browser._READY_JS, timeout=120_000, polling=20)
                    out[route.title].append(time.perf_counter() - t0)
                    dom[route.title].append(page.evaluate(
                        "() => { const n = performance.getEntriesByType('navigation')[0]; return n.domContentLoadedEventEnd / 1000; }"))
                    change[route.title].append(_year_change(page, browser))
                    context.close()
            chromium.close()
    return {"pages": out, "dom": dom, "change": change}


def _year_change(page, browser) -> float | None:
    """Seconds from choosing the next year in the sidebar (keyboard) to the new run drawn; None without the box."""
    box = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(has=page.get_by_text("Année", exact=True))
    if box.count() != 1:
        return None
    field = box.locator("input")
    field.click()
    field.press("ArrowDown")
    page.wait_for_selector("[role=option]", timeout=30_000)
    page.evaluate(browser._WATCH_RUNS_JS)
    t0 = time.perf_counter()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__e2eRuns > 0", timeout=120_000, polling=20)
    page.wait_for_function(browser._READY_JS, timeout=120_000, polling=20)
    return time.perf_counter() - t0


def render(result: dict, repeat: int, load_before, load_after, started: datetime, store: Path | None = None) -> str:
    on = f" --db {store}" if store else ""
    lines = [START, "## First visit of each page in a fresh browser (issue 16)", "",
             f"`.venv/bin/python -m bench.first_visit --repeat {repeat}{on}` — {started:%Y-%m-%d %H:%M} UTC, "
             f"store: {'`' + str(store) + '`' if store else 'the sample (data/sample)'}, "
             f"{os.cpu_count()} CPU(s), load average {' / '.join(f'{x:.1f}' for x in load_before)} before, "
             f"{' / '.join(f'{x:.1f}' for x in load_after)} after (1 / 5 / 15 min). Server already started and opened once; "
             "each visit is a new Chromium context (empty cache, new session), timed from navigation to the page drawn "
             "(charts included).", "",
             "| Page | median, s | min, s | max, s | of which front-end loaded (DOMContentLoaded), s | then a year change, s (median) |",
             "|---|---:|---:|---:|---:|---:|"]
    for title, times in result["pages"].items():
        changes = [c for c in result.get("change", {}).get(title, []) if c is not None]
        lines.append(f"| {title} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | "
                     f"{statistics.median(result['dom'][title]):.2f} | "
                     f"{f'{statistics.median(changes):.2f}' if changes else '—'} |")
    lines += ["", "Target: under 2 s on a quiet machine (load average below the CPU count).", END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--db", type=Path, default=None, help="store to serve (default: the sample, imported in a temp folder)")
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    before = os.getloadavg()
    result = measure(args.repeat, args.db)
    section = render(result, args.repeat, before, os.getloadavg(), started, args.db)
    print(section)
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
