"""The annual report's tables as an Excel workbook (« Bilan quantitatif »), with xlsxwriter.

    build_xlsx(con, period, filters, out)

One sheet per table of the annual report (the 2023 report's order), plus « Suivi mensuel » (the monthly
tracking table sent to the Département) and « FSE+ » (the ESF+ common indicators by sex). Every sheet
starts with the action, the period, the filters and the date of the data. Counts are numbers, shares
are numbers in a percent format, totals are the engine's population figures written as numbers (no
formulas: any reader, openpyxl included, gets the values).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import duckdb
import xlsxwriter

from analytics import fmt
from analytics.config import objective_for
from analytics.definitions import help_text
from analytics.indicators import Filters, Period
from analytics.diffusion import coarsen_caseload, coarsen_tracking, rows_of
from analytics.reports.common import (APP_NAME, ReportContext, build_context, education_label, esf_rows, month_title,
                                      monthly_tracking, monthly_tracking_headers)
from analytics.charts.convention import year_label
from analytics.indicators.caseload import caseload_frame
from analytics.indicators.series import CONVENTION_COLUMNS
from analytics.reports.sections import forecast_rows, immersion_frame

HEADER_ROWS = 5  # title, scope, period, filters, data date
FIRST_TABLE_ROW = HEADER_ROWS + 1

# sheet names (also used by the tests and the README)
SHEETS = {
    "summary": "Synthèse",
    "prescriptions": "Prescriptions et statut",
    "age": "Tranches d'âge",
    "sex": "Sexe",
    "education": "Niveau de formation",
    "barriers": "Freins",
    "household": "Situation familiale",
    "exits": "Motifs de sortie",
    "contracts": "Contrats (sorties emploi)",
    "trainings": "Formations (sorties formation)",
    "next_steps": "Suites après fin de suivi",
    "immersions": "Immersions",
    "caseload": "File active",
    "monthly": "Suivi mensuel",
    "esf": "FSE+",
    "convention": "Convention",
}


class _Book:
    """A workbook with the report's formats and a table writer."""

    def __init__(self, target, ctx: ReportContext):
        self.ctx = ctx
        self.wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
        self.wb.set_properties({"title": "Bilan quantitatif", "subject": f"{APP_NAME} — {ctx.period_text}",
                                "author": APP_NAME, "comments": "Produit par le moteur d'indicateurs du tableau de bord"})
        f = self.wb.add_format
        border = {"border": 1, "border_color": "#c9d1dd", "valign": "vcenter"}
        self.f = {
            "title": f({"bold": True, "font_size": 14, "font_color": "#1f5fa8"}),
            "meta": f({"italic": True, "font_color": "#5b6472"}),
            "head": f({**border, "bold": True, "font_color": "white", "bg_color": "#1f5fa8", "text_wrap": True}),
            "section": f({"bold": True, "font_size": 11.5, "font_color": "#1f5fa8"}),
            "text": f({**border}),
            "int": f({**border, "num_format": "#,##0"}),
            "pct": f({**border, "num_format": "0.0%"}),
            "dec2": f({**border, "num_format": "#,##0.00"}),
            "missing": f({**border, "italic": True, "font_color": "#8a94a6", "align": "right"}),
            "note": f({"italic": True, "font_color": "#5b6472", "font_size": 9}),
        }
        for kind in ("text", "int", "pct", "dec2", "missing"):
            props = {**border, "bold": True, "top": 2, "top_color": "#1f5fa8", "bg_color": "#eef2f8"}
            props.update({"text": {}, "int": {"num_format": "#,##0"}, "pct": {"num_format": "0.0%"},
                          "dec2": {"num_format": "#,##0.00"}, "missing": {"italic": True, "align": "right"}}[kind])
            self.f["total_" + kind] = f(props)
        self.names: list[str] = []

    def sheet(self, name: str, title: str, widths: list[float]):
        ws = self.wb.add_worksheet(name)
        self.names.append(name)
        ws.write(0, 0, f"Bilan quantitatif — {title}", self.f["title"])
        for i, line in enumerate(self.ctx.header_lines(), start=1):
            ws.write(i, 0, line, self.f["meta"])
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, HEADER_ROWS - 1)
        return ws

    def table(self, ws, row: int, headers: list[str], rows: list[list], kinds: list[str], total: list | None = None,
              note: str | None = None, section: str | None = None) -> int:
        """Write a table from `row`; `kinds` per column: text, int, pct, dec2 (a cell given as `(value, kind)` has its
        own). None → « – ». Returns the next free row."""
        if section:
            ws.write(row, 0, section, self.f["section"])
            row += 1
        ws.write_row(row, 0, headers, self.f["head"])
        row += 1
        for values, is_total in [(r, False) for r in rows] + ([(total, True)] if total else []):
            for col, (value, kind) in enumerate(zip(values, kinds)):
                if isinstance(value, tuple):
                    value, kind = value
                prefix = "total_" if is_total else ""
                if value is None:
                    ws.write_string(row, col, fmt.MISSING if kind != "text" else "", self.f[prefix + "missing"])
                elif isinstance(value, str):
                    ws.write_string(row, col, value, self.f[prefix + ("text" if kind == "text" else "missing")])
                else:
                    ws.write_number(row, col, value, self.f[prefix + kind])
            row += 1
        if note:
            ws.write(row, 0, note, self.f["note"])
            row += 1
        return row + 1

    def close(self) -> None:
        self.wb.close()


