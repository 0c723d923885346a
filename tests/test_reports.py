"""Reports: the « Bilan quantitatif » workbook, the COPIL pack, the CSV tables, `coaching report`, the
Rapports page and the presentation mode.

The workbook of the sample for 2023 must hold every figure of the real 2023 report
(shared/reference/bilan-2023.json), each found by its label; the FSE+ sheet must equal the engine's
`esf` block. The PDF is built once with real charts (kaleido's first image starts Chromium, which is
slow); the other tests that build a PDF (command line, Rapports page) swap the chart export for a tiny
PNG (`fake_charts`).
"""

from __future__ import annotations

import io
import json
from contextlib import closing
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from analytics import fmt
from analytics.cli import main
from analytics.indicators import Filters, Period, compute, dataset
from analytics.indicators.activity import appointments_by_month_presence
from analytics.indicators.esf import ESF_INDICATORS
from analytics.reports.common import build_context, data_date, education_label, month_title, monthly_tracking
from analytics.reports.csv import indicator_table_csv, monthly_tracking_csv
from analytics.reports.sections import CONVENTION_SLIDES, SECTIONS
from analytics.reports.xlsx import SHEETS, build_xlsx
from analytics.store import connect_readonly
from coaching_test_helpers import person as P
from coaching_test_helpers import store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "reference" / "bilan-2023.json"
REFERENCE = SHARED if SHARED.exists() else Path(__file__).parent / "reference" / "bilan-2023.json"
Y2023 = Period.year(2023)
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def fake_charts(monkeypatch):
    """Charts exported as a 4×3 white PNG: the PDF's layout without Chromium."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buf, format="PNG")
    monkeypatch.setattr("analytics.reports.pdf.fig_png", lambda fig, width=900, height=None, scale=2: buf.getvalue())


def _reference() -> dict:
    if not REFERENCE.exists():
        pytest.skip("bilan-2023.json introuvable (ni ../shared/reference, ni tests/reference)")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def engine_2023(sample_db) -> dict:
    with closing(connect_readonly(sample_db)) as con:
        return compute(dataset(con, Y2023))


@pytest.fixture(scope="module")
def workbook(sample_db, tmp_path_factory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("xlsx") / "bilan.xlsx"
    with closing(connect_readonly(sample_db)) as con:
        names = build_xlsx(con, Y2023, Filters(), out)
    assert names == list(SHEETS.values())
    return openpyxl.load_workbook(out)


def rows_of(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(values_only=True)]


def cell(ws, label: str, column: int = 2, after: str | None = None):
    """The value in `column` (1-based) of the one row whose first cell is `label` (below the row `after`)."""
    rows = rows_of(ws)
    start = 0
    if after is not None:
        start = next(i for i, r in enumerate(rows) if r[0] == after) + 1
    found = [r for r in rows[start:] if r[0] == label]
    assert found, f"{ws.title}: no row « {label} »"
    if after is None:
        assert len(found) == 1, f"{ws.title}: several rows « {label} »"
    return found[0][column - 1]


# ---------------------------------------------------------------- XLSX: every figure of the 2023 report

def _where(key: str, sub: str | None = None, subsub: str | None = None) -> tuple[str, str, int]:
    """(sheet, label, column) of a figure of bilan-2023.json in the workbook."""
    simple = {
        "positioned": ("prescriptions", "Positionnés"), "participants": ("prescriptions", "Participants"),
        "exits": ("exits", "Total des sorties"), "positive_exits": ("exits", "Sorties positives (emploi ou formation)"),
        "positive_exit_rate": ("exits", "Taux de sorties positives"), "active_at_end": ("exits", "Présents en fin de période"),
        "average_caseload": ("caseload", "Moyenne"), "caseload_target": ("caseload", "Objectif de la convention"),
        "exits_with_immersion": ("immersions", "Sortants ayant réalisé au moins une immersion"),
        "exits_with_two_or_more_immersions": ("immersions", "dont deux immersions ou plus"),
    }
    tables = {"not_entered": "prescriptions", "prescriber": "prescriptions", "status": "prescriptions", "age_band": "age",
              "sex": "sex", "education_level": "education", "primary_barrier": "barriers", "household": "household",
              "exit_reason": "exits", "monthly_caseload": "caseload"}
    details = {"Emploi": "contracts", "Formation": "trainings", "Fin de suivi": "next_steps"}
    if key in simple:
        sheet, label = simple[key]
        return SHEETS[sheet], label, 2
    if key == "exit_detail":
        return SHEETS[details[sub]], subsub, 2
    label = education_label(sub) if key == "education_level" else month_title(sub) if key == "monthly_caseload" else sub
    return SHEETS[tables[key]], label, 2


def test_xlsx_holds_every_figure_of_the_2023_report(workbook):
    reference = _reference()
    checked = 0
    for key, value in reference.items():
        if key.startswith("_") or key == "period":
            continue
        if isinstance(value, dict):
            items = ([(key, sub, subsub, n) for sub, d in value.items() for subsub, n in d.items()] if key == "exit_detail"
                     else [(key, sub, None, n) for sub, n in value.items()])
        else:
            items = [(key, None, None, value)]
        for k, sub, subsub, expected in items:
            sheet, label, column = _where(k, sub, subsub)
            got = cell(workbook[sheet], label, column)
            assert isinstance(got, (int, float)) and not isinstance(got, bool), (k, sub, subsub, got)
            assert got == pytest.approx(expected), (k, sub, subsub)
            checked += 1
    assert checked >= 70  # 76 figures in the 2023 report


def test_xlsx_every_sheet_states_period_filters_and_data_date(workbook, sample_db):
    with closing(connect_readonly(sample_db)) as con:
        latest = data_date(con)
    for ws in workbook.worksheets:
        head = [r[0] for r in rows_of(ws)[:5]]
        assert head[0].startswith("Bilan quantitatif"), ws.title
        assert "5 vallées" in head[1] and "Coaching emploi" in head[1]
        assert head[2] == "Période : Année 2023 (du 01/01/2023 au 31/12/2023)"
        assert head[3] == "Filtres : aucun (toutes les personnes)"
        assert head[4].startswith(f"Données au {fmt.day(latest)}")


def test_xlsx_stores_numbers_and_percent_formats_without_formulas(workbook):
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
    ws = workbook[SHEETS["age"]]
    row = next(r for r in ws.iter_rows() if r[0].value == "25-40 ans")
    assert row[1].value == 68 and isinstance(row[1].value, int)
    assert row[2].value == pytest.approx(68 / 117) and "%" in row[2].number_format
    rate = next(r for r in workbook[SHEETS["exits"]].iter_rows() if r[0].value == "Taux de sorties positives")
    assert rate[1].value == 0.4211 and "%" in rate[1].number_format
    mean = next(r for r in workbook[SHEETS["caseload"]].iter_rows() if r[0].value == "Moyenne")
    assert mean[1].value == 37.17 and "0.00" in mean[1].number_format
    # sensible widths: the label column is wide enough for its labels
    assert workbook[SHEETS["education"]].column_dimensions["A"].width >= 40


def test_xlsx_barriers_primary_and_any(workbook, engine_2023):
    ws = workbook[SHEETS["barriers"]]
    for barrier, n in engine_2023["barrier_any"].items():
        assert cell(ws, barrier, 4) == n
        assert cell(ws, barrier, 2) == engine_2023["primary_barrier"].get(barrier, 0)


def test_xlsx_immersions_sheet(workbook, engine_2023):
    ws = workbook[SHEETS["immersions"]]
    assert cell(ws, "Immersions commencées sur la période") == engine_2023["immersions"]["count"]
    assert cell(ws, "Immersions ayant débouché sur un contrat") == engine_2023["immersions"]["led_to_contract"]
    with_immersion = sum(cell(ws, reason, 2, after="Sorties avec ou sans immersion, par motif")
                         for reason in engine_2023["exit_reason"])
    assert with_immersion == engine_2023["exits_with_immersion"]


def test_xlsx_monthly_tracking_sheet(workbook, engine_2023):
    ws = workbook[SHEETS["monthly"]]
    rows = rows_of(ws)
    header = rows[6]
    assert header[:4] == ("Mois", "File active", "Entrées", "Sorties")
    assert {"Sorties : Emploi", "Sorties : Abandon", "RDV honorés (présent)", "RDV manqués (absents)"} <= set(header)
    months = rows[7:19]
    assert [r[0] for r in months] == [month_title(m) for m in engine_2023["monthly_caseload"]]
    assert [r[1] for r in months] == list(engine_2023["monthly_caseload"].values())
    col = {h: i for i, h in enumerate(header)}
    for r in months:  # every exit of the sample has a reason: the reasons add up to the month's exits
        assert sum(r[i] for h, i in col.items() if h.startswith("Sorties : ")) == r[col["Sorties"]]
        assert r[col["RDV manqués (absents)"]] == r[col["dont absences excusées"]] + r[col["dont absences non excusées"]]
    total = rows[19]
    assert total[0] == "Total / moyenne" and total[1] == 37.17
    assert total[col["Entrées"]] == engine_2023["entries"] and total[col["Sorties"]] == engine_2023["exits"]
    assert total[col["Sorties : Emploi"]] == engine_2023["exit_reason"]["Emploi"]
    assert total[col["RDV honorés (présent)"]] == engine_2023["appointments"]["attended"]
    assert total[col["RDV honorés (présent)"]] + total[col["RDV manqués (absents)"]] == engine_2023["appointments"]["planned"]


# ---------------------------------------------------------------- FSE+

def _esf_sheet(wb) -> dict[str, tuple]:
    return {r[0]: r for r in rows_of(wb[SHEETS["esf"]]) if r[0] in ESF_INDICATORS}


def test_fse_sheet_equals_the_engine_esf_block(workbook, engine_2023):
    sheet = _esf_sheet(workbook)
    assert list(sheet) == list(ESF_INDICATORS)
    for code, value in engine_2023["esf"].items():
        row = sheet[code]
        assert row[1] == ESF_INDICATORS[code][3]
        assert value is not None  # the sample carries every ESF+ column
        assert row[2:5] == (value["total"], value["Femme"], value["Homme"])


def test_fse_sheet_says_non_collecte_for_an_extract_lacking_columns(tmp_path):
    # no situation_emploi_entree, rqth, qualification_obtenue, situation_6_mois in this extract
    people = [P("A", "2023-02-01", age=17, niveau_formation=2), P("B", "2023-03-01", "2023-09-01", "Emploi", "CDI", sexe="Homme", age=30),
              P("C", "2023-04-01", "2023-10-01", "Fin de suivi", "Coaching social", age=55, niveau_formation=5)]
    db = store(tmp_path, people)
    out = tmp_path / "bilan.xlsx"
    with closing(connect_readonly(db)) as con:
        build_xlsx(con, Y2023, Filters(), out)
        esf = compute(dataset(con, Y2023))["esf"]
    sheet = _esf_sheet(openpyxl.load_workbook(out))
    missing = {code for code, v in esf.items() if v is None}
    assert missing == {"EECO02", "EECO03", "EECO04", "EECO05", "EECO12", "EECR03", "EECR05"}
    for code, value in esf.items():
        if value is None:
            assert sheet[code][2:5] == ("non collecté",) * 3, code
        else:
            assert sheet[code][2:5] == (value["total"], value["Femme"], value["Homme"]), code
    assert sheet["EECO01"][2:5] == (3, 2, 1)
    assert sheet["EECO06"][2:5] == (1, 1, 0)  # 17
    assert sheet["EECO08"][2:5] == (1, 1, 0)  # 55
    assert sheet["EECR04"][2:5] == (1, 0, 1)


def test_xlsx_of_a_filtered_period_writes_the_selection(sample_db, tmp_path):
    period, filters = Period(date(2023, 1, 15), date(2023, 3, 10)), Filters(commune=("Doullens", "Liomer"))
    out = tmp_path / "filtre.xlsx"
    with closing(connect_readonly(sample_db)) as con:
        build_xlsx(con, period, filters, out)
        fig = compute(dataset(con, period, filters))
    wb = openpyxl.load_workbook(out)
    ws = wb[SHEETS["prescriptions"]]
    assert rows_of(ws)[2][0] == "Période : Du 15/01/2023 au 10/03/2023"
    assert rows_of(ws)[3][0] == "Filtres : Commune : Doullens, Liomer"
    assert cell(ws, "Participants") == fig["participants"]
    months = [r[0] for r in rows_of(wb[SHEETS["monthly"]])[7:10]]
    assert months == ["Janvier 2023", "Février 2023", "Mars 2023"]


# ---------------------------------------------------------------- the engine pieces the reports use

def test_appointments_by_month_presence(tmp_path):
    people = [P("A", "2023-01-10"), P("B", "2023-01-10", "2023-06-30", "Abandon")]
    rdv = [{"id_participant": "A", "date": "2023-01-12", "modalite": "Physique", "presence": "Présent"},
           {"id_participant": "A", "date": "2023-01-19", "modalite": "Téléphone", "presence": "Absent excusé"},
           {"id_participant": "B", "date": "2023-01-20", "modalite": "Physique", "presence": "Absent non excusé"},
           {"id_participant": "B", "date": "2023-03-02", "modalite": "Physique", "presence": "Présent"},
           {"id_participant": "B", "date": "2024-01-02", "modalite": "Physique", "presence": "Présent"}]  # out of P
    db = store(tmp_path, people, rdv)
    with closing(connect_readonly(db)) as con:
        ds = dataset(con, Period(date(2023, 1, 1), date(2023, 3, 31)))
    frame = appointments_by_month_presence(ds)
    assert frame.rows() == [("2023-01", 1, 2, 1, 1), ("2023-02", 0, 0, 0, 0), ("2023-03", 1, 0, 0, 0)]
    fig = compute(ds, ["appointments"])["appointments"]
    assert frame["held"].sum() == fig["attended"] and frame["held"].sum() + frame["missed"].sum() == fig["planned"]


def test_data_date_is_the_latest_date_of_the_store(tmp_path):
    people = [P("A", "2023-01-10", "2023-05-02", "Emploi", "CDI", date_suivi_post_sortie="2023-06-05"), P("B", "2023-02-01")]
    rdv = [{"id_participant": "B", "date": "2023-06-20", "modalite": "Physique", "presence": "Présent"}]
    db = store(tmp_path, people, rdv)
    with closing(connect_readonly(db)) as con:
        assert data_date(con) == date(2023, 6, 20)
        ctx = build_context(con, Y2023)
    assert ctx.data_date_text.startswith("Données au 20/06/2023")


def test_monthly_tracking_frame_joins_engine_frames(sample_db, engine_2023):
    with closing(connect_readonly(sample_db)) as con:
        frame = monthly_tracking(dataset(con, Y2023))
    assert frame.height == 12
    assert frame["entries"].sum() == engine_2023["entries"]
    assert frame["exits"].sum() == engine_2023["exits"]
    assert frame["held"].sum() == engine_2023["appointments"]["attended"]


# ---------------------------------------------------------------- CSV

def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8")
    assert "\r\n" in text
    return [line.split(";") for line in text.strip("\r\n").split("\r\n")]


def test_indicator_table_csv_counts(engine_2023):
    rows = _csv_rows(indicator_table_csv("sex", engine_2023["sex"]))
    assert rows == [["Sexe", "Participants"], ["Femme", "81"], ["Homme", "36"]]
    rows = _csv_rows(indicator_table_csv("monthly_caseload", engine_2023["monthly_caseload"]))
    assert rows[0] == ["Mois", "File active"] and rows[1] == ["2023-01", "31"] and len(rows) == 13
    rows = _csv_rows(indicator_table_csv("education_level", engine_2023["education_level"]))
    assert rows[0] == ["Niveau de formation", "Libellé", "Participants"] and rows[1] == ["1", education_label("1"), "6"]


def test_indicator_table_csv_exit_detail_esf_and_scalars(engine_2023):
    rows = _csv_rows(indicator_table_csv("exit_detail", engine_2023["exit_detail"]))
    assert rows[0] == ["Motif de sortie", "Détail", "Sorties"]
    assert ["Emploi", "CDD de moins de 6 mois", "10"] in rows
    esf = dict(engine_2023["esf"], EECR05=None)
    rows = _csv_rows(indicator_table_csv("esf", esf))
    assert rows[0] == ["Code", "Indicateur", "Total", "Femme", "Homme"]
    assert rows[-1] == ["EECR05", ESF_INDICATORS["EECR05"][3], "non collecté", "non collecté", "non collecté"]
    assert _csv_rows(indicator_table_csv("positive_exit_rate", 0.4211))[1] == ["Taux de sorties positives", "0,4211"]
    rows = _csv_rows(indicator_table_csv("appointments", engine_2023["appointments"]))
    assert rows[0] == ["Indicateur", "Valeur"] and ["Rendez-vous – attendance_rate", "0,8284"] in rows


def test_csv_quotes_a_label_holding_the_separator():
    rows = indicator_table_csv("commune", {"Saint-Ouen; hameau": 2}).decode("utf-8-sig")
    assert rows.splitlines()[1] == '"Saint-Ouen; hameau";2'


def test_monthly_tracking_csv(sample_db):
    with closing(connect_readonly(sample_db)) as con:
        rows = _csv_rows(monthly_tracking_csv(dataset(con, Y2023)))
    assert rows[0][:4] == ["Mois", "File active", "Entrées", "Sorties"] and "RDV manqués (absents)" in rows[0]
    assert rows[1][:2] == ["2023-01", "31"] and len(rows) == 13


# ---------------------------------------------------------------- PDF (one build)

@pytest.fixture(scope="module")
def copil_pdf(sample_db, tmp_path_factory):
    from analytics.reports.pdf import build_pdf

    out = tmp_path_factory.mktemp("pdf") / "copil.pdf"
    steps: list[tuple[float, str]] = []
    with closing(connect_readonly(sample_db)) as con:
        pages = build_pdf(con, Y2023, Filters(), out, progress=lambda share, message: steps.append((share, message)))
    return out, pages, steps


def test_pdf_pack_pages_text_and_charts(copil_pdf):
    from pypdf import PdfReader

    out, pages, steps = copil_pdf
    reader = PdfReader(out)
    assert len(reader.pages) == pages >= 3
    text = "\n".join(p.extract_text() for p in reader.pages).replace("\u00a0", " ")
    for figure in ("134", "117", "76", "37,17", "42,1 %"):
        assert figure in text, figure
    assert "La file active moyenne est de 37,17 pour un objectif de 40." in text
    assert "Coaching Emploi" in text and "Année 2023" in text and "Données au" in text
    assert f"page 1 / {pages}" in text and f"page {pages} / {pages}" in text
    assert "Indicateurs communs FSE+" in text and "EECR05" in text
    images = sum(len(p.images) for p in reader.pages)
    assert images >= len(SECTIONS)
    # progress: from 0 to 1, never backwards
    shares = [s for s, _ in steps]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)


# ---------------------------------------------------------------- coaching report

def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_report_xlsx(sample_db, tmp_path, capsys):
    out = tmp_path / "bilan.xlsx"
    code, stdout, err = run(capsys, "report", "--db", str(sample_db), "--year", "2023", "--out", str(out))
    assert code == 0, err
    assert f"{out}" in stdout and f"{len(SHEETS)} feuilles" in stdout
    wb = openpyxl.load_workbook(out)
    assert cell(wb[SHEETS["prescriptions"]], "Positionnés") == 134
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed


def test_cli_report_csv_with_filters(sample_db, tmp_path, capsys):
    out = tmp_path / "suivi.CSV"
    code, _, err = run(capsys, "report", "--db", str(sample_db), "--from", "2023-01-01", "--to", "2023-06-30",
                       "--commune", "Doullens", "--out", str(out))
    assert code == 0, err
    rows = _csv_rows(out.read_bytes())
    assert rows[0][0] == "Mois" and len(rows) == 9
    # six months, then an empty line and the data date with the import the table was computed on (SPEC-indicators
    # « Store history »), in the words of the PDF's cover and the XLSX's header
    with closing(connect_readonly(sample_db)) as con:
        day = data_date(con)
    assert rows[7] == [""] and len(rows) == 9
    assert rows[8][0].startswith(f"Données au {day:%d/%m/%Y} (date la plus récente de la base) · calculé sur l'import n° 1 du ")
    with closing(connect_readonly(sample_db)) as con:
        ctx = build_context(con, Period(date(2023, 1, 1), date(2023, 6, 30)), Filters(commune=("Doullens",)))
    assert rows[8][0] == ctx.data_date_text


def test_cli_report_pdf(sample_db, tmp_path, capsys, fake_charts):
    out = tmp_path / "copil.pdf"
    code, stdout, err = run(capsys, "report", "--db", str(sample_db), "--year", "2023", "--out", str(out))
    assert code == 0, err
    assert "pages" in stdout and out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name, code, message", [
    ("bilan.docx", 2, "format de rapport inconnu (« .docx »)"),
    ("bilan", 2, "format de rapport inconnu (sans extension)"),
    ("absent/bilan.xlsx", 1, "n'existe pas"),
    ("", 1, "c'est un dossier"),
])
def test_cli_report_errors_are_one_french_line(sample_db, tmp_path, capsys, name, code, message):
    target = tmp_path / name if name else tmp_path / "dossier.xlsx"
    if not name:
        target.mkdir()
    got, stdout, err = run(capsys, "report", "--db", str(sample_db), "--year", "2023", "--out", str(target))
    assert got == code
    assert err.startswith("Erreur : ") and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and stdout == ""
    assert not (tmp_path / "bilan.docx").exists()


def test_cli_report_needs_a_period_and_a_store(tmp_path, capsys):
    code, _, err = run(capsys, "report", "--db", str(tmp_path / "nope.duckdb"), "--year", "2023", "--out", str(tmp_path / "b.xlsx"))
    assert code == 1 and "base introuvable" in err
    code, _, err = run(capsys, "report", "--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "b.xlsx"))
    assert code == 2 and "période manquante" in err
    assert not (tmp_path / "b.xlsx").exists()


# ---------------------------------------------------------------- the Rapports page and the presentation mode

def test_rapports_page(app, fake_charts):
    at = app("pages/rapports.py")
    assert not at.exception
    labels = [b.label for b in at.download_button]
    assert "Télécharger le bilan quantitatif (.xlsx)" in labels and "Télécharger le tableau (.csv)" in labels
    assert at.button(key="rapports_pdf_prepare").label == "Préparer le pack COPIL (PDF)"
    at.selectbox(key="rapports_csv_table").set_value("esf").run()
    assert not at.exception
    at.button(key="rapports_pdf_prepare").click().run()
    assert not at.exception and not at.error
    assert any(b.label.startswith("Télécharger le pack COPIL (.pdf, ") for b in at.download_button)


def test_presentation_mode_steps_through_the_key_charts(app):
    at = app(presentation="true")
    assert not at.exception
    assert [b.label for b in at.button][:3] == ["Précédent", "Suivant", "Quitter"]
    assert [m.label for m in at.metric][:2] == ["Positionnés", "Participants (suivis)"]
    # the key figures, the convention's years (three slides), every section of the COPIL pack, then the territory map
    # (issues 15, 16)
    last = len(CONVENTION_SLIDES) + len(SECTIONS) + 1
    for seen in range(1, last + 1):
        at.button(key="presentation_next").click().run()
        assert not at.exception
        assert len(at.get("plotly_chart")) == 1
        assert at.session_state["presentation_slide"] == seen
        if seen <= len(CONVENTION_SLIDES):  # the convention's years come first after the key figures, 3 charts a slide
            assert any(CONVENTION_SLIDES[seen - 1].heading in str(h.proto) for h in at.get("html"))
            assert len(json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["annotations"]) == 3
    at.button(key="presentation_next").click().run()  # past the last slide: stays there (the buttons are never disabled)
    assert at.session_state["presentation_slide"] == last
    at.button(key="presentation_prev").click().run()
    assert at.session_state["presentation_slide"] == last - 1
    at.button(key="presentation_quit").click().run()
    assert not at.exception and at.session_state["presentation"] is False
    assert at.title[0].value == "Vue d'ensemble"


def test_presentation_toggle_is_in_the_sidebar(app):
    at = app()
    toggle = at.sidebar.toggle(key="presentation")
    assert toggle.label == "Mode présentation" and toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception and at.button(key="presentation_next")
