"""Reports built from the indicator engine (no Streamlit): the annual report as XLSX (« Bilan
quantitatif »), the COPIL pack as PDF, indicator tables and the monthly tracking table as CSV.

`write_report(con, period, filters, out)` picks the format from the suffix of `out` (`SUFFIXES`).
Every figure comes from `analytics.indicators` (`compute` and the frame functions); the reports only lay
them out.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = {".xlsx": "bilan quantitatif (Excel)", ".pdf": "pack COPIL (PDF)", ".csv": "tableau de suivi mensuel (CSV)"}


def write_report(con, period, filters, out: str | Path, progress=None, suppress: int | None = None) -> str:
    """Write the report chosen by the suffix of `out`; returns a one-line French summary. With `suppress` (a
    threshold k), the statistical confidentiality of `analytics.diffusion` applies to every figure of it."""
    from analytics.reports.common import build_context

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        from analytics.reports.xlsx import build_xlsx_from_context

        sheets = build_xlsx_from_context(build_context(con, period, filters, suppress=suppress), out)
        return f"Bilan quantitatif écrit dans {out} ({len(sheets)} feuilles)."
    if suffix == ".pdf":
        from analytics.reports.pdf import build_pdf

        pages = build_pdf(con, period, filters, out, progress, suppress=suppress)
        return f"Pack COPIL écrit dans {out} ({pages} pages)."
    if suffix == ".csv":
        from analytics.indicators import dataset
        from analytics.reports.common import build_context
        from analytics.reports.csv import monthly_tracking_csv

        from analytics.indicators import data_date
        from analytics.reports.common import data_date_text
        from analytics.reports.csv import source_line
        from analytics.store import current_import

        if suppress:
            ctx = build_context(con, period, filters, suppress=suppress)
            body = monthly_tracking_csv(ctx.ds, ctx.fig)
        else:
            body = monthly_tracking_csv(dataset(con, period, filters))
        # the last line states the data date and the import the table was computed on, as the PDF and XLSX do
        out.write_bytes(body + source_line(data_date_text(data_date(con), current_import(con))))
        return f"Tableau de suivi mensuel écrit dans {out}."
    raise ValueError(suffix)


__all__ = ["SUFFIXES", "write_report"]
