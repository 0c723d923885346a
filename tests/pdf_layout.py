"""Text positions of a PDF (pypdf's text visitor) and the layout faults they show: text outside the margins,
under the footer line, or overlapping another line of text."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics


@dataclass
class Run:
    page: int
    text: str
    x: float
    y: float  # baseline
    width: float
    size: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:  # descenders
        return self.y - 0.22 * self.size

    @property
    def top(self) -> float:
        return self.y + 0.8 * self.size


def _mul(a, b):
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def _width(text: str, font: str, size: float) -> float:
    name = font.split("+")[-1].lstrip("/")
    try:
        return pdfmetrics.stringWidth(text, name, size)
    except KeyError:
        return pdfmetrics.stringWidth(text, "Helvetica", size)


def text_runs(data: bytes) -> list[Run]:
    """Every piece of text of every page, with its position and width in points (origin bottom left)."""
    from analytics.reports.pdf import _fonts

    _fonts()  # the metrics of the embedded Vera fonts
    runs: list[Run] = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages, start=1):
        def visit(text, cm, tm, font, size, number=number):
            if not text.strip():
                return
            m = _mul(tm, cm)
            scale = (m[0] ** 2 + m[1] ** 2) ** 0.5
            base = font.get("/BaseFont", "Helvetica") if font else "Helvetica"
            for line in text.split("\n"):
                if line.strip():
                    runs.append(Run(number, line, m[4], m[5], _width(line.rstrip(), str(base), size * scale), size * scale))

        page.extract_text(visitor_text=visit)
    return runs


def layout_faults(data: bytes, page_w: float, page_h: float, margin: float, footer_line: float,
                  footer_texts: tuple[str, ...]) -> list[str]:
    """Text beyond the left/right/top margins, body text reaching the footer line, footer text running past the
    margins (a tolerance of 1 pt)."""
    faults = []
    for r in text_runs(data):
        where = f"p. {r.page} « {r.text[:50]} » x={r.x:.1f}..{r.right:.1f} y={r.y:.1f}"
        if r.x < margin - 1 or r.right > page_w - margin + 1:
            faults.append("hors marge latérale : " + where)
        if r.top > page_h - margin + 1:
            faults.append("hors marge haute : " + where)
        is_footer = r.y < footer_line
        if is_footer and not r.text.startswith(footer_texts):
            faults.append("texte sous le pied de page : " + where)
        if not is_footer and r.bottom < footer_line + 1:
            faults.append("texte sur la ligne du pied de page : " + where)
    return faults


def overlaps(data: bytes) -> list[str]:
    """Pieces of text of one page whose boxes intersect (one printed over the other)."""
    faults = []
    runs = text_runs(data)
    by_page: dict[int, list[Run]] = {}
    for r in runs:
        by_page.setdefault(r.page, []).append(r)
    for page, items in by_page.items():
        items.sort(key=lambda r: (-r.y, r.x))
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                if b.top < a.bottom:  # sorted by baseline: the next ones are lower still, but sizes vary
                    continue
                if min(a.right, b.right) - max(a.x, b.x) > 1 and min(a.top, b.top) - max(a.bottom, b.bottom) > 0.3 * min(a.size, b.size):
                    faults.append(f"p. {page} « {a.text[:40]} » chevauche « {b.text[:40]} »")
    return faults
