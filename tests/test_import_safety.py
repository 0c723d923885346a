"""Imports are all-or-nothing even when killed, readers keep answering during an import,
snapshots update persons, and random corruptions of a valid extract never crash or write."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.extract import ExtractError, load_extract
from analytics.importer import run_import
from analytics.indicators import Filters, Period, compute_indicators
from analytics.sample import synthetic_extract, write_extract
from analytics.indicators.base import immersions_before_exit_counts
from analytics.store import CODED_COLUMNS, READ_COLUMNS, connect_readonly, import_extract, query

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
DATA_TABLES = ("participants", "rendez_vous", "immersions", "imports")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_counts(db: Path) -> dict[str, int]:
    con = connect_readonly(db)
    try:
        return {t: query(con, f"SELECT count(*) AS n FROM {t}")["n"][0] for t in DATA_TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def big_extract(tmp_path_factory) -> Path:
    """A synthetic extract large enough for an import to take a few seconds."""
    out = tmp_path_factory.mktemp("big") / "extract"
    write_extract(synthetic_extract(60_000, seed=11), out)
    return out


def _start_import(extract: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analytics.cli", "import", str(extract), "--db", str(db)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.xdist_group("heavy")
def test_sigkill_mid_import_leaves_the_store_exactly_as_before(big_extract, tmp_path):
    db = tmp_path / "store.duckdb"
    run_import(SAMPLE, db)
    before, counts = sha(db), table_counts(db)
    tmp_glob = f"{db.name}.tmp-*"
    # kill during validation, as soon as the copy exists, and while the transaction runs
    for phase in ("reading", "copy", "writing"):
        proc = _start_import(big_extract, db)
        deadline = time.monotonic() + 60
        if phase == "reading":
            time.sleep(0.4)  # validation of 60 000 persons lasts about a second
        else:
            while not list(db.parent.glob(tmp_glob)) and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(0.0 if phase == "copy" else random.uniform(0.05, 0.25))  # the transaction lasts ~0.8 s
        assert proc.poll() is None, f"import finished before the kill ({phase}): {proc.stderr.read().decode()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert sha(db) == before, f"store changed by an import killed while {phase}"
        assert table_counts(db) == counts
    # the next import cleans the stale copies and succeeds
    assert run_import(big_extract, db).status == "importé"
    assert not list(db.parent.glob(tmp_glob))
    assert table_counts(db)["participants"] == counts["participants"] + 60_000


@pytest.mark.xdist_group("heavy")
def test_readers_keep_answering_during_an_import_and_then_see_the_new_data(big_extract, tmp_path):
    db = tmp_path / "store.duckdb"
    run_import(SAMPLE, db)
    old = table_counts(db)["participants"]
    seen, errors, stop = set(), [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                con = connect_readonly(db)
                seen.add(con.execute("SELECT count(*) FROM participants").fetchall()[0][0])
                compute_indicators(con, Period.year(2023))
                con.close()
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the bug
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    # an already-open connection keeps answering from the old file throughout
    held = connect_readonly(db)
    proc = _start_import(big_extract, db)
    reads_during = 0
    while proc.poll() is None:
        assert query(held, "SELECT count(*) AS n FROM participants")["n"][0] == old
        reads_during += 1
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert not errors, errors[:3]
    assert reads_during > 5
    assert old in seen
    assert table_counts(db)["participants"] == old + 60_000
    held.close()


def test_snapshot_update_reports_changes_and_same_file_twice_is_a_no_op(tmp_path):
    first, second = tmp_path / "m1", tmp_path / "m2"
    shutil.copytree(SAMPLE, first)
    shutil.copytree(SAMPLE, second)
    # next month: one active person leaves for a job, one new person enters
    lines = (second / "participants.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    idx = {name: i for i, name in enumerate(header)}
    active = next(i for i, line in enumerate(lines[1:], 1)
                  if line.split(";")[idx["date_entree"]] and not line.split(";")[idx["date_sortie"]])
    cells = lines[active].split(";")
    # leaves on the data date of the sample (after every entry it holds)
    cells[idx["date_sortie"]], cells[idx["motif_sortie"]], cells[idx["detail_sortie"]] = "30/10/2026", "Emploi", "CDI"
    lines[active] = ";".join(cells)
    new = lines[-1].split(";")
    new[idx["id_participant"]] = "CE-9999"
    new[idx["date_prescription"]], new[idx["date_premier_rdv"]], new[idx["date_entree"]] = "08/01/2024", "10/01/2024", "10/01/2024"
    new[idx["motif_non_entree"]] = ""
    for col in ("date_sortie", "motif_sortie", "detail_sortie", "date_suivi_post_sortie", "situation_post_sortie", "situation_6_mois", "qualification_obtenue"):
        new[idx[col]] = ""
    lines.append(";".join(new))
    (second / "participants.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    rows = [line.split(";") for line in lines[1:-1]]  # the sample as it is (without CE-9999)
    n = len(rows)
    entered, left = sum(1 for r in rows if r[idx["date_entree"]]), sum(1 for r in rows if r[idx["date_sortie"]])
    db = tmp_path / "store.duckdb"
    r1 = run_import(first, db)
    assert r1.n_new == n
    digest = sha(db)
    assert run_import(first, db).status == "inchangé"
    assert sha(db) == digest
    r2 = run_import(second, db)
    assert (r2.n_new, r2.n_updated, r2.new_entries, r2.new_exits) == (1, 1, 1, 1)
    assert r2.n_unchanged == n - 1
    assert table_counts(db)["participants"] == n + 1
    hist = query(connect_readonly(db), "SELECT n_new, n_updated, new_entries, new_exits FROM imports ORDER BY import_id")
    assert hist.rows() == [(n, 0, entered, left - 1), (1, 1, 1, 1)]


# ---------------------------------------------------------------- fuzzing

_VALID = (SAMPLE / "participants.csv").read_bytes().splitlines(keepends=True)[:12]
_RDV = (SAMPLE / "rendez_vous.csv").read_bytes().splitlines(keepends=True)[:20]


def _mutate(data: bytes, rnd: random.Random, n: int) -> bytes:
    buf = bytearray(data)
    for _ in range(n):
        op = rnd.randrange(6)
        pos = rnd.randrange(len(buf)) if buf else 0
        if op == 0 and buf:  # flip a byte
            buf[pos] = rnd.randrange(256)
        elif op == 1 and buf:  # delete a run
            del buf[pos:pos + rnd.randrange(1, 12)]
        elif op == 2:  # insert separators, quotes, newlines
            buf[pos:pos] = rnd.choice([b";", b",", b'"', b"\n", b"\r\n", b";;", b"\x00", b"\xe9", b"31/02/2023"])
        elif op == 3 and buf:  # duplicate a run
            buf[pos:pos] = buf[pos:pos + rnd.randrange(1, 40)]
        elif op == 4:  # swap two lines
            lines = bytes(buf).split(b"\n")
            if len(lines) > 2:
                i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                buf = bytearray(b"\n".join(lines))
        else:  # truncate
            del buf[pos:]
    return bytes(buf)


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("fuzz") / "store.duckdb"
    run_import(SAMPLE, db)
    return db


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), target=st.sampled_from(["participants", "rendez_vous"]))
def test_malformed_extracts_never_crash_and_never_change_the_store(fuzz_db, tmp_path_factory, seed, n, target):
    rnd = random.Random(seed)
    folder = tmp_path_factory.mktemp("case")
    parts, rdv = b"".join(_VALID), b"".join(_RDV)
    if target == "participants":
        parts = _mutate(parts, rnd, n)
    else:
        rdv = _mutate(rdv, rnd, n)
    (folder / "participants.csv").write_bytes(parts)
    (folder / "rendez_vous.csv").write_bytes(rdv)
    before = sha(fuzz_db)
    try:
        extract = load_extract(folder)
    except ExtractError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        assert sha(fuzz_db) == before
        return
    # a mutation may leave the extract valid: importing it must then succeed as a whole
    db = folder / "copy.duckdb"
    shutil.copyfile(fuzz_db, db)
    import_extract(extract, db)
    assert table_counts(db)["participants"] >= 184


def test_appointments_and_immersions_take_their_persons_action_and_territory(tmp_path):
    """An extract holding several actions and territories: every appointment and immersion is stored under its
    own person (appointments by its key, immersions also with its action and territory), none is lost or
    duplicated."""
    frames = synthetic_extract(400, seed=7)
    people = frames["participants"]
    assert people.select("action", "territoire").n_unique() > 1  # the case under test
    write_extract(frames, tmp_path / "x")
    db = tmp_path / "s.duckdb"
    run_import(tmp_path / "x", db)
    con = connect_readonly(db)
    stored = query(con, """SELECT p.id_participant, p.action, p.territoire, r.date, r.modalite, r.presence
                           FROM rendez_vous r JOIN participants p USING (person_key)""")
    expected = frames["rendez_vous"].join(people.select("id_participant", "action", "territoire"), on="id_participant")
    assert stored.height == frames["rendez_vous"].height
    assert stored.sort(stored.columns).equals(expected.select(stored.columns).sort(stored.columns))
    imm = query(con, "SELECT i.id_participant, i.action, i.territoire, p.id_participant AS of_key FROM immersions i "
                     "JOIN participants p USING (person_key)")
    assert imm.height == frames["immersions"].height and (imm["id_participant"] == imm["of_key"]).all()
    by_id = dict(zip(people["id_participant"], zip(people["action"], people["territoire"])))
    assert all(by_id[i] == (a, t) for i, a, t, _ in imm.iter_rows())


def _decoded(table: str, alias: str, columns: list[str]) -> str:
    """SELECT items giving back the values of the coded `columns` of a read table."""
    return ", ".join(f"(SELECT value FROM value_codes WHERE column_name = '{c}' AND code = {alias}.{c}) AS {c}" for c in columns)


def test_read_tables_match_the_stored_tables_and_give_the_same_figures_as_the_tables_themselves(tmp_path):
    """The read tables rebuilt at each import (re-imports included) hold exactly the stored data: `participants_coded`
    decodes to `participants` and counts each exit's immersions as `immersions_before_exit_counts` does,
    `rendez_vous_by_filters` counts `rendez_vous` per day, modality, presence and filter columns, `rendez_vous_daily`
    per day, modality and presence; and a store without
    them (written before they existed) gives the same figures, with and without filters."""
    frames = synthetic_extract(300, seed=3)
    write_extract(frames, tmp_path / "x")
    db = tmp_path / "s.duckdb"
    run_import(tmp_path / "x", db)
    people = frames["participants"].with_columns(  # a re-import moving some persons to another commune
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.lit("Ham")).otherwise(pl.col("commune")).alias("commune"),
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.lit(None)).otherwise(pl.col("code_insee")).alias("code_insee"))
    changed = {**frames, "participants": people, "rendez_vous": frames["rendez_vous"].head(frames["rendez_vous"].height // 2)}
    write_extract(changed, tmp_path / "y")
    run_import(tmp_path / "y", db)  # a snapshot re-import replaces the appointments of the persons it holds
    con = connect_readonly(db)
    filters = ["commune", "prescripteur", "territoire", "action", "epci"]
    diff = query(con, f"""SELECT count(*) AS n FROM (
        (SELECT r.date, r.modalite, r.presence, {', '.join('p.' + c for c in filters)}, count(*)::BIGINT AS n
         FROM rendez_vous r JOIN participants p USING (person_key) GROUP BY ALL)
        EXCEPT ALL (SELECT d.date, d.modalite, d.presence, {_decoded('rendez_vous_by_filters', 'd', filters)}, d.n
                    FROM rendez_vous_by_filters d))""")
    assert diff["n"][0] == 0
    diff = query(con, """SELECT count(*) AS n FROM (
        (SELECT date, modalite, presence, count(*)::BIGINT AS n FROM rendez_vous GROUP BY ALL)
        EXCEPT ALL (SELECT date, modalite, presence, n FROM rendez_vous_daily))""")
    assert diff["n"][0] == 0
    assert query(con, "SELECT sum(n)::BIGINT AS n FROM rendez_vous_daily")["n"][0] == changed["rendez_vous"].height
    plain = [c for c in READ_COLUMNS if c not in CODED_COLUMNS]
    diff = query(con, f"""SELECT count(*) AS n FROM (
        (SELECT person_key AS pid, {', '.join(READ_COLUMNS)}, action, territoire FROM participants)
        EXCEPT ALL (SELECT pid, {', '.join(READ_COLUMNS)}, action, territoire FROM (
            SELECT k.pid, {', '.join('k.' + c for c in plain)}, {_decoded('participants_coded', 'k', CODED_COLUMNS)}
            FROM participants_coded k)))""")
    assert diff["n"][0] == 0 and query(con, "SELECT count(*) AS n FROM participants_coded")["n"][0] == 300
    # each person once (the store has no index on the key: the import keeps it unique)
    assert query(con, "SELECT count(DISTINCT (action, territoire, id_participant)) AS n FROM participants")["n"][0] == 300
    stored = query(con, "SELECT p.id_participant, k.immersions_before_exit FROM participants_coded k "
                        "JOIN participants p ON p.person_key = k.pid ORDER BY 1")
    keyed_immersions = changed["immersions"].join(people.select("id_participant", "action", "territoire"), on="id_participant")
    computed = immersions_before_exit_counts(people.sort("id_participant"), keyed_immersions)
    assert stored["immersions_before_exit"].to_list() == computed.to_list() and computed.sum() > 0
    commune = people["commune"].mode()[0]
    prescriber = people["prescripteur"].mode()[0]
    selections = [Filters(), Filters(commune=(commune, "Ham")), Filters(prescriber=(prescriber,)), Filters(commune=("Nulle part",))]
    years = query(con, "SELECT DISTINCT year(date) AS y FROM rendez_vous ORDER BY y")["y"].to_list()
    periods = [Period.year(y) for y in years] + [Period(date(y, 3, 15), date(y, 8, 20)) for y in years]
    with_read_tables = {(p, f): compute_indicators(con, p, f) for p in periods for f in selections}
    assert sum(with_read_tables[(Period.year(y), Filters())]["appointments"]["planned"] for y in years) == changed["rendez_vous"].height
    assert any(v["exits_with_immersion"] for v in with_read_tables.values())
    old = tmp_path / "old.duckdb"
    shutil.copyfile(db, old)
    w = duckdb.connect(str(old))
    for table in ("rendez_vous_daily", "rendez_vous_by_filters", "participants_coded", "value_codes"):
        w.execute(f"DROP TABLE {table}")
    w.close()
    old_con = connect_readonly(old)
    assert {(p, f): compute_indicators(old_con, p, f) for p in periods for f in selections} == with_read_tables


def _appointments_by_person(con) -> pl.DataFrame:
    return query(con, """SELECT p.id_participant, r.date, r.modalite, r.presence FROM rendez_vous r
                         JOIN participants p USING (person_key) ORDER BY ALL""")


def _make_old_layout(db: Path, old: Path) -> None:
    """`old`: the store `db` as a version before person_key wrote it (appointments with the three key columns)."""
    shutil.copyfile(db, old)
    w = duckdb.connect(str(old))
    w.execute("""CREATE TABLE rv_old AS SELECT p.action, p.territoire, p.id_participant, r.date, r.modalite, r.presence
                 FROM rendez_vous r JOIN participants p USING (person_key)""")
    w.execute("DROP TABLE rendez_vous")
    w.execute("ALTER TABLE rv_old RENAME TO rendez_vous")
    for table in ("participants", "immersions"):
        w.execute(f"ALTER TABLE {table} DROP COLUMN person_key")
    w.execute("DROP TABLE rendez_vous_daily")
    w.close()


def test_person_keys_are_kept_across_imports_and_given_to_old_stores(tmp_path):
    """Every person has one integer `person_key`, shared by its appointments and immersions; a re-import keeps the
    keys of the persons already stored and numbers the new ones after them; a store written before the keys
    existed gives the same figures read as it is, and gets keys (and key-only appointments) at its next import."""
    frames = synthetic_extract(300, seed=5)
    first = {**frames, "participants": frames["participants"].head(200)}
    first = {**first, **{t: frames[t].filter(pl.col("id_participant").is_in(first["participants"]["id_participant"].implode()))
                         for t in ("rendez_vous", "immersions")}}
    write_extract(first, tmp_path / "a")
    write_extract(frames, tmp_path / "b")
    db = tmp_path / "s.duckdb"
    run_import(tmp_path / "a", db)
    before = query(connect_readonly(db), "SELECT id_participant, person_key FROM participants")
    run_import(tmp_path / "b", db)
    con = connect_readonly(db)
    after = query(con, "SELECT id_participant, person_key FROM participants")
    assert after["person_key"].n_unique() == after.height == 300 and after["person_key"].null_count() == 0
    kept = before.join(after, on="id_participant", suffix="_after")
    assert kept.height == 200 and (kept["person_key"] == kept["person_key_after"]).all()
    assert after.join(before, on="id_participant", how="anti")["person_key"].min() > before["person_key"].max()
    appointments = _appointments_by_person(con)
    assert appointments.equals(frames["rendez_vous"].select(appointments.columns).sort(appointments.columns))
    wrong = query(con, """SELECT count(*) AS n FROM immersions i JOIN participants p USING (action, territoire, id_participant)
                          WHERE i.person_key IS DISTINCT FROM p.person_key""")["n"][0]
    assert wrong == 0
    years = query(con, "SELECT DISTINCT year(date_prescription) AS y FROM participants ORDER BY y")["y"].to_list()
    commune = query(con, "SELECT commune FROM participants GROUP BY commune ORDER BY count(*) DESC LIMIT 1")["commune"][0]
    cases = [(y, f) for y in years for f in ((), (commune,))]
    expected = {(y, f): compute_indicators(con, Period.year(y), Filters(commune=f)) for y, f in cases}
    old = tmp_path / "old.duckdb"
    _make_old_layout(db, old)
    old_con = connect_readonly(old)
    assert {(y, f): compute_indicators(old_con, Period.year(y), Filters(commune=f)) for y, f in cases} == expected
    # an import upgrades the layout (keys given, appointments by key); this one carries no appointment, so those
    # read below are the migrated ones
    write_extract({"participants": frames["participants"].with_columns(pl.col("age") + 1)}, tmp_path / "c")
    run_import(tmp_path / "c", old)
    con = connect_readonly(old)
    assert query(con, "SELECT count(*) AS n FROM participants WHERE person_key IS NULL")["n"][0] == 0
    assert "id_participant" not in query(con, "SELECT * FROM rendez_vous LIMIT 0").columns
    assert _appointments_by_person(con).equals(appointments)
