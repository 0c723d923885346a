"""The COPIL pack (PDF, reportlab): a title page, the KPI summary of the Vue d'ensemble page, the
dashboard's own charts with a small table and a one-line reading under each, and the ESF+ indicators.

    build_pdf(con, period, filters, out, progress=None)

`out` is a path or a binary file object; `progress(share, message)` is called as the pack is built
(share from 0 to 1), e.g. to drive a progress bar. The charts are the pure figure functions the pages
call (`analytics.reports.sections`), exported as PNG by kaleido.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)
from xml.sax.saxutils import escape

from analytics import fmt
from analytics import geo
from analytics.charts import territory as territory_charts
from analytics.charts.base import PRIMARY
from analytics.diffusion import align_map, align_territory, all_masked_labels, is_masked, legend, mask_if, rows_of
from analytics.indicators import Filters, Period, territory
from analytics.reports.common import APP_NAME, ReportContext, build_context, esf_rows, filters_text
from analytics.reports.images import fig_png
from analytics.reports.sections import CONVENTION, SECTIONS, kpi_rows, masked_reading

rl_config.useA85 = 0  # binary image streams: the pure-Python ASCII85 encoder costs seconds per pack

Progress = Callable[[float, str], None]
PAGE_W, PAGE_H = A4
MARGIN = 1.6 * cm
FRAME_W = PAGE_W - 2 * MARGIN
IMAGE_PX = 900  # CSS width of the exported charts (rendered at scale 2)
BLUE = colors.HexColor(PRIMARY)
GREY = colors.HexColor("#5b6472")
LIGHT = colors.HexColor("#eef2f8")


# ---------------------------------------------------------------- fonts and styles

def _fonts() -> tuple[str, str, str]:
    """Bitstream Vera, shipped with reportlab (accents, œ, ’, − and the no-break space), embedded in the PDF."""
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        for name, file in (("Vera", "Vera.ttf"), ("VeraBd", "VeraBd.ttf"), ("VeraIt", "VeraIt.ttf"), ("VeraBI", "VeraBI.ttf")):
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        pdfmetrics.registerFontFamily("Vera", normal="Vera", bold="VeraBd", italic="VeraIt", boldItalic="VeraBI")
    return "Vera", "VeraBd", "VeraIt"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, italic = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12.5)
    return {
        "base": base,
        "cover_title": ParagraphStyle("cover_title", base, fontName=bold, fontSize=30, leading=36, textColor=BLUE,
                                      alignment=TA_CENTER, spaceAfter=10),
        "cover_sub": ParagraphStyle("cover_sub", base, fontSize=15, leading=20, alignment=TA_CENTER, spaceAfter=28),
        "cover_line": ParagraphStyle("cover_line", base, fontSize=12, leading=18, alignment=TA_CENTER),
        "h1": ParagraphStyle("h1", base, fontName=bold, fontSize=17, leading=21, textColor=BLUE, spaceAfter=8),
        "h2": ParagraphStyle("h2", base, fontName=bold, fontSize=12.5, leading=16, textColor=BLUE, spaceBefore=4, spaceAfter=4),
        "reading": ParagraphStyle("reading", base, fontName=bold, fontSize=10, leading=13, spaceBefore=4),
        "note": ParagraphStyle("note", base, fontName=italic, fontSize=7.8, leading=10, textColor=GREY),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.6),
        "cell_bold": ParagraphStyle("cell_bold", base, fontName=bold, fontSize=8, leading=9.6, textColor=colors.white),
        "cell_small": ParagraphStyle("cell_small", base, fontSize=7.2, leading=8.6, alignment=TA_CENTER),
        "cell_bold_small": ParagraphStyle("cell_bold_small", base, fontName=bold, fontSize=7.2, leading=8.6,
                                          textColor=colors.white, alignment=TA_CENTER),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


# ---------------------------------------------------------------- tables

def _table(rows: list[list[str]], st: dict, widths: list[float] | None = None, wide: bool = False) -> Table:
    """A small table; `wide` turns it on its side (one column per month) so that it stays small."""
    if wide:
        rows = [list(col) for col in zip(*rows)]
    n_cols = len(rows[0])
    if widths is None:
        if wide:
            first = 2.4 * cm
            widths = [first] + [(FRAME_W - first) / (n_cols - 1)] * (n_cols - 1)
        else:
            first = min(8.5 * cm, FRAME_W * 0.5)
            widths = [first] + [min(3.2 * cm, (FRAME_W - first) / max(n_cols - 1, 1))] * (n_cols - 1)
    head, cell = (st["cell_bold_small"], st["cell_small"]) if wide else (st["cell_bold"], st["cell"])
    data = [[Paragraph(escape(str(v)), head if i == 0 or (wide and j == 0) else cell) for j, v in enumerate(row)]
            for i, row in enumerate(rows)]
    t = Table(data, colWidths=widths, hAlign="LEFT", repeatRows=1)
    style = [("BACKGROUND", (0, 0), (-1, 0), BLUE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d1dd")),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if wide:
        style += [("BACKGROUND", (0, 0), (0, -1), BLUE), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                  ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
        if rows[0][-1] in ("Période", "Objectif"):  # the summary columns after the months
            k = 2 if rows[0][-1] == "Objectif" and rows[0][-2] == "Moyenne" else 1
            style.append(("LINEBEFORE", (n_cols - k, 0), (n_cols - k, -1), 0.8, BLUE))
    else:
        style += [("BACKGROUND", (0, i), (-1, i), LIGHT) for i in range(2, len(rows), 2)]
        for i, row in enumerate(rows):
            if i and row[0] in ("Total", "Participants"):
                style.append(("LINEABOVE", (0, i), (-1, i), 0.8, BLUE))
    t.setStyle(TableStyle(style))
    return t


# ---------------------------------------------------------------- pages

def _cover(ctx: ReportContext, st: dict) -> list:
    lines = [ctx.scope_text.replace(" · ", "<br/>"), f"Période : {ctx.period_text}", f"Filtres : {ctx.filters_text}",
             ctx.data_date_text, f"Document produit le {fmt.day(date.today())}"]
    story = [Spacer(1, 5 * cm), _p(APP_NAME, st["cover_title"]),
             _p("Comité de pilotage — pack de suivi de l'action", st["cover_sub"])]
    for line in lines:
        story.append(Paragraph(escape(line).replace("&lt;br/&gt;", "<br/>"), st["cover_line"]))
    story += [Spacer(1, 3 * cm),
              _p("Tous les chiffres de ce document sont calculés par le moteur d'indicateurs du tableau de bord, avec les "
                 "définitions du contrat d'indicateurs ; les graphiques sont ceux des pages du tableau de bord.", st["note"]),
              PageBreak()]
    return story


def _kpis(ctx: ReportContext, st: dict) -> list:
    f = ctx.fig
    story = [_p("Chiffres clés", st["h1"]), _p(ctx.period_text + " — " + ctx.filters_text, st["note"]), Spacer(1, 6)]
    widths = [6.2 * cm, 2.8 * cm, 5.2 * cm, FRAME_W - 14.2 * cm]
    story.append(_table(kpi_rows(ctx), st, widths))
    story.append(Spacer(1, 10))
    ne = ", ".join(f"{fmt.number(v)} {k.lower()}" for k, v in f["not_entered"].items()) or "aucune"
    # a sentence never reads « < 11 » where a number was expected: what is masked and why instead
    readings = [
        masked_reading({"positionnés": f["positioned"], "participants": f["participants"]}) or
        f"{fmt.number(f['positioned'])} personnes positionnées sur l'action : {fmt.number(f['participants'])} participants "
        f"l'ont suivie sur la période ; non-entrées : {ne}.",
        SECTIONS[0].reading(ctx),
        masked_reading({"sorties": f["exits"], "sorties positives": f["positive_exits"], "présents en fin de période": f["active_at_end"]}) or
        f"{fmt.number(f['exits'])} sorties dont {fmt.number(f['positive_exits'])} positives (emploi ou formation), soit "
        f"{fmt.percent(f['positive_exit_rate'])} ; {fmt.number(f['active_at_end'])} personnes encore accompagnées en fin de période.",
        masked_reading({"sortants avec immersion": f["exits_with_immersion"]}) or
        f"{fmt.number(f['exits_with_immersion'])} sortants avaient réalisé au moins une immersion" + (
            "." if is_masked(f["exits_with_two_or_more_immersions"]) else
            f", dont {fmt.number(f['exits_with_two_or_more_immersions'])} deux ou plus."),
    ]
    if ctx.suppress and f.get("diffusion", {}).get("masked"):
        readings.append(legend(ctx.suppress))
    story += [_p("• " + r, st["base"]) for r in readings]
    story += [Spacer(1, 6), _p("Les évolutions comparent la période à la période précédente de même durée "
                               "(l'année précédente pour une année civile).", st["note"]), Spacer(1, 14)]
    return story + _esf(ctx, st) + [PageBreak()]


def _section(ctx: ReportContext, section, st: dict) -> KeepTogether:
    fig = mask_if(section.figure(ctx), ctx.fig, all_masked_labels(ctx.fig))  # masked when the report is suppressed
    height = int(fig.layout.height or 380)
    png = fig_png(fig, IMAGE_PX, height)
    rows = section.table(ctx)
    w = FRAME_W
    h = w * height / IMAGE_PX
    if h > 9.5 * cm:  # keep two sections a page when possible
        w, h = w * 9.5 * cm / h, 9.5 * cm
    parts = [_p(section.heading, st["h2"]), Image(io.BytesIO(png), width=w, height=h), Spacer(1, 3),
             _table(rows, st, wide=section.wide and len(rows) <= 16), _p("Lecture : " + section.reading(ctx), st["reading"]),
             _p(section.definition, st["note"]), Spacer(1, 14)]
    return KeepTogether(parts)


def _territory(ctx: ReportContext, st: dict) -> list:
    """The Territoire page's map (participants per commune, meeting places) and its table per EPCI."""
    ref = geo.communes_ref()
    epcis = territory.epci_table(ctx.ds, ref)
    if epcis.is_empty():  # said, not silently left out
        return [_p("Territoire : participants par commune", st["h2"]),
                _p("Pas de carte : aucune personne positionnée de la sélection n'a de commune de résidence connue.", st["base"])]
    # a suppressed report: the tables and the map as they may be published (no-op otherwise)
    all_communes, epcis = align_territory(territory.commune_table(ctx.ds, ref), epcis, ctx.fig)
    fig = territory_charts.choropleth(align_map(territory.map_frame(ctx.ds, ref), all_communes, ctx.fig), geo.geojson(),
                                      "participants", territory.meeting_places(ref), height=620)
    h = min(FRAME_W * 620 / IMAGE_PX, 12 * cm)
    rows = [["EPCI", "Population", "Positionnés", "Participants", "Pour 1 000 hab.", "Sorties positives"]]
    rows += [[r["epci"], fmt.number(r["population"]), fmt.number(r["positioned"]),
              fmt.number(r["participants"]), fmt.number(r["per_1000"], 2), fmt.percent(r["positive_exit_rate"])]
             for r in (dict(zip(epcis.columns, row)) for row in rows_of(epcis, ctx.fig))]
    raw = territory.commune_table(ctx.ds, ref)
    lived = raw.filter(pl.col("participants") > 0)["code"].to_list()  # masked counts are null: decide on the raw table
    communes = all_communes.filter(pl.col("code").is_in(lived))
    if communes.is_empty():
        reading = "aucun participant sur la période : la carte montre les personnes positionnées."
    else:
        top = dict(zip(communes.columns, rows_of(communes, ctx.fig)[0]))
        reading = (f"{fmt.number(ctx.fig['participants'])} participants résident dans "
                   f"{fmt.number(communes.height)} communes de {fmt.number(communes['epci'].n_unique())} intercommunalités ; ")
        if is_masked(top["participants"]):
            reading += ("les effectifs par commune sont masqués là où ils concernent moins de "
                        f"{top['participants'].k} personnes ou protègent une petite case voisine (secret statistique) ; "
                        "les communes masquées sont grisées sur la carte.")
        else:
            reading += (f"le plus grand nombre à {top['commune']} ({fmt.number(top['participants'])}, soit "
                        f"{fmt.number(top['per_1000'], 2)} pour 1 000 habitants).")
    return [KeepTogether([
        _p("Territoire : participants par commune", st["h2"]),
        Image(io.BytesIO(fig_png(fig, IMAGE_PX, 620)), width=h * IMAGE_PX / 620, height=h), Spacer(1, 3),
        _table(rows, st, [4.6 * cm] + [(FRAME_W - 4.6 * cm) / 5] * 5), _p("Lecture : " + reading, st["reading"]),
        _p(territory.DEFINITIONS["map"][1] + " " + territory.DEFINITIONS["per_1000"][1] + " Positionnés, participants "
           "et sorties positives : définitions du contrat d'indicateurs ; contours et populations : data/geo/SOURCE.md.",
           st["note"]), Spacer(1, 14)])]


