"""The tracking-table template (SPEC-extract v2): its validations, and a filled template imports as is."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from analytics import schema as S
from analytics.cli import main
from analytics.extract import load_extract
from analytics.geo import communes_ref
from analytics.indicators import Period
from analytics.store import import_extract
from analytics.template import LISTS_SHEET
from coaching_test_helpers import figures, write_extract
from tests.own_files import IMMERSIONS, PEOPLE, RDV, as_text


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tpl") / "modele.xlsx"
    assert main(["template", "--out", str(out)]) == 0
    return out


def _validations(ws) -> dict[str, object]:
    """column letter → data validation of the sheet."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            found[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return found


def test_template_layout(template):
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["Mode d'emploi", "participants", "rendez_vous", "immersions", LISTS_SHEET]
    listes = book[LISTS_SHEET]
    lists = {col[0].value: [c.value for c in col[1:] if c.value is not None] for col in listes.iter_cols()}
    assert lists["sexe"] == S.SEX and lists["frein_principal"] == S.BARRIERS and lists["rqth"] == ["oui", "non"]
    assert lists["commune"] == sorted(communes_ref()["nom"].to_list())
    assert "Poix-de-Picardie" in lists["commune"]
    for name, table in S.TABLES.items():
        ws = book[name]
        assert [c.value for c in ws[1]] == table.names
        assert ws.freeze_panes == "A2"
        dvs = _validations(ws)
        for i, c in enumerate(table.columns):
            letter = openpyxl.utils.get_column_letter(i + 1)
            dv = dvs.get(letter)
            if c.kind == "date":
                assert dv is not None and dv.type == "date", c.name
            elif c.kind == "enum" or c.kind == "bool" or c.name == "commune":
                assert dv is not None and dv.type == "list", c.name
                listed = lists[c.name]
                # the formula points at the column of « Listes » holding exactly that list
                col = openpyxl.utils.get_column_letter(list(lists).index(c.name) + 1)
                assert dv.formula1 == f"'{LISTS_SHEET}'!${col}$2:${col}${len(listed) + 1}", c.name
            elif c.name in ("age", "niveau_formation"):
                assert dv is not None and dv.type == "whole"
            else:
                assert dv is None, c.name
    guide = [c.value for row in book["Mode d'emploi"].iter_rows() for c in row if c.value]
    assert any("Anonymisation" in str(v) for v in guide)
    assert "frein_principal" in guide


def _fill(template: Path, out: Path) -> Path:
    book = openpyxl.load_workbook(template)
    for name, rows in (("participants", PEOPLE), ("rendez_vous", RDV), ("immersions", IMMERSIONS)):
        ws = book[name]
        header = [c.value for c in ws[1]]
        for r, row in enumerate(rows, start=2):
            for key, value in row.items():
                if value is not None:
                    ws.cell(r, header.index(key) + 1, value)  # typed: real date cells, integers
    book.save(out)
    return out


def test_filled_template_imports_as_is(template, tmp_path):
    filled = _fill(template, tmp_path / "rempli.xlsx")
    check = openpyxl.load_workbook(filled)["participants"]
    assert check["B2"].is_date and isinstance(check["I2"].value, int)  # really typed cells
    extract = load_extract(filled)
    assert extract.counts == {"participants": len(PEOPLE), "rendez_vous": len(RDV), "immersions": len(IMMERSIONS)}
    import_extract(extract, tmp_path / "tpl.duckdb")
    # the template holds every column (empty ones are « collected, none filled »): so does the CSV extract
    every = [{c: row.get(c) for c in S.PARTICIPANTS.names} for row in as_text(PEOPLE)]
    folder = write_extract(tmp_path / "csv", every, as_text(RDV), as_text(IMMERSIONS))
    import_extract(load_extract(folder), tmp_path / "csv.duckdb")
    for year in (2022, 2023):
        assert figures(tmp_path / "tpl.duckdb", Period.year(year)) == figures(tmp_path / "csv.duckdb", Period.year(year))
    got = figures(tmp_path / "tpl.duckdb", Period.year(2023))
    # by hand from tests/own_files.py: entries A001 A002 A005 A006 A007; exits A001 A004 A005 A006 (2 positive)
    assert (got["entries"], got["exits"], got["positive_exits"], got["participants"]) == (5, 4, 2, 6)
    assert got["esf"]["EECO02"] == {"total": 0, "Femme": 0, "Homme": 0}  # collected (the template has the column)
    people = extract.tables["participants"]
    assert people.filter(people["id_participant"] == "A002")["rqth"].to_list() == [True]
    assert people.filter(people["id_participant"] == "A001")["date_entree"].to_list()[0].isoformat() == "2023-01-20"


def test_template_cli_refuses_other_formats(tmp_path, capsys):
    assert main(["template", "--out", str(tmp_path / "modele.csv")]) == 2
    assert "xlsx" in capsys.readouterr().err


def test_template_download_bytes_is_the_same_workbook():
    import io

    from analytics.template import template_bytes

    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    assert [c.value for c in book["rendez_vous"][1]] == S.RENDEZ_VOUS.names
