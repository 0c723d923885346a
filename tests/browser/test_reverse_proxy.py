"""Several dashboard servers behind a real nginx, configured by the deployment's own file
(`deploy/nginx/coaching.conf`, docs/deployment.md): the page and its websocket go through the proxy, a browser
stays on one server (sticky sessions: Streamlit keeps a session in one process), and when that server stops the
next visit is served by the other one with the same figures."""

from __future__ import annotations

import contextlib
import os

import pytest

from analytics import fmt
from analytics.importer import run_import
from analytics.indicators import Period, compute_indicators
from analytics.store import connect_readonly
from tests.browser.conftest import ROOT, Dash, serve
from tests.nginxproxy import nginx_binary, proxy, upstreams_used
from tests.pgserver import postgres  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
YEAR = 2023


@pytest.fixture
def nginx() -> None:
    if nginx_binary() is None:
        message = "nginx absent (paquet Debian `nginx` ; `make test` l'installe quand il le peut)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " alors que CI=true", pytrace=False)
        pytest.skip(message)


@pytest.fixture
def lake(postgres, tmp_path, monkeypatch):  # noqa: F811
    dsn = postgres.create_database(f"proxylake_{os.getpid()}")
    data = tmp_path / "lake-data"
    data.mkdir()
    monkeypatch.setenv("COACHING_DATA_PATH", str(data))  # inherited by the servers
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    store = f"ducklake:postgres:{dsn}"
    run_import(ROOT / "data" / "sample", store)
    return store


def participants(store: str) -> str:
    con = connect_readonly(store)
    try:
        return fmt.number(compute_indicators(con, Period.year(YEAR))["participants"])
    finally:
        con.close()


def test_two_servers_behind_nginx_sticky_websocket_and_failover(nginx, lake, browser, browser_context_args):
    expected = participants(lake)
    with contextlib.ExitStack() as stack_a, contextlib.ExitStack() as stack_b:
        servers = {url.removeprefix("http://"): stack
                   for url, stack in ((stack_a.enter_context(serve(lake, "streamlit-proxy-a")), stack_a),
                                      (stack_b.enter_context(serve(lake, "streamlit-proxy-b")), stack_b))}
        with proxy(list(servers)) as (url, log):
            context = browser.new_context(**browser_context_args)
            try:
                d = Dash(context.new_page(), url)
                d.page.goto(f"{url}/?annee={YEAR}")
                d.wait_ready(timeout_ms=180_000)  # through the proxy: the websocket carries the whole page
                assert d.problems() == []
                assert d.metric("Participants") == expected
                first = upstreams_used(log)
                used = {up for _, _, up in first}
                assert len(used) == 1 and used <= set(servers), f"one browser, one server: {first}"
                # a filter change is a message on the same websocket: still the same server
                d.page.goto(f"{url}/?annee={YEAR}&commune=Doullens")
                d.wait_ready(timeout_ms=180_000)
                both = upstreams_used(log)
                assert {up for _, _, up in both} == used
                # nginx logs a websocket when it closes: the first page's closed when the browser left it
                assert any("/_stcore/stream" in req and status == "101" for req, status, _ in both), \
                    f"the websocket went through the proxy: {both}"

                # the server of this browser stops: the next visit goes to the other one, same figures
                (serving,) = used
                seen = len(log.read_text(encoding="utf-8").splitlines())
                servers[serving].close()
                d.page.goto(f"{url}/?annee={YEAR}")
                d.wait_ready(timeout_ms=180_000)
                assert d.problems() == []
                assert d.metric("Participants") == expected
                # (the old page's websocket, closed by the stop, is logged now with the stopped server: status 101)
                after = {up.split(", ")[-1] for _, status, up in upstreams_used(log, seen) if status == "200"}
                assert after == set(servers) - {serving}, upstreams_used(log, seen)
            finally:
                context.close()
