"""The COPIL pack's layout, measured from the PDF's own text positions (issue 16, point 4): no text outside the
margins, none on or under the footer line, no line printed over another (the footer's selection text ran into the
page number and off the page)."""

from __future__ import annotations

import io
from contextlib import closing
from datetime import date

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas

from analytics.indicators import Filters, Period
from analytics.reports.common import APP_NAME, build_context
from analytics.reports.pdf import MARGIN, PAGE_H, PAGE_W, build_pdf_from_context, fit_text
from analytics.store import connect_readonly
from tests.pdf_layout import layout_faults, overlaps, text_runs

FOOTER_LINE = 1.25 * cm


def _faults(data: bytes) -> list[str]:
    return layout_faults(data, PAGE_W, PAGE_H, MARGIN, FOOTER_LINE, (APP_NAME, "page ")) + overlaps(data)


def test_the_checker_sees_a_fault():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 10)
    c.drawString(MARGIN, 10 * cm, "dans la marge")
    c.drawString(PAGE_W - MARGIN - 20, 12 * cm, "ce texte dépasse la marge de droite")
    c.drawString(MARGIN, 1.3 * cm, "sur la ligne du pied de page")
    c.drawString(MARGIN, 8 * cm, "un texte")
    c.drawString(MARGIN + 10, 8 * cm, "par-dessus")
    c.save()
    faults = _faults(buf.getvalue())
    assert any("droite" in f or "latérale" in f for f in faults)
    assert any("pied de page" in f for f in faults)
    assert any("chevauche" in f for f in faults)
    assert not any("dans la marge" in f for f in faults)
    runs = text_runs(buf.getvalue())
    assert {r.text for r in runs} >= {"dans la marge", "un texte"}


def test_fit_text_cuts_at_a_word():
    text = "Coaching Emploi · pack COPIL · Année 2023 · Commune : Doullens ; Prescripteur : Conseil départemental"
    cut = fit_text(text, "Helvetica", 7.5, 150)
    assert cut.endswith(" …") and text.startswith(cut[:-2]) and len(cut) < len(text)
    assert fit_text("court", "Helvetica", 7.5, 150) == "court"


@pytest.mark.parametrize("period,filters,suppress", [
    (Period.year(2023), Filters(commune=("Doullens", "Liomer"), prescriber=("Conseil départemental",)), 11),
    (Period(date(2022, 1, 1), date(2024, 1, 31)), Filters(), None),  # 25 months, clipped at the data date
], ids=["filtered-diffusion", "two-years"])
def test_copil_pack_text_stays_in_its_frame(sample_db, period, filters, suppress):
    with closing(connect_readonly(sample_db)) as con:
        ctx = build_context(con, period, filters, previous=True, suppress=suppress)
    buf = io.BytesIO()
    pages = build_pdf_from_context(ctx, buf)
    data = buf.getvalue()
    assert _faults(data) == []
    footers = [r for r in text_runs(data) if r.y < FOOTER_LINE]
    assert len({r.page for r in footers if r.text.startswith("page ")}) == pages  # a page number on every page