def _share(n: int | None, total: int | None) -> float | str | None:
    if isinstance(n, str) or isinstance(total, str):  # a masked count (analytics.diffusion): so is its share
        return fmt.MASKED_RATE
    return None if n is None or not total else n / total


def _counts(mapping: dict, total: int | None, labels=str) -> list[list]:
    return [[labels(k), v, _share(v, total)] for k, v in mapping.items()]


# ---------------------------------------------------------------- sheets

def _summary(book: _Book) -> None:
    f = book.ctx.fig
    ws = book.sheet(SHEETS["summary"], "synthèse", [52, 16])
    delay, app = f["first_appointment_delay_days"], f["appointments"]
    rows = [
        ["Positionnés", f["positioned"], "int"], ["Participants (suivis)", f["participants"], "int"],
        ["Entrées", f["entries"], "int"], ["Sorties", f["exits"], "int"],
        ["Sorties positives (emploi ou formation)", f["positive_exits"], "int"],
        ["Taux de sorties positives", f["positive_exit_rate"], "pct"],
        ["Présents en fin de période", f["active_at_end"], "int"],
        ["File active moyenne", f["average_caseload"], "dec2"], ["Objectif de file active", f["caseload_target"], "int"],
        ["Sortants ayant réalisé au moins une immersion", f["exits_with_immersion"], "int"],
        ["Immersions commencées sur la période", f["immersions"]["count"], "int"],
        ["Rendez-vous planifiés", app["planned"], "int"], ["Rendez-vous honorés", app["attended"], "int"],
        ["Taux de présence aux rendez-vous", app["attendance_rate"], "pct"],
        ["Délai médian jusqu'au 1er rendez-vous (jours)", delay["median"], "dec2" if (delay["median"] or 0) % 1 else "int"],
        ["Part des 1ers rendez-vous dans les 7 jours", delay["within_7_days_rate"], "pct"],
        ["Part des sortants avec un suivi post-sortie", f["post_exit_follow_up_rate"], "pct"],
    ]
    row = FIRST_TABLE_ROW
    ws.write_row(row, 0, ["Indicateur", "Valeur"], book.f["head"])
    for i, (label, value, kind) in enumerate(rows, start=row + 1):
        ws.write_string(i, 0, label, book.f["text"])
        if value is None:
            ws.write_string(i, 1, fmt.MISSING, book.f["missing"])
        elif isinstance(value, str):  # masked (analytics.diffusion)
            ws.write_string(i, 1, value if kind != "pct" else fmt.MASKED_RATE, book.f["missing"])
        else:
            ws.write_number(i, 1, value, book.f[kind])
    row += len(rows) + 2
    ws.write(row, 0, "Feuilles du classeur", book.f["section"])
    for i, name in enumerate(list(SHEETS.values())[1:], start=row + 1):
        ws.write_url(i, 0, f"internal:'{name}'!A1", string=name)


def _prescriptions(book: _Book) -> None:
    f = book.ctx.fig
    ws = book.sheet(SHEETS["prescriptions"], "prescriptions et statut du public", [44, 16, 12])
    row = book.table(ws, FIRST_TABLE_ROW, ["Personnes positionnées", "Personnes", "Part"],
                     [["Participants", f["participants"], _share(f["participants"], f["positioned"])]]
                     + _counts(f["not_entered"], f["positioned"]),
                     ["text", "int", "pct"], ["Positionnés", f["positioned"], _share(f["positioned"], f["positioned"])],
                     note="Participants : " + help_text("participants").split(" : ", 1)[-1] + " Non-entrées : "
                     + help_text("not_entered").split(" : ", 1)[-1], section="Positionnés sur l'action")
    row = book.table(ws, row, ["Prescripteur", "Positionnés", "Part"], _counts(f["prescriber"], f["positioned"]),
                     ["text", "int", "pct"], ["Total des prescriptions", f["positioned"], _share(f["positioned"], f["positioned"])],
                     note=help_text("prescriber"), section="Prescripteurs")
    book.table(ws, row, ["Statut", "Participants", "Part"], _counts(f["status"], f["participants"]), ["text", "int", "pct"],
               ["Total", f["participants"], _share(f["participants"], f["participants"])], note=help_text("status"),
               section="Statut du public")


