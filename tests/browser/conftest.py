"""End-to-end tests in a real browser: the dashboard served by `streamlit run`, driven by Playwright.

Debian's Chromium (/usr/bin/chromium) is used, never a browser downloaded by `playwright install`.
When it is missing the tests skip with a message, except in CI (`CI=true`) where they fail.

Fixtures:
    app_url      (session) base URL of `streamlit run dashboard.py` on the `sample_db` store
                 (its output: test-output/streamlit-<worker>.log)
    app_context  (session) the browser context the tests open their tabs in; requests to other hosts
                 are blocked, and the app is opened once at its root before any test
    dash         a `Dash` in a new tab: open a page and wait until it is drawn, read KPI values and
                 sidebar filters, list problems, take full-page screenshots (test-output/screenshots/)
    fresh_dash   a `Dash` on a server of its own, just started and never visited
    routes       (session) {page file: Route} as dashboard.py declares its pages

Every browser test carries `@pytest.mark.browser` and `@pytest.mark.xdist_group("browser")`, meant to
keep them on one worker under `pytest -n 2 --dist loadgroup`. The suite is also correct when they are
spread over workers (each worker then starts its own app server): with pytest 9.2 and pytest-xdist 3.8
the group is in fact ignored (pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}
STARTUP_TIMEOUT_S = 60
PLACEHOLDER = "Page en construction"

# The page is drawn: the script run is over, no lazily loaded element is still a skeleton, something
# is in the main area, and every Plotly chart has drawn its SVG.
_READY_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stSkeleton]')) return false;
  if (!document.querySelector('[data-testid=stMain] [data-testid=stElementContainer]')) return false;
  for (const chart of document.querySelectorAll('[data-testid=stPlotlyChart]')) {
    if (!chart.querySelector('.js-plotly-plot .main-svg')) return false;
  }
  return true;
}"""

# Counts the script runs that start from now on (a MutationObserver sees every state change, even a
# run too short to be polled), so that a click can wait for *its* rerun and not the previous one.
_WATCH_RUNS_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__e2eRuns = 0;
  if (window.__e2eObserver) window.__e2eObserver.disconnect();
  window.__e2eObserver = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__e2eRuns += 1;
  });
  window.__e2eObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

# Python or Streamlit failures that must never reach a user.
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(?:Error|Exception)\b|Page not found|"
                        r"Bad message format|Connection error")


# ---------------------------------------------------------------- Chromium and Playwright

def _chromium_missing_message() -> str | None:
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return None
    return (f"Debian's Chromium is not installed ({CHROMIUM} missing): the browser tests need it "
            "(`apt-get install chromium`; `playwright install` is not used).")


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    message = _chromium_missing_message()
    if message is None:
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(message + " CI=true: the browser tests must run in CI, so this is a failure.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, on Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": dict(VIEWPORT), "locale": "fr-FR", "timezone_id": "Europe/Paris"}


