"""The two stores and the store history (SPEC-indicators "Store location", "Store history").

The shared store is a DuckLake whose catalog is a real PostgreSQL server started by the tests
(`tests/pgserver.py`, skipped without the binaries except under CI=true) and whose data files live in a
temporary folder; the embedded store is a DuckDB file. Both must give the same figures, and `--as-of N` must
give exactly what a call right after import N gave.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics.cli import main
from analytics.indicators import Filters, Period, compute_indicators
from analytics.importer import run_import
from analytics.store import connect_readonly, db_path, query, store_version
from coaching_test_helpers import person, write_extract
from tests.pgserver import postgres  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared" / "reference" / "bilan-2023.json"
REFERENCE = SHARED if SHARED.exists() else Path(__file__).parent / "reference" / "bilan-2023.json"
EXPECTED = json.loads(REFERENCE.read_text(encoding="utf-8"))
_names = itertools.count(1)


@pytest.fixture
def lake(postgres, tmp_path, monkeypatch):  # noqa: F811
    """A new, empty shared store: its own catalog database and data folder."""
    dsn = postgres.create_database(f"lake{next(_names)}_{os.getpid()}")
    data = tmp_path / "lake-data"
    data.mkdir()
    monkeypatch.setenv("COACHING_DATA_PATH", str(data))
    return f"ducklake:postgres:{dsn}"


@pytest.fixture(params=["file", "lake"])
def store(request, tmp_path):
    """Each test on both stores."""
    if request.param == "file":
        return str(tmp_path / "store.duckdb")
    return request.getfixturevalue("lake")


def cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def cli_json(*args):
    code, text = cli(*args)
    assert code == 0, text
    return json.loads(text)


def test_golden_2023_figures_on_the_shared_store(lake):
    assert cli("import", SAMPLE, "--db", lake)[0] == 0
    got = cli_json("indicators", "--db", lake, "--year", "2023", "--json")
    for key, expected in EXPECTED.items():
        if key.startswith("_"):
            continue
        if isinstance(expected, float):
            assert got[key] == pytest.approx(expected, abs=1e-4), key
        else:
            assert got[key] == expected, key


def test_same_figures_on_both_stores_for_any_selection(lake, tmp_path):
    file_db = tmp_path / "store.duckdb"
    run_import(SAMPLE, file_db)
    run_import(SAMPLE, lake)
    a, b = connect_readonly(file_db), connect_readonly(lake)
    try:
        communes = query(a, "SELECT DISTINCT commune FROM participants WHERE commune IS NOT NULL ORDER BY 1")["commune"].to_list()
        for period, filters in [(Period.year(2022), Filters()), (Period.year(2023), Filters(commune=(communes[0],))),
                                (Period.year(2024), Filters(prescriber=("Conseil départemental",)))]:
            assert compute_indicators(a, period, filters) == compute_indicators(b, period, filters)
    finally:
        a.close()
        b.close()


def _extract(folder: Path, people: list[dict], rdv: list[dict] | None = None) -> Path:
    return write_extract(folder, people, rdv if rdv is not None else [], [])


def test_hand_computed_case_and_as_of_after_reimports_that_change_persons(store, tmp_path):
    """Three imports; the second changes P2 (enters) and adds P3, the third makes P1 leave to a job.
    Figures for 2023, by hand:
      after 1: P1 entered (positioned 2, participants 1, exits 0)
      after 2: P1, P2 entered, P3 not (positioned 3, participants 2, exits 0)
      after 3: P1 leaves in 2023 to « Emploi » (CDI) (exits 1)."""
    e1 = _extract(tmp_path / "e1", [person("P1", entree="2023-01-10", presc="2023-01-02"),
                                    person("P2", presc="2023-02-01")],
                  [{"id_participant": "P1", "date": "2023-01-10", "modalite": "Physique", "presence": "Présent"}])
    e2 = _extract(tmp_path / "e2", [person("P2", entree="2023-03-01", presc="2023-02-01"),
                                    person("P3", presc="2023-04-01")])
    e3 = _extract(tmp_path / "e3", [person("P1", entree="2023-01-10", presc="2023-01-02", sortie="2023-06-30",
                                           motif="Emploi", detail="CDI")])
    year = ("--year", "2023")
    after = []
    for n, extract in enumerate((e1, e2, e3), start=1):
        code, text = cli("import", extract, "--db", store)
        assert code == 0 and f"import réussi (import n° {n})" in text, text
        after.append(cli_json("indicators", "--db", store, *year, "--json"))
    assert [(f["positioned"], f["participants"]) for f in after] == [(2, 1), (3, 2), (3, 2)]
    assert sum(after[2]["exit_reason"].values()) == 1 and sum(after[1]["exit_reason"].values()) == 0
    # re-importing an old file changes nothing and gets no number
    code, text = cli("import", e1, "--db", store)
    assert code == 0 and "déjà importé" in text
    for n in (1, 2, 3):
        assert cli_json("indicators", "--db", store, *year, "--as-of", n, "--json") == after[n - 1]
    history = cli_json("history", "--db", store, "--json")
    assert [h["import"] for h in history] == [1, 2, 3]
    assert [(h["participants"], h["new"], h["updated"]) for h in history] == [(2, 2, 0), (2, 1, 1), (1, 0, 1)]
    assert all(h["file_name"] for h in history)
    # an unknown import: one French line, exit 1
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["indicators", "--db", store, *year, "--as-of", "9", "--json"]) == 1
    assert "import n° 9 inconnu" in err.getvalue()
    # every report states the import it was computed on
    out = tmp_path / "suivi.csv"
    assert cli("report", "--db", store, *year, "--as-of", "2", "--out", out)[0] == 0
    last = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))[-1]
    assert last[0].startswith("Données au ") and "· calculé sur l'import n° 2 du " in last[0]
    xlsx = tmp_path / "bilan.xlsx"
    assert cli("report", "--db", store, *year, "--out", xlsx)[0] == 0
    from openpyxl import load_workbook

    cells = [c.value for row in load_workbook(xlsx).worksheets[0].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("calculé sur l'import n° 3 du " in c for c in cells)


def test_as_of_names_a_stable_state_even_when_the_latest_moves(store, tmp_path):
    """A connection opened `as_of` an import keeps its figures; the version of the store moves with each import."""
    run_import(SAMPLE, store)
    v1 = store_version(store)
    first = cli_json("indicators", "--db", store, "--year", "2023", "--json")
    e2 = _extract(tmp_path / "e2", [person("X1", entree="2023-05-02", presc="2023-05-01")])
    run_import(e2, store)
    assert store_version(store) != v1
    now = cli_json("indicators", "--db", store, "--year", "2023", "--json")
    assert now["participants"] == first["participants"] + 1
    assert cli_json("indicators", "--db", store, "--year", "2023", "--as-of", "1", "--json") == first


def test_two_importers_never_interleave(lake, tmp_path, capsys):
    """While one importer holds the catalog's advisory lock, another waits (and says so, in French), then gets the
    next number."""
    lk = db_path(lake)
    e1 = _extract(tmp_path / "e1", [person("A1", entree="2023-01-10")])
    e2 = _extract(tmp_path / "e2", [person("A2", entree="2023-02-10")])
    results = []
    with lk.writer_lock():
        t = threading.Thread(target=lambda: results.append(run_import(e1, lake)))
        t.start()
        said, deadline = "", time.monotonic() + 300
        while "Un autre import est en cours sur la base partagée : attente de sa fin…" not in said:
            assert time.monotonic() < deadline and t.is_alive(), f"the second importer did not wait: {said!r} {results}"
            said += capsys.readouterr().err
            time.sleep(0.1)
        time.sleep(1)
        assert not results, "an import ran while another importer held the lock"
    t.join(300)
    results.append(run_import(e2, lake))
    assert [r.import_id for r in results] == [1, 2]


KILL_SCRIPT = """
import sys, time
from pathlib import Path
import analytics.store as store
original = store.build_read_tables
def slow(con):
    original(con)
    Path(sys.argv[3]).write_text("ready")  # the whole transaction is written, not committed
    time.sleep(120)