def _breakdown(book: _Book, sheet: str, title: str, key: str, head: str, labels=str) -> None:
    f = book.ctx.fig
    n = f["participants"]
    ws = book.sheet(SHEETS[sheet], title, [44, 16, 12])
    book.table(ws, FIRST_TABLE_ROW, [head, "Participants", "Part"], _counts(f[key], n, labels), ["text", "int", "pct"],
               ["Total", n, _share(n, n)], note=help_text(key))


def _barriers(book: _Book) -> None:
    f = book.ctx.fig
    n = f["participants"]
    primary, any_ = f["primary_barrier"], f["barrier_any"]
    keys = list(any_) + [k for k in primary if k not in any_]
    ws = book.sheet(SHEETS["barriers"], "problématiques rencontrées (freins)", [40, 16, 12, 22, 14])
    rows = [[k, primary.get(k, 0), _share(primary.get(k, 0), n), any_.get(k, 0), _share(any_.get(k, 0), n)] for k in keys]
    book.table(ws, FIRST_TABLE_ROW, ["Frein", "Frein principal", "Part", "Principal ou secondaire", "Part des participants"],
               rows, ["text", "int", "pct", "int", "pct"], ["Total (participants)", n, _share(n, n), None, None],
               note=help_text("primary_barrier") + " " + help_text("barrier_any"))


def _exits(book: _Book) -> None:
    f = book.ctx.fig
    ws = book.sheet(SHEETS["exits"], "suites de parcours : motifs de sortie", [48, 16, 12])
    row = book.table(ws, FIRST_TABLE_ROW, ["Motif de sortie", "Sorties", "Part"], _counts(f["exit_reason"], f["exits"]),
                     ["text", "int", "pct"], ["Total des sorties", f["exits"], _share(f["exits"], f["exits"])],
                     note=help_text("exit_reason"))
    row = book.table(ws, row, ["Indicateur", "Valeur"], [
        ["Sorties positives (emploi ou formation)", f["positive_exits"]],
        ["Taux de sorties positives", (f["positive_exit_rate"], "pct")],
        ["Présents en fin de période", f["active_at_end"]],
        ["Part des sortants avec un suivi post-sortie", (f["post_exit_follow_up_rate"], "pct")],
    ], ["text", "int"], note=help_text("positive_exit_rate") + " " + help_text("active_at_end"),
        section="Sorties positives et présents en fin de période")
    row = book.table(ws, row, ["Catégorie de sortie", "Sorties", "Part"], _counts(f["exit_category"], f["exits"]),
                     ["text", "int", "pct"], ["Total (sorties)", f["exits"], _share(f["exits"], f["exits"])],
                     note=help_text("exit_category"), section="Catégories de sortie (sorties dynamiques)")
    t = f["time_to_exit"]
    book.table(ws, row, ["Indicateur", "Valeur"], [
        ["Personnes entrées sur la période (cohorte)", t["cohort"]],
        ["dont sorties avant la fin de la période", t["events"]],
        ["Durée médiane dans l'action (jours)", t["median_days"]],
        *[[f"Encore dans l'action {days} jours après l'entrée", (share, "pct")] for days, share in t["survival"].items()],
    ], ["text", "int"], note=help_text("time_to_exit"), section="Durée dans l'action (Kaplan-Meier)")


def _detail(book: _Book, sheet: str, title: str, reason: str, head: str, total_label: str) -> None:
    f = book.ctx.fig
    n = f["exit_reason"].get(reason, 0)
    ws = book.sheet(SHEETS[sheet], title, [44, 16, 12])
    book.table(ws, FIRST_TABLE_ROW, [head, "Sorties", "Part"], _counts(f["exit_detail"].get(reason, {}), n),
               ["text", "int", "pct"], [total_label, n, _share(n, n)], note=help_text("exit_detail"))


