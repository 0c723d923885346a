"""The `coaching` command line (SPEC-indicators "Command line contract")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.cli import main
from analytics.indicators import FIGURES
from coaching_test_helpers import person as P
from coaching_test_helpers import sha256, write_extract

PEOPLE = [
    P("C1", "2023-02-01", commune="Poix-de-Picardie"),
    P("C2", "2023-03-01", "2023-09-01", "Emploi", "CDI", commune="Conty"),
    P("C3", "2022-05-01", "2022-12-01", "Abandon", commune="Conty"),  # not a participant of 2023
    P("C4", "2023-04-01", commune="Hornoy-le-Bourg", sexe="Homme"),
    P("C5", presc="2023-06-01", motif_non_entree="Non adhésion", commune="Poix-de-Picardie"),
]
RDV = [{"id_participant": "C1", "date": "2023-02-10", "modalite": "Physique", "presence": "Présent"}]


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    folder = write_extract(tmp / "extract", PEOPLE, RDV)
    path = tmp / "store.duckdb"
    assert main(["import", str(folder), "--db", str(path)]) == 0
    return path


def test_import_prints_a_summary(tmp_path, capsys):
    folder = write_extract(tmp_path / "extract", PEOPLE, RDV)
    code, out, err = run(capsys, "import", str(folder), "--db", str(tmp_path / "new.duckdb"))
    assert code == 0
    assert "5" in out and "Traceback" not in err
    assert (tmp_path / "new.duckdb").exists()
    # the same snapshot again changes nothing
    before = sha256(tmp_path / "new.duckdb")
    code, _, _ = run(capsys, "import", str(folder), "--db", str(tmp_path / "new.duckdb"))
    assert code == 0
    assert sha256(tmp_path / "new.duckdb") == before


def test_indicators_json(db, capsys):
    code, out, err = run(capsys, "indicators", "--db", str(db), "--year", "2023", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    assert data["filters"] == {"commune": [], "prescripteur": [], "territoire": [], "action": []}
    missing = set(FIGURES) - set(data)
    assert not missing
    # hand-computed: participants C1 C2 C4; positioned + C5; exit C2
    assert (data["participants"], data["positioned"], data["exits"], data["entries"]) == (3, 4, 1, 3)
    assert data["appointments"]["planned"] == 1


def test_indicators_from_to_and_repeated_commune(db, capsys):
    code, out, err = run(capsys, "indicators", "--db", str(db), "--from", "2023-01-01", "--to", "2023-03-31",
                         "--commune", "Poix-de-Picardie", "--commune", "Conty", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == {"from": "2023-01-01", "to": "2023-03-31"}
    assert data["filters"]["commune"] == ["Poix-de-Picardie", "Conty"]
    # Q1 2023 in Poix or Conty: C1 (entered 02-01), C2 (entered 03-01); C4 (Hornoy, 04-01) excluded; C5 prescribed in June
    assert data["participants"] == 2
    assert data["positioned"] == 2
    assert {k: v for k, v in data["commune"].items() if v} == {"Poix-de-Picardie": 1, "Conty": 1}


def test_other_filters_are_repeatable(db, capsys):
    code, out, _ = run(capsys, "indicators", "--db", str(db), "--year", "2023", "--prescriber", "Pôle emploi",
                       "--prescriber", "Autre", "--territory", "5 vallées", "--action", "Coaching emploi", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["filters"] == {"commune": [], "prescripteur": ["Pôle emploi", "Autre"], "territoire": ["5 vallées"],
                               "action": ["Coaching emploi"]}
    assert data["participants"] == 3


@pytest.mark.parametrize("args", [
    pytest.param(["indicators", "--db", "{db}", "--json"], id="no-period"),
    pytest.param(["indicators", "--db", "{db}", "--from", "2023-01-01", "--json"], id="from-without-to"),
    pytest.param(["indicators", "--db", "{db}", "--year", "abc", "--json"], id="year-abc"),
    pytest.param(["indicators", "--db", "{db}", "--from", "2023-05-01", "--to", "2023-01-01", "--json"], id="from-after-to"),
    pytest.param(["indicators", "--db", "{db}", "--year", "2023", "--from", "2023-01-01", "--to", "2023-02-01", "--json"],
                 id="year-and-from"),
    pytest.param(["indicators", "--db", "{db}", "--from", "2023-13-01", "--to", "2023-12-31", "--json"], id="bad-date"),
    pytest.param(["indicators", "--db", "{missing}", "--year", "2023", "--json"], id="missing-database"),
    pytest.param(["frobnicate"], id="unknown-command"),
    pytest.param([], id="no-command"),
    pytest.param(["import"], id="import-without-path"),
    pytest.param(["indicators", "--db", "{db}", "--year", "2023", "--bogus"], id="unknown-option"),
])
def test_bad_arguments_one_line_error(db, tmp_path, capsys, args):
    missing = tmp_path / "nowhere" / "absent.duckdb"
    argv = [a.format(db=db, missing=missing) for a in args]
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert out == ""
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("Erreur")
    assert "Traceback" not in err
    assert "coaching coaching" not in err  # the help hint names the real command
    assert not missing.exists()  # asking for indicators never creates a database


def test_refused_import_lists_every_problem(db, tmp_path, capsys):
    people = [dict(row) for row in PEOPLE]
    people[1]["sexe"] = "Inconnu"  # participants.csv line 3
    people[3]["date_sortie"], people[3]["motif_sortie"] = "2023-03-01", "Abandon"  # before its entry (04-01): line 5
    rdv = RDV + [{"id_participant": "NOBODY", "date": "2023-02-11", "modalite": "Visio", "presence": "Présent"}]  # line 3
    folder = write_extract(tmp_path / "bad", people, rdv)
    before = sha256(db)
    code, out, err = run(capsys, "import", str(folder), "--db", str(db))
    assert code == 1
    assert "Traceback" not in err
    expected = [("participants.csv", 3, "sexe"), ("participants.csv", 5, "date_sortie"), ("rendez_vous.csv", 3, "id_participant")]
    lines = err.splitlines()
    for file, line, column in expected:
        assert any(file in l and f"ligne {line}" in l and column in l for l in lines), (file, line, column, err)
    assert sha256(db) == before


def test_console_script_entry_point(db):
    script = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "coaching"
    if not script.exists():  # another virtual environment: the script sits next to its python
        script = Path(sys.executable).parent / "coaching"
    assert script.exists()
    done = subprocess.run([str(script), "indicators", "--db", str(db), "--year", "2023", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(FIGURES) <= set(data)
    assert data["participants"] == 3
    done = subprocess.run([str(script), "indicators", "--db", str(db), "--year", "abc"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.startswith("Erreur") and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
