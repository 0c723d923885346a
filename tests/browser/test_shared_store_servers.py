"""Two dashboard servers (two `streamlit run` processes on two ports) on one shared store — a DuckLake whose
catalog is a real PostgreSQL server — while a third process imports: both keep answering, without an error, and
both show the new figures afterwards (SPEC-indicators "Store location")."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest

from analytics import fmt
from analytics.importer import run_import
from coaching_test_helpers import person, write_extract
from tests.browser.conftest import ROOT, Dash, serve
from tests.pgserver import postgres  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
NEW = 30  # persons of the second import, all entered in 2023


@pytest.fixture
def lake(postgres, tmp_path, monkeypatch):  # noqa: F811
    dsn = postgres.create_database(f"browserlake_{os.getpid()}")
    data = tmp_path / "lake-data"
    data.mkdir()
    monkeypatch.setenv("COACHING_DATA_PATH", str(data))  # inherited by the servers and the importer
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    return f"ducklake:postgres:{dsn}"


def visit(d: Dash, **query) -> None:
    """Open the overview; generous wait: two servers, an importer and Chromium share the machine's cores."""
    d.page.goto(f"{d.base_url}/?" + urlencode(query, doseq=True))
    d.wait_ready(timeout_ms=180_000)


def test_two_servers_keep_answering_during_an_import_and_then_show_it(lake, browser, browser_context_args, tmp_path):
    run_import(ROOT / "data" / "sample", lake)
    extract = write_extract(tmp_path / "more", [person(f"S{i}", entree="2023-04-03", presc="2023-04-01") for i in range(NEW)], [], [])
    with serve(lake, "streamlit-lake-a") as url_a, serve(lake, "streamlit-lake-b") as url_b:
        context = browser.new_context(**browser_context_args)
        try:
            dashes = [Dash(context.new_page(), url) for url in (url_a, url_b)]
            for d in dashes:  # a first visit loads the DuckDB extensions and attaches the lake
                visit(d, annee="2023")
            before = dashes[0].metric("Participants")
            assert dashes[1].metric("Participants") == before
            old = int(before.replace("\u202f", "").replace("\u00a0", "").replace(" ", ""))
            importer = subprocess.Popen([sys.executable, "-m", "analytics.cli", "import", str(extract), "--db", lake],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            seen_during = []
            try:
                while importer.poll() is None:  # both servers, alternately, while the import runs
                    for d in dashes:
                        visit(d, annee="2023", commune=["Doullens"] if len(seen_during) % 2 else [])
                        assert d.problems() == []
                        seen_during.append(d.metric("Participants"))
            finally:
                importer.wait(timeout=300)
            assert importer.returncode == 0, importer.stderr.read().decode()
            assert len(seen_during) >= 2, "the import ended before the servers were read during it"
            for d in dashes:
                visit(d, annee="2023")
                assert d.problems() == []
                assert d.metric("Participants") == fmt.number(old + NEW)
                assert "import n° 2 du " in d.page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").first.inner_text()
        finally:
            context.close()
