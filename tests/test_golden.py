"""Golden test: the shipped sample, imported and queried for 2023 through the command line,
gives exactly the figures of the real 2023 report (shared/reference/bilan-2023.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "reference" / "bilan-2023.json"
# the contract's copy when the shared folder sits beside the clone (CI), else the committed copy
REFERENCE = SHARED if SHARED.exists() else Path(__file__).parent / "reference" / "bilan-2023.json"
EXPECTED = json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def golden_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    assert main(["import", str(ROOT / "data" / "sample"), "--db", str(db)]) == 0
    return db


@pytest.fixture(scope="module")
def figures_2023(golden_db):
    return _cli_json(golden_db, "--year", "2023")


def _cli_json(db, *args):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["indicators", "--db", str(db), *args, "--json"]) == 0
    return json.loads(out.getvalue())


def test_committed_reference_copy_matches_the_contract():
    if SHARED.exists():
        assert json.loads(SHARED.read_text(encoding="utf-8")) == json.loads(
            (Path(__file__).parent / "reference" / "bilan-2023.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", [k for k in EXPECTED if not k.startswith("_")])
def test_sample_2023_equals_the_report(figures_2023, key):
    got = figures_2023
    expected = EXPECTED[key]
    if isinstance(expected, float):
        assert got[key] == pytest.approx(expected, abs=1e-4)
    else:
        assert got[key] == expected


def test_from_to_equals_year(golden_db, figures_2023):
    assert _cli_json(golden_db, "--from", "2023-01-01", "--to", "2023-12-31") == figures_2023


def test_report_tables_sum_to_their_population(figures_2023):
    got = figures_2023
    for key in ("status", "age_band", "sex", "education_level", "primary_barrier", "household", "commune"):
        assert sum(got[key].values()) == got["participants"] == 117
    assert sum(got["prescriber"].values()) == got["positioned"] == 134
    assert sum(got["exit_reason"].values()) == got["exits"] == 76
    assert got["active_at_end"] == got["participants"] - got["exits"]
    assert len(got["commune"]) == 11