def _immersions(book: _Book) -> None:
    f = book.ctx.fig
    imm = f["immersions"]
    ws = book.sheet(SHEETS["immersions"], "immersions en entreprise (PMSMP)", [52, 16, 16, 12])
    row = book.table(ws, FIRST_TABLE_ROW, ["Immersions (PMSMP)", "Nombre", "Part"], [
        ["Sortants de la période", f["exits"], ""],
        ["Sortants ayant réalisé au moins une immersion", f["exits_with_immersion"], _share(f["exits_with_immersion"], f["exits"])],
        ["dont deux immersions ou plus", f["exits_with_two_or_more_immersions"],
         _share(f["exits_with_two_or_more_immersions"], f["exits"])],
        ["Immersions commencées sur la période", imm["count"], ""],
        ["Immersions ayant débouché sur un contrat", imm["led_to_contract"], _share(imm["led_to_contract"], imm["count"])],
    ], ["text", "int", "pct"], note=help_text("exits_with_immersion") + " " + help_text("immersions"))
    by_reason = immersion_frame(book.ctx)  # aligned on the suppressed figures when the workbook is suppressed
    if by_reason.height:
        wide = by_reason.pivot("immersion", index="motif_sortie", values="n")
        cols = [c for c in wide.columns if c != "motif_sortie"]
        book.table(ws, row, ["Motif de sortie"] + cols, [list(r) for r in rows_of(wide.select("motif_sortie", *cols), book.ctx.fig)],
                   ["text"] + ["int"] * len(cols), note=help_text("exits_by_immersion"),
                   section="Sorties avec ou sans immersion, par motif")


def _caseload(book: _Book) -> None:
    f = book.ctx.fig
    ws = book.sheet(SHEETS["caseload"], "file active mensuelle", [30, 16, 16])
    objective = objective_for(book.ctx.filters)  # not compared under a commune / EPCI / prescriber filter
    target = objective.target
    # diffusion mode: grouped by quarter as soon as a month would be masked (analytics.diffusion.coarsen_monthly)
    done = coarsen_caseload(caseload_frame(book.ctx.ds).select("month", "caseload"), f)
    if done.quarterly:
        rows = [[month_title(q), (n, "dec2"), target] for q, n in rows_of(done.frame, f)]
    else:
        rows = [[month_title(m), n, target] for m, n in f["monthly_caseload"].items()]
    heads = ["Trimestre", "File active moyenne", "Objectif"] if done.quarterly else ["Mois", "File active", "Objectif"]
    row = book.table(ws, FIRST_TABLE_ROW, heads, rows, ["text", "int", "int"],
                     ["Moyenne", (f["average_caseload"], "dec2"), target],
                     note=(f"{done.note} " if done.note else "") + help_text("monthly_caseload"))
    row = book.table(ws, row, ["Indicateur", "Valeur"], [["Objectif de la convention", f["caseload_target"]]], ["text", "int"],
                     note=help_text("caseload_target") + (f" {objective.note}" if objective.note else ""))
    if book.ctx.forecast is not None:
        forecast, _, past = book.ctx.forecast
        rows = [[month_title(m), (e, "dec2"), lo, hi, (err, "dec2"), n, p] for m, e, lo, hi, err, n, p in forecast_rows(forecast, past)]
        book.table(ws, row, ["Mois prévu", "File active prévue", "Bas (80 %)", "Haut (80 %)", "Erreur moyenne passée",
                             "Entrées nécessaires", "Prescriptions nécessaires"], rows,
                   ["text", "dec2", "int", "int", "dec2", "int", "int"],
                   note=help_text("projection") + " " + help_text("entries_needed") + " " + help_text("prescriptions_needed")
                   + " " + help_text("projection_backtest"),
                   section=f"Prévision faite le {fmt.day(forecast['at'])}")


def _convention(book: _Book) -> None:
    frame = book.ctx.convention
    ws = book.sheet(SHEETS["convention"], "les années de la convention", [44] + [14] * 8)
    if frame is None or frame.is_empty():
        ws.write(FIRST_TABLE_ROW, 0, "Aucune donnée dans la base.", book.f["note"])
        return
    heads = [year_label(y, p, t) for y, p, t in frame.select("year", "partial", "through").iter_rows()]
    rows = [[label] + [(v, "pct" if kind == "pct" else "dec2" if kind == "dec" else "int") for v in frame[column].to_list()]
            for column, (label, kind) in CONVENTION_COLUMNS.items()]
    book.table(ws, FIRST_TABLE_ROW, ["Indicateur", *heads], rows, ["text"] + ["int"] * len(heads),
               note=help_text("convention_years"))