store.build_read_tables = slow
from analytics.importer import run_import
run_import(sys.argv[1], sys.argv[2])
"""


def _figures_and_history(lake):
    return (cli_json("indicators", "--db", lake, "--year", "2023", "--json"), cli_json("history", "--db", lake, "--json"),
            store_version(lake))


def test_a_killed_import_leaves_the_lake_as_it_was(lake, tmp_path):
    run_import(SAMPLE, lake)
    before = _figures_and_history(lake)
    extract = _extract(tmp_path / "e2", [person(f"K{i}", entree="2023-03-01") for i in range(50)])
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(extract), lake, str(ready)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and ready.exists(), proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _figures_and_history(lake) == before
    # the lock died with the importer: the next import goes through and takes number 2
    result = run_import(extract, lake)
    assert result.import_id == 2
    assert cli_json("indicators", "--db", lake, "--year", "2023", "--json")["participants"] == before[0]["participants"] + 50


def test_readers_never_see_an_error_during_an_import_and_switch_atomically(lake, tmp_path):
    run_import(SAMPLE, lake)
    old = cli_json("indicators", "--db", lake, "--year", "2023", "--json")["participants"]
    extract = _extract(tmp_path / "e2", [person(f"R{i}", entree="2023-03-01") for i in range(200)])
    seen, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                con = connect_readonly(lake)
                try:
                    seen.append(compute_indicators(con, Period.year(2023))["participants"])
                finally:
                    con.close()
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the bug
                errors.append(repr(exc))

    t = threading.Thread(target=reader)
    t.start()
    try:
        run_import(extract, lake)
        # a read begun after the import has committed: wait for it (bounded; a loaded machine reads slowly)
        after, deadline = len(seen) + 1, time.monotonic() + 120
        while len(seen) <= after and not errors and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:3]
    assert set(seen) <= {old, old + 200} and old + 200 in seen
    # once the new figures are seen, never the old ones again
    assert old not in seen[seen.index(old + 200):]


def test_shared_store_errors_are_one_french_line(tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["indicators", "--db", "ducklake:postgres:host=127.0.0.1 port=1 dbname=x connect_timeout=2",
                     "--year", "2023", "--json"])
    assert code == 1
    assert err.getvalue().startswith("Erreur : ") and "Traceback" not in err.getvalue()
    with contextlib.redirect_stderr(err):
        assert main(["history", "--db", "ducklake:sqlite:x.db"]) == 2
    assert "non prise en charge" in err.getvalue()


@pytest.mark.parametrize("kind", ["file", "lake"])
def test_dashboard_states_its_import_and_opens_an_earlier_one_from_the_url(kind, tmp_path, monkeypatch, request):
    from streamlit.testing.v1 import AppTest

    from analytics import fmt

    db = str(tmp_path / "s.duckdb") if kind == "file" else request.getfixturevalue("lake")
    run_import(SAMPLE, db)
    run_import(_extract(tmp_path / "e2", [person(f"N{i}", entree="2023-05-02", presc="2023-05-01") for i in range(3)]), db)
    first = cli_json("indicators", "--db", db, "--year", "2023", "--as-of", "1", "--json")
    monkeypatch.setenv("COACHING_DB", db)
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))

    def page(**query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception
        return at

    latest = page(annee="2023")
    assert any("import n° 2 du " in c.value for c in latest.caption)
    assert {m.label: m.value for m in latest.metric}["Participants"] == fmt.number(first["participants"] + 3)
    assert not latest.warning or not any("Chiffres de l'import" in w.value for w in latest.warning)
    earlier = page(annee="2023", **{"import": "1"})
    assert any("import n° 1 du " in c.value for c in earlier.caption)
    assert {m.label: m.value for m in earlier.metric}["Participants"] == fmt.number(first["participants"])
    assert any("Chiffres de l'import n° 1" in w.value for w in earlier.warning)
    picker = earlier.selectbox(key="import")
    assert picker.value == "1" and picker.options == ["le plus récent", "1"]


def test_local_replicas_of_snapshots_give_the_lakes_figures(lake, tmp_path, monkeypatch):
    """$COACHING_LAKE_CACHE (opt-in): readers copy each snapshot once into a local DuckDB file and read it."""
    run_import(SAMPLE, lake)
    direct = cli_json("indicators", "--db", lake, "--year", "2023", "--commune", "Doullens", "--json")
    cache = tmp_path / "cache"
    monkeypatch.setenv("COACHING_LAKE_CACHE", str(cache))
    assert cli_json("indicators", "--db", lake, "--year", "2023", "--commune", "Doullens", "--json") == direct
    assert len(list(cache.glob("lake-*-snapshot-*.duckdb"))) == 1
    run_import(_extract(tmp_path / "e2", [person("Z1", entree="2023-05-02", presc="2023-05-01", commune="Doullens")]), lake)
    now = cli_json("indicators", "--db", lake, "--year", "2023", "--commune", "Doullens", "--json")
    assert now["participants"] == direct["participants"] + 1
    assert cli_json("indicators", "--db", lake, "--year", "2023", "--commune", "Doullens", "--as-of", "1", "--json") == direct
    monkeypatch.delenv("COACHING_LAKE_CACHE")
    assert cli_json("indicators", "--db", lake, "--year", "2023", "--commune", "Doullens", "--json") == now


def test_backup_and_restore_is_the_catalog_dump_plus_the_data_files(postgres, lake, tmp_path):  # noqa: F811
    """docs/deployment.md: `pg_dump -Fc` of the catalog + a copy of the data files, restored into a new catalog
    database (and the files put back after being lost), gives back the same figures and the same history."""
    import shutil

    run_import(SAMPLE, lake)
    run_import(_extract(tmp_path / "e2", [person("B1", entree="2023-05-02", presc="2023-05-01")]), lake)
    figures = {n: cli_json("indicators", "--db", lake, "--year", "2023", "--as-of", n, "--json") for n in (1, 2)}
    history = cli_json("history", "--db", lake, "--json")
    dsn = lake.split(":", 2)[2]
    dump = tmp_path / "catalog.dump"
    subprocess.run([str(postgres.bindir / "pg_dump"), "-Fc", "-d", dsn, "-f", str(dump)], check=True)
    data = Path(os.environ["COACHING_DATA_PATH"])
    saved = tmp_path / "files-backup"
    shutil.copytree(data, saved)
    shutil.rmtree(data)  # the data files are lost too
    restored = postgres.create_database(f"restored_{os.getpid()}")
    subprocess.run([str(postgres.bindir / "pg_restore"), "-d", restored, str(dump)], check=True)
    shutil.copytree(saved, data)
    again = f"ducklake:postgres:{restored}"
    assert cli_json("history", "--db", again, "--json") == history
    assert {n: cli_json("indicators", "--db", again, "--year", "2023", "--as-of", n, "--json") for n in (1, 2)} == figures


def test_dashboard_says_when_an_earlier_import_was_not_kept(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "s.duckdb"
    run_import(SAMPLE, db)
    run_import(_extract(tmp_path / "e2", [person("W1", entree="2023-05-02", presc="2023-05-01")]), db)
    (db.with_name(db.name + ".history") / "import-1.duckdb").unlink()  # e.g. removed to free disk
    monkeypatch.setenv("COACHING_DB", str(db))
    monkeypatch.setenv("COACHING_USERS", str(tmp_path / "no-users.json"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["import"] = "1"
    at.run()
    assert not at.exception
    assert any("Impossible d'afficher l'import n° 1" in w.value and "n'a pas été conservé" in w.value for w in at.warning)
    assert any("import n° 2 du " in c.value for c in at.caption)