def _esf(ctx: ReportContext, st: dict) -> list:
    rows = [["Code", "Indicateur commun FSE+", "Total", "Femme", "Homme"]]
    for code, label, value in esf_rows(ctx.fig):
        if value is None:
            rows.append([code, label, fmt.NOT_COLLECTED, fmt.NOT_COLLECTED, fmt.NOT_COLLECTED])
        else:
            rows.append([code, label, fmt.number(value["total"]), fmt.number(value["Femme"]), fmt.number(value["Homme"])])
    widths = [1.6 * cm, FRAME_W - 1.6 * cm - 3 * 2.2 * cm, 2.2 * cm, 2.2 * cm, 2.2 * cm]
    return [_p("Indicateurs communs FSE+", st["h2"]),
            _p("Règlement (UE) 2021/1057, annexe I, ventilés par sexe. Réalisation (EECO) : personnes entrées pendant la "
               "période, telles qu'à l'entrée. Résultat (EECR) : sorties de la période. « non collecté » : la colonne "
               "nécessaire manque dans les extraits importés.", st["note"]), Spacer(1, 6),
            _table(rows, st, widths)]


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """`text` cut at a word (with « … ») so that it fits `width` points in `font` at `size`."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    words = text.split(" ")
    while words and pdfmetrics.stringWidth(" ".join(words) + " …", font, size) > width:
        words.pop()
    return " ".join(words) + " …"


class _Footer:
    """A canvas maker that writes « <text> — page n / N » at the foot of every page (two passes)."""

    def __init__(self, text: str):
        self.text = text

    def __call__(self, *args, **kwargs):
        text = self.text

        class NumberedCanvas(canvas.Canvas):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                self._pages = []

            def showPage(self):
                self._pages.append(dict(self.__dict__))
                self._startPage()

            def save(self):
                total = len(self._pages)
                for state in self._pages:
                    self.__dict__.update(state)
                    self.setFont("Vera", 7.5)
                    self.setFillColor(GREY)
                    number = f"page {self._pageNumber} / {total}"
                    # the text stops before the page number, within the margins (cut with « … » if need be)
                    room = FRAME_W - pdfmetrics.stringWidth(number, "Vera", 7.5) - 12
                    self.drawString(MARGIN, 0.9 * cm, fit_text(text, "Vera", 7.5, room))
                    self.drawRightString(PAGE_W - MARGIN, 0.9 * cm, number)
                    self.setStrokeColor(colors.HexColor("#c9d1dd"))
                    self.line(MARGIN, 1.25 * cm, PAGE_W - MARGIN, 1.25 * cm)
                    super().showPage()
                super().save()

        return NumberedCanvas(*args, **kwargs)


# ---------------------------------------------------------------- entry point

def build_pdf_from_context(ctx: ReportContext, out, progress: Progress | None = None) -> int:
    """Write the pack for an already computed selection; returns the number of pages."""
    report = progress or (lambda share, message: None)
    st = _styles()
    story = _cover(ctx, st) + _kpis(ctx, st)
    if ctx.convention is not None and not ctx.convention.is_empty():
        report(0.08, f"Graphique : {CONVENTION.heading}")
        story += [_section(ctx, CONVENTION, st), PageBreak()]
    for i, section in enumerate(SECTIONS):
        report(0.1 + 0.8 * i / len(SECTIONS), f"Graphique {i + 1} / {len(SECTIONS)} : {section.heading}")
        story.append(_section(ctx, section, st))
    report(0.9, "Carte du territoire")
    story += _territory(ctx, st)
    report(0.92, "Mise en page du PDF")
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=1.8 * cm,
                            title=f"{APP_NAME} — pack COPIL — {ctx.period_text}", author=APP_NAME,
                            subject="Comité de pilotage : indicateurs, graphiques et indicateurs FSE+", lang="fr-FR")
    secret = f" · secret statistique (< {ctx.suppress})" if ctx.suppress else ""
    doc.build(story, canvasmaker=_Footer(f"{APP_NAME} · pack COPIL · {ctx.period_text} · {filters_text(ctx.filters)}{secret}"))
    data = buf.getvalue()
    if hasattr(out, "write"):
        out.write(data)
    else:
        Path(out).write_bytes(data)
    report(1.0, "PDF prêt")
    return doc.page


def build_pdf(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, out: str | os.PathLike | io.IOBase,
              progress: Progress | None = None, suppress: int | None = None) -> int:
    """Build the COPIL pack of the selection into `out`; returns the number of pages. With `suppress` (a threshold
    k), every figure, table and chart of it goes through the statistical confidentiality (analytics.diffusion)."""
    if progress:
        progress(0.0, "Calcul des indicateurs")
    ctx = build_context(con, period, filters, previous=True, suppress=suppress)
    return build_pdf_from_context(ctx, out, progress)
