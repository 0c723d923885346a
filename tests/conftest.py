"""Shared test helpers.

`kit` (session fixture) bundles small helpers to write hand-built extracts and query them:

    kit.write_csv(path, rows, sep=",", encoding="utf-8", bom=False)   # rows: list of dicts
    kit.write_extract(folder, participants, rendez_vous=None, immersions=None, **csv_options)
    kit.person("P1", entree="2023-01-10", sortie=..., motif=..., detail=..., **columns)
    kit.store(tmp_path, participants, rendez_vous=None, immersions=None) -> Path of a DuckDB file
    kit.figures(db, Period, Filters()) -> dict        # compute_indicators on a read-only connection
    kit.nz(mapping) -> mapping without zero counts      # "categories with a zero count may be left out"
    kit.sha256(path) -> hex digest of a file

The same helpers can be imported by test modules as `from coaching_test_helpers import ...` (an alias
of this module: `from conftest import` would pick whichever conftest.py was loaded last, e.g.
tests/browser/conftest.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

# Canonical order of the participants columns the helpers write (the union of the row keys,
# in this order first, then any other key in order of appearance).
_PERSON_ORDER = [
    "id_participant", "date_prescription", "prescripteur", "territoire", "action", "commune", "code_insee",
    "sexe", "age", "niveau_formation", "statut", "situation_familiale", "frein_principal", "freins_secondaires",
    "date_premier_rdv", "date_entree", "motif_non_entree", "date_fin_prevue", "date_sortie", "motif_sortie",
    "detail_sortie", "situation_emploi_entree", "rqth", "qualification_obtenue", "date_suivi_post_sortie",
    "situation_post_sortie", "situation_6_mois",
]


def _columns(rows: list[dict]) -> list[str]:
    seen: list[str] = []
    for row in rows:
        for key in row:
            if key not in seen:
                seen.append(key)
    ordered = [c for c in _PERSON_ORDER if c in seen]
    return ordered + [c for c in seen if c not in ordered]


def csv_text(rows: list[dict], sep: str = ",", columns: list[str] | None = None) -> str:
    """CSV text of a list of dicts (columns = union of the keys; missing values written empty)."""
    cols = columns or _columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(cols)
    for row in rows:
        w.writerow(["" if row.get(c) is None else str(row.get(c)) for c in cols])
    return buf.getvalue()


def write_csv(path: Path, rows: list[dict], sep: str = ",", encoding: str = "utf-8", bom: bool = False,
              columns: list[str] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = csv_text(rows, sep, columns).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_extract(folder: Path, participants: list[dict], rendez_vous: list[dict] | None = None,
                  immersions: list[dict] | None = None, **options) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "participants.csv", participants, **options)
    if rendez_vous is not None:
        write_csv(folder / "rendez_vous.csv", rendez_vous, columns=["id_participant", "date", "modalite", "presence"], **options)
    if immersions is not None:
        write_csv(folder / "immersions.csv", immersions,
                  columns=_columns(immersions) or ["id_participant", "date_debut", "date_fin"], **options)
    return folder


def person(pid: str, entree: str | None = None, sortie: str | None = None, motif: str | None = None,
           detail: str | None = None, presc: str | None = None, **columns) -> dict:
    """One valid participants row; every required column has a default, `columns` override them.

    Without `entree` the person is a non-entrant (`motif_non_entree` defaults to `En attente`).
    `presc` defaults to 2021-01-01 (before any date the tests use)."""
    row = {
        "id_participant": pid,
        "date_prescription": presc or "2021-01-01",
        "prescripteur": "Pôle emploi",
        "commune": "Poix-de-Picardie",
        "sexe": "Femme",
        "age": 30,
        "niveau_formation": 3,
        "statut": "RSA",
        "situation_familiale": "Seul(e) sans enfant",
        "frein_principal": "Mobilité",
        "date_entree": entree,
        "motif_non_entree": None if entree else "En attente",
        "date_sortie": sortie,
        "motif_sortie": motif,
        "detail_sortie": detail,
    }
    row.update(columns)
    return row


def store(tmp_path: Path, participants: list[dict], rendez_vous: list[dict] | None = None,
          immersions: list[dict] | None = None, name: str = "extract") -> Path:
    """Write the extract under tmp_path/name, import it into tmp_path/name.duckdb, return the db path."""
    from analytics.extract import load_extract
    from analytics.store import import_extract

    folder = write_extract(Path(tmp_path) / name, participants, rendez_vous, immersions)
    db = Path(tmp_path) / f"{name}.duckdb"
    import_extract(load_extract(folder), db)
    return db


def figures(db: Path, period, filters=None) -> dict:
    from analytics.indicators import Filters, compute_indicators
    from analytics.store import connect_readonly

    con = connect_readonly(db)
    try:
        return compute_indicators(con, period, filters or Filters())
    finally:
        con.close()


def nz(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


sys.modules.setdefault("coaching_test_helpers", sys.modules[__name__])


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    return SimpleNamespace(csv_text=csv_text, write_csv=write_csv, write_extract=write_extract, person=person,
                           store=store, figures=figures, nz=nz, sha256=sha256)


# ---------------------------------------------------------------- the reference sample and the app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
REFERENCE_YEAR = "2023"  # the year of reference/bilan-2023.json
PAGES = ["pages/vue_ensemble.py", "pages/convention.py", "pages/profils.py", "pages/typologie.py", "pages/freins.py", "pages/parcours.py",
         "pages/file_active.py", "pages/territoire.py", "pages/activite.py", "pages/rapports.py", "pages/donnees.py"]


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """data/sample imported once into a DuckDB file (read-only use only)."""
    from analytics.extract import load_extract
    from analytics.store import import_extract

    db = tmp_path_factory.mktemp("sample") / "coaching.duckdb"
    import_extract(load_extract(SAMPLE_DIR), db)
    return db


@pytest.fixture
def app(sample_db, monkeypatch):
    """`app(page=None, **query)` → an AppTest of the dashboard on the sample, run once.

    `page` is a file under pages/ (switched to after the first run); query values may be lists. Without a period
    (`annee`, `debut`/`fin`) the year is the report's, 2023; `annee=None` leaves the dashboard's default.
    """
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COACHING_DB", str(sample_db))
    # no accounts unless a test configures some: single-user local mode, whatever sits in data/ (analytics/auth.py)
    monkeypatch.setenv("COACHING_USERS", str(sample_db.parent / "no-users.json"))

    def make(page: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        if "annee" in query and query["annee"] is None:  # app(annee=None): the dashboard's own default period
            query.pop("annee")
        elif not {"annee", "debut", "fin"} & set(query):
            # the page tests check the 2023 figures of the report; the sample now runs to autumn 2026, whose last complete
            # year (the dashboard's default, `ui.state.default_year`) is no longer 2023
            query["annee"] = REFERENCE_YEAR
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        return at

    return make
