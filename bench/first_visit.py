"""First visit of each page in a fresh browser, on the sample (issue 16, point 8).

    .venv/bin/python -m bench.first_visit [--repeat 3] [--out bench/RESULTS.md]

One app server (`python -m ui.launch`, as `make run`) on the sample store, started and opened once at its root
(as after a deployment); then, for each page and each repetition, a *new browser* (Chromium, empty cache, new
Streamlit session) opens the page's address and the time until the page is drawn is measured: the script run
is over, no skeleton is left and every Plotly chart has drawn its SVG (tests/browser/conftest.py's readiness).
The split: `navigation → DOMContentLoaded` (the front-end bundle), then the rest (websocket, the script run on
the server, the drawing). The machine's load average is recorded before and after, since the numbers depend on it.

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


def measure(repeat: int) -> dict:
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
    with tempfile.TemporaryDirectory(prefix="bench-first-visit-") as tmp:
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
                    context.close()
            chromium.close()
    return {"pages": out, "dom": dom}


def render(result: dict, repeat: int, load_before, load_after, started: datetime) -> str:
    lines = [START, "## First visit of each page in a fresh browser (issue 16)", "",
             f"`.venv/bin/python -m bench.first_visit --repeat {repeat}` — {started:%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} CPU(s), load average {' / '.join(f'{x:.1f}' for x in load_before)} before, "
             f"{' / '.join(f'{x:.1f}' for x in load_after)} after (1 / 5 / 15 min). Server already started and opened once; "
             "each visit is a new Chromium context (empty cache, new session), timed from navigation to the page drawn "
             "(charts included).", "",
             "| Page | median, s | min, s | max, s | of which front-end loaded (DOMContentLoaded), s |", "|---|---:|---:|---:|---:|"]
    for title, times in result["pages"].items():
        lines.append(f"| {title} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | "
                     f"{statistics.median(result['dom'][title]):.2f} |")
    lines += ["", "Target: under 2 s on a quiet machine (load average below the CPU count).", END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    before = os.getloadavg()
    result = measure(args.repeat)
    section = render(result, args.repeat, before, os.getloadavg(), started)
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