def _monthly(book: _Book) -> None:
    ctx, f = book.ctx, book.ctx.fig
    raw = monthly_tracking(ctx.ds)
    # as published when the workbook is suppressed (grouped by quarter as soon as a month would be masked); unchanged
    # otherwise
    done = coarsen_tracking(raw, f)
    frame, published = done.frame, done.totals
    headers = monthly_tracking_headers(frame, quarterly=done.quarterly)
    ws = book.sheet(SHEETS["monthly"], "tableau de suivi mensuel", [18] + [13] * (frame.width - 1))
    rows = [[month_title(r[0])] + [(r[1], "dec2") if done.quarterly else r[1]] + list(r[2:]) for r in rows_of(frame, f)]
    sums = {col: published.get(col, int(raw[col].sum())) for col in ("held", "missed", "excused", "unexcused")}
    total = []
    for col in frame.columns:
        if col == "month":
            total.append("Total / moyenne")
        elif col == "caseload":
            total.append((f["average_caseload"], "dec2"))
        elif col == "entries":
            total.append(f["entries"])
        elif col == "exits":
            total.append(f["exits"])
        elif col.startswith("exit:"):
            total.append(f["exit_reason"].get(col.split(":", 1)[1], 0))
        elif col == "held":
            total.append(f["appointments"]["attended"])
        else:
            total.append(sums[col])
    kinds = ["text"] + ["int"] * (frame.width - 1)
    ws.set_row(FIRST_TABLE_ROW, 45)
    book.table(ws, FIRST_TABLE_ROW, [headers[c] for c in frame.columns], rows, kinds, total,
               note=(f"{done.note} Par trimestre, la file active est la moyenne des mois. " if done.note else "")
               + "File active : " + help_text("monthly_caseload") + " Ligne « Total / moyenne » : file active moyenne, "
               "totaux de la période pour les autres colonnes. Rendez-vous : " + help_text("appointments"))
    ws.freeze_panes(FIRST_TABLE_ROW + 1, 1)


def _esf(book: _Book) -> None:
    ws = book.sheet(SHEETS["esf"], "indicateurs communs FSE+ (règlement (UE) 2021/1057, annexe I)", [10, 62, 14, 14, 14])
    rows = []
    for code, label, value in esf_rows(book.ctx.fig):
        if value is None:
            rows.append([code, label, fmt.NOT_COLLECTED, fmt.NOT_COLLECTED, fmt.NOT_COLLECTED])
        else:
            rows.append([code, label, value["total"], value["Femme"], value["Homme"]])
    book.table(ws, FIRST_TABLE_ROW, ["Code", "Indicateur", "Total", "Femme", "Homme"], rows, ["text", "text", "int", "int", "int"],
               note=help_text("esf") + " « non collecté » : la colonne nécessaire manque dans les extraits importés "
               "(jamais compté comme 0).")


def build_xlsx_from_context(ctx: ReportContext, out) -> list[str]:
    """Write the workbook of an already computed selection; returns the sheet names."""
    buf = io.BytesIO()
    book = _Book(buf, ctx)
    _summary(book)
    _prescriptions(book)
    _breakdown(book, "age", "tranches d'âge", "age_band", "Tranche d'âge")
    _breakdown(book, "sex", "répartition par sexe", "sex", "Sexe")
    _breakdown(book, "education", "niveau de formation", "education_level", "Niveau de formation", education_label)
    _barriers(book)
    _breakdown(book, "household", "situation du foyer", "household", "Situation familiale")
    _exits(book)
    _detail(book, "contracts", "sorties pour emploi par contrat", "Emploi", "Contrat", "Sorties pour emploi")
    _detail(book, "trainings", "sorties pour formation par type", "Formation", "Type de formation", "Sorties pour formation")
    _detail(book, "next_steps", "préconisations après une fin de suivi", "Fin de suivi", "Suite de parcours préconisée",
            "Fins de suivi")
    _immersions(book)
    _caseload(book)
    _monthly(book)
    _esf(book)
    _convention(book)
    book.close()
    data = buf.getvalue()
    if hasattr(out, "write"):
        out.write(data)
    else:
        Path(out).write_bytes(data)
    return book.names


def build_xlsx(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, out: str | os.PathLike | io.IOBase,
               suppress: int | None = None) -> list[str]:
    """Build the « Bilan quantitatif » workbook of the selection into `out` (path or binary file); returns the sheet names.
    With `suppress` (a threshold k), the statistical confidentiality of analytics.diffusion applies to every cell."""
    return build_xlsx_from_context(build_context(con, period, filters, suppress=suppress), out)