# ---------------------------------------------------------------- the app server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_free_port = free_port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def serve(db: Path, name: str, *, port: int | None = None, args: tuple[str, ...] = (), env: dict | None = None):
    """`python -m ui.launch` (streamlit run dashboard.py) on the store `db`; yields its base URL once `/_stcore/health` answers.
    Its output goes to test-output/<name>.log. `port` (default: a free one), more command-line `args` (e.g.
    `--secrets.files`) and environment variables `env` may be given."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log_path = OUTPUT / f"{name}.log"
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    # `ui.launch` is how `make run` starts the app: `streamlit run dashboard.py` without the legacy pages/ mode
    cmd = [sys.executable, "-m", "ui.launch", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           # pages may be edited while the suite runs: no file watcher, no "source changed" banner
           "--server.fileWatcherType", "none", *args]
    env = {**os.environ, "COACHING_DB": str(db), "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "wb") as log:
        log.write(f"$ COACHING_DB={db} {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode} before answering; log {log_path}:\n"
                            f"{_tail(log_path)}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200 and response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer {url}/_stcore/health within {STARTUP_TIMEOUT_S} s; "
                            f"log {log_path}:\n{_tail(log_path)}", pytrace=False)
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url(sample_db: Path) -> str:
    """The app on the sample store, shared by the browser tests (log: test-output/streamlit-<worker>.log)."""
    with serve(sample_db, f"streamlit-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}") as url:
        yield url


@pytest.fixture(scope="session")
def app_context(browser, browser_context_args: dict, app_url: str):
    """One browser context for the suite (its HTTP cache spares each test reloading Plotly's bundle);
    each test still gets its own tab, hence its own Streamlit session.

    The app is opened once at its root first: the very first session after a start that lands on another
    page gets Streamlit's legacy `pages/`-folder app instead (see test_deep_link_as_first_visit_after_start),
    and the other tests must not depend on which of them runs first.

    Requests to other hosts than the app are blocked (and listed by `Dash.problems`): the dashboard works
    offline and sends nothing to third parties, whatever the machine's network."""
    context = browser.new_context(**browser_context_args)
    context.route(is_external, lambda route: route.abort())  # the dashboard must not need the internet
    warm_up = context.new_page()
    Dash(warm_up, app_url).open("")
    warm_up.close()
    yield context
    context.close()


# ---------------------------------------------------------------- the pages, as dashboard.py declares them

@dataclass(frozen=True)
class Route:
    file: str
    title: str
    url_path: str
    default: bool = False

    @property
    def path(self) -> str:
        """Where the page is served: the default page at the root (Streamlit ignores its url_path)."""
        return "" if self.default else self.url_path

    @property
    def source(self) -> str:
        return (ROOT / self.file).read_text(encoding="utf-8")

    @property
    def placeholder(self) -> bool:
        """The page file is still the stub ("Page en construction")."""
        return PLACEHOLDER in self.source


def read_routes() -> dict[str, Route]:
    """The `st.Page(...)` declarations of dashboard.py (file, title, url_path), in order."""
    routes = {}
    for node in ast.walk(ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page" and node.args:
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            file = node.args[0].value
            routes[file] = Route(file, kw.get("title", ""), kw.get("url_path", Path(file).stem), bool(kw.get("default")))
    return routes


@pytest.fixture(scope="session")
def routes() -> dict[str, Route]:
    return read_routes()


# ---------------------------------------------------------------- driving a page

def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in ("127.0.0.1", "localhost")


class Dash:
    """The dashboard in one browser tab."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.js_errors: list[str] = []
        self.external_requests: list[str] = []
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: self.js_errors.append(str(exc)))
        page.on("request", lambda request: is_external(request.url) and self.external_requests.append(request.url))

    # navigation and waiting
    def open(self, path: str = "", **query) -> None:
        if not {"annee", "debut", "fin"} & set(query):
            # the assertions check the 2023 figures of the report; the sample runs to 2026 (default year: its last
            # complete year), so the year is given as a user would in the address
            query = {"annee": "2023", **query}
        qs = urlencode(query, doseq=True)
        self.page.goto(f"{self.base_url}/{path.lstrip('/')}" + (f"?{qs}" if qs else ""))
        self.wait_ready()

    def wait_ready(self, timeout_ms: int = 30_000) -> None:
        self.page.wait_for_function(_READY_JS, timeout=timeout_ms, polling=100)
        # stable: still drawn a moment later (Plotly may lay out again once its container is sized)
        self.page.wait_for_timeout(250)
        self.page.wait_for_function(_READY_JS, timeout=timeout_ms, polling=100)

    @contextlib.contextmanager
    def rerun(self, timeout_ms: int = 15_000):
        """Wrap an action that makes the app run its script again; waits for that run to be drawn."""
        self.page.evaluate(_WATCH_RUNS_JS)
        yield
        self.page.wait_for_function("() => window.__e2eRuns > 0", timeout=timeout_ms, polling=50)
        self.wait_ready(timeout_ms)

    def nav_link(self, title: str):
        return self.page.locator("[data-testid=stSidebarNavLink]").filter(
            has=self.page.get_by_text(title, exact=True))

    def current_page_title(self) -> str:
        return self.page.locator("[data-testid=stSidebarNavLink][aria-current=page]").inner_text().strip().splitlines()[-1]

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def path(self) -> str:
        return urlsplit(self.page.url).path

    # reading the page
    def charts(self):
        return self.page.locator("[data-testid=stMain] .js-plotly-plot")

    def chart_trace_counts(self) -> list[int]:
        """Number of traces of every Plotly chart of the main area (0 = an empty-state figure)."""
        return self.page.evaluate("() => Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot'))"
                                  ".map(el => (el.data || []).length)")

    def metric(self, label: str) -> str:
        card = self.page.locator("[data-testid=stMetric]").filter(
            has=self.page.locator("[data-testid=stMetricLabel]").get_by_text(label, exact=True))
        assert card.count() == 1, f"expected one KPI card labelled {label!r}, found {card.count()}"
        return card.locator("[data-testid=stMetricValue]").inner_text().strip()

    def sidebar_widget(self, testid: str, label: str):
        return self.page.locator(f"[data-testid=stSidebar] [data-testid={testid}]").filter(
            has=self.page.locator("[data-testid=stWidgetLabel]").get_by_text(label, exact=True))

    def multiselect(self, label: str) -> list[str]:
        """The values shown as tags in a sidebar multiselect."""
        widget = self.sidebar_widget("stMultiSelect", label)
        assert widget.count() == 1, f"expected one sidebar multiselect labelled {label!r}, found {widget.count()}"
        return [tag.get_attribute("aria-label") for tag in widget.locator("[data-tag]").all()]

    def segmented(self, label: str) -> str:
        """The selected option of a sidebar segmented control."""
        widget = self.sidebar_widget("stButtonGroup", label)
        assert widget.count() == 1, f"expected one sidebar segmented control labelled {label!r}, found {widget.count()}"
        return widget.locator("[role=radio][aria-checked=true]").inner_text().strip()

    def problems(self) -> list[str]:
        """Exceptions, st.error boxes, Python/Streamlit error text, dialogs, JavaScript errors and requests to
        other hosts since the tab opened."""
        found = [f"exception: {e.inner_text()[:800]}" for e in self.page.locator("[data-testid=stException]").all()]
        found += [f"st.error: {e.inner_text()[:300]}" for e in self.page.locator("[data-testid=stAlertContentError]").all()]
        found += [f"dialog: {e.inner_text()[:300]}" for e in self.page.locator("[role=dialog]").all()]
        text = self.page.locator("[data-testid=stApp]").inner_text()
        found += [f"error text: …{text[max(0, m.start() - 80):m.end() + 80]}…" for m in ERROR_TEXT.finditer(text)]
        found += [f"javascript: {e}" for e in self.js_errors]
        found += [f"request to another host (blocked): {url}" for url in dict.fromkeys(self.external_requests)]
        return found

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in test-output/screenshots/. Streamlit scrolls inside its main area, not the
        document, so the window is made as tall as the content for the shot."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.page.evaluate("""() => Math.max(...['[data-testid=stMain]', '[data-testid=stSidebarContent]']
            .map(s => { const e = document.querySelector(s); return e ? e.scrollHeight : 0; }))""")
        size = self.page.viewport_size or dict(VIEWPORT)
        self.page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 20), 15_000)})
        try:
            self.wait_ready()
            path = SCREENSHOTS / f"{name}.png"
            self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        finally:
            self.page.set_viewport_size(size)
        return path


@pytest.fixture
def dash(app_context, app_url) -> Dash:
    page = app_context.new_page()
    yield Dash(page, app_url)
    page.close()


@pytest.fixture
def fresh_dash(page, sample_db) -> Dash:
    """A `Dash` on an app server of its own, started for this test and never opened before."""
    with serve(sample_db, "streamlit-fresh") as url:
        yield Dash(page, url)


# test modules of this folder import `Dash` and `serve` as `from coaching_browser_helpers import ...`
sys.modules.setdefault("coaching_browser_helpers", sys.modules[__name__])
