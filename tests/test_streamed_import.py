"""The import validates an extract in batches of rows and stages the typed rows on disk (bounded memory): whatever
the batch size, the validation report and the store are the same as when the whole file is one batch (which is
what the import did before it was streamed). Batches of a few rows put every cross-row rule (duplicate identifiers,
persons of appointments, whole-column rules, rejected lines, re-encoded files) across batch boundaries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

import analytics.extract as extract_module
from analytics.extract import ExtractError, load_extract
from analytics.importer import run_import
from analytics.synthetic import write_synthetic

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
SAMPLE = ROOT / "data" / "sample"
WHOLE = 10**9  # one batch per file


def report(path: Path, batch: int, monkeypatch) -> list[str]:
    monkeypatch.setattr(extract_module, "BATCH_ROWS", batch)
    with pytest.raises(ExtractError) as err:
        load_extract(path)
    return [str(p) for p in err.value.problems]


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every table of the store, rows sorted (the import time left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                                              [table]).fetchall() if c != "imported_at"]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
            if table == "typology_meta":  # the fit's duration is a measurement, not content
                rows = [r for r in rows if r[0] != "seconds"]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


@pytest.mark.parametrize("case", CASES)
def test_bad_corpus_same_report_in_batches_of_two_rows(case, monkeypatch):
    assert report(CORPUS / case, 2, monkeypatch) == report(CORPUS / case, WHOLE, monkeypatch)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("syn") / "ok"
    write_synthetic(600, out, seed=5)
    return out


def _broken(src: Path, dst: Path) -> Path:
    """Problems spread over the whole extract: a duplicate identifier 550 rows after the first, unreadable and
    out-of-range values, an impossible date, an e-mail in a cell, a rejected line, unknown persons."""
    shutil.copytree(src, dst)
    p = dst / "participants.csv"
    lines = p.read_text(encoding="utf-8-sig").splitlines()
    ix = {c: i for i, c in enumerate(lines[0].split(";"))}

    def edit(n, col, val):
        cells = lines[n].split(";")
        cells[ix[col]] = val
        lines[n] = ";".join(cells)

    edit(560, "id_participant", lines[3].split(";")[0])
    edit(10, "age", "trente")
    edit(500, "age", "120")
    edit(300, "date_entree", "31/02/2023")
    edit(420, "sexe", "Martien")
    edit(430, "commune", "jean.dupont@example.org")
    lines.insert(200, "x;" * (len(ix) + 3))  # too many cells: rejected by the reader, later lines shift
    p.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    r = dst / "rendez_vous.csv"
    rows = r.read_text(encoding="utf-8-sig").splitlines()
    rows[2000] = "CE-9999999" + rows[2000][len("CE-0000001"):]
    rows[5000] = "CE-9999998" + rows[5000][len("CE-0000001"):]
    r.write_text("\ufeff" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    return dst


def test_spread_problems_same_report_in_batches(synthetic, tmp_path, monkeypatch):
    bad = _broken(synthetic, tmp_path / "bad")
    whole = report(bad, WHOLE, monkeypatch)
    assert report(bad, 7, monkeypatch) == whole
    assert report(bad, 250, monkeypatch) == whole
    first_id = (synthetic / "participants.csv").read_text(encoding="utf-8-sig").splitlines()[3].split(";")[0]
    # file lines: the header is line 1; the rejected line is 201, so the rows edited after it are one line further
    expected = [
        f"participants.csv, ligne 4, colonne « id_participant » : identifiant en double dans le fichier (valeur « {first_id} »)",
        f"participants.csv, ligne 562, colonne « id_participant » : identifiant en double dans le fichier (valeur « {first_id} »)",
        "participants.csv, ligne 11, colonne « age » : nombre entier attendu (valeur « trente »)",
        "participants.csv, ligne 502, colonne « age » : âge hors de la plage 16–99 ans (valeur « 120 »)",
        "participants.csv, ligne 201 : ligne avec trop de colonnes",
        "participants.csv, ligne 302, colonne « date_entree » : date inexistante",
        "participants.csv, ligne 422, colonne « sexe » : valeur inconnue",
        "participants.csv, ligne 432, colonne « commune » : la cellule ressemble à une donnée identifiante (adresse e-mail)",
        "rendez_vous.csv, ligne 2001, colonne « id_participant » : personne inconnue",
        "rendez_vous.csv, ligne 5001, colonne « id_participant » : personne inconnue",
    ]
    for fragment in expected:
        assert any(line.startswith(fragment) for line in whole), fragment


def test_reencoded_file_same_report_in_batches(synthetic, tmp_path, monkeypatch):
    """A cp1252 file is read again from a UTF-8 copy: the batches of the first reading are discarded."""
    bad = _broken(synthetic, tmp_path / "bad")
    p = bad / "participants.csv"
    p.write_bytes(p.read_text(encoding="utf-8-sig").encode("cp1252"))
    whole = report(bad, WHOLE, monkeypatch)
    assert report(bad, 9, monkeypatch) == whole
    assert any("ligne 302, colonne « date_entree »" in line for line in whole)


def _import(src: Path, db: Path, batch: int, monkeypatch, base: Path | None = None):
    monkeypatch.setattr(extract_module, "BATCH_ROWS", batch)
    if base is not None:
        shutil.copyfile(base, db)
    result = run_import(src, db)
    return result, dump(db)


def test_same_store_in_batches_sample_then_snapshot_with_updates(synthetic, tmp_path, monkeypatch):
    """The reference sample, then a snapshot that updates persons already stored and adds new ones: same store
    (every table, the read tables and person keys included) and same import summary, whatever the batch size."""
    update = tmp_path / "update"
    shutil.copytree(synthetic, update)
    people = pl.read_csv(update / "participants.csv", separator=";", infer_schema_length=0, encoding="utf-8")
    changed = people.with_columns(pl.when(pl.int_range(pl.len()) % 3 == 0).then((pl.col("age").cast(pl.Int64) + 1).cast(pl.String))
                                  .otherwise(pl.col("age")).alias("age"))
    changed.write_csv(update / "participants.csv", separator=";", include_bom=True)
    stores = {}
    for batch in (WHOLE, 5, 64):
        first, after_sample = _import(SAMPLE, tmp_path / f"a{batch}.duckdb", batch, monkeypatch)
        _import(synthetic, tmp_path / f"b{batch}.duckdb", batch, monkeypatch, base=tmp_path / f"a{batch}.duckdb")
        second, after_update = _import(update, tmp_path / f"c{batch}.duckdb", batch, monkeypatch, base=tmp_path / f"b{batch}.duckdb")
        stores[batch] = (first.summary(), after_sample, second.summary(), after_update)
    assert stores[5] == stores[WHOLE] and stores[64] == stores[WHOLE]
    summary = stores[WHOLE][2]
    assert "0 nouvelles personnes, 200 mises à jour, 400 inchangées" in summary
    assert len(stores[WHOLE][3]["participants"]) == len(stores[WHOLE][1]["participants"]) + 600


def test_messy_and_bad_extract_suites_pass_in_batches_of_two_rows():
    """The messy-extract and bad-corpus suites (their expected problems, lines and values) with two-row batches."""
    env = {**os.environ, "COACHING_IMPORT_BATCH_ROWS": "2"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "tests/test_extract_messy.py", "tests/test_bad_extracts.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
