"""Indicator tables as CSV for analysts, the way French Excel opens them without an import wizard:
UTF-8 with a BOM (accents), `;` as separator, decimal comma, French headers, CRLF line ends.

    indicator_table_csv(figure_key, data)  # one figure of `compute` → bytes
    monthly_tracking_csv(ds)               # the monthly tracking table → bytes
"""

from __future__ import annotations

import csv
import io

import polars as pl

from analytics import fmt
from analytics.definitions import DEFINITIONS
from analytics.indicators import Dataset
from analytics.reports.common import education_label, esf_rows, monthly_tracking, monthly_tracking_headers

BOM = "\ufeff"

# category head and unit of each {label: count} figure
COUNT_TABLES: dict[str, tuple[str, str]] = {
    "not_entered": ("Motif de non-entrée", "Personnes"),
    "prescriber": ("Prescripteur", "Positionnés"),
    "sex": ("Sexe", "Participants"),
    "age_band": ("Tranche d'âge", "Participants"),
    "education_level": ("Niveau de formation", "Participants"),
    "status": ("Statut", "Participants"),
    "household": ("Situation familiale", "Participants"),
    "primary_barrier": ("Frein principal", "Participants"),
    "barrier_any": ("Frein (principal ou secondaire)", "Participants"),
    "commune": ("Commune", "Participants"),
    "exit_reason": ("Motif de sortie", "Sorties"),
    "monthly_caseload": ("Mois", "File active"),
}
# every figure that `indicator_table_csv` writes as a table, with its French title (for download lists)
TABLES: dict[str, str] = {key: DEFINITIONS[key].label for key in [*COUNT_TABLES, "exit_detail", "esf"]}


def _cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return str(value).replace(".", ",") if not value.is_integer() else str(int(value))
    return value


def _encode(rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return (BOM + buf.getvalue()).encode("utf-8")


def source_line(text: str) -> bytes:
    """A closing line (after an empty one) stating where the table comes from, e.g. the import it was computed on."""
    return _encode([[], [text[0].upper() + text[1:]]])[len(BOM.encode("utf-8")):]


def indicator_table_csv(figure_key: str, data) -> bytes:
    """A figure of the engine (`compute(ds)[figure_key]`) as a CSV table.

    {label: count} tables (and `monthly_caseload`) give two columns; `exit_detail` three (reason, detail,
    exits); `esf` one row per indicator with its total, Femme and Homme (« non collecté » when null); any
    other figure (a number, or a flat dict of numbers) an « Indicateur ; Valeur » list.
    """
    if figure_key == "esf":
        rows = [["Code", "Indicateur", "Total", "Femme", "Homme"]]
        for code, label, value in esf_rows({"esf": data}):
            cells = [fmt.NOT_COLLECTED] * 3 if value is None else [value["total"], value["Femme"], value["Homme"]]
            rows.append([code, label, *cells])
        return _encode(rows)
    if figure_key == "exit_detail":
        rows = [["Motif de sortie", "Détail", "Sorties"]]
        rows += [[reason, detail, n] for reason, details in data.items() for detail, n in details.items()]
        return _encode(rows)
    if figure_key in COUNT_TABLES:
        head, unit = COUNT_TABLES[figure_key]
        if figure_key == "education_level":
            return _encode([[head, "Libellé", unit]] + [[k, education_label(k), v] for k, v in data.items()])
        return _encode([[head, unit]] + [[k, v] for k, v in data.items()])
    label = DEFINITIONS[figure_key].label if figure_key in DEFINITIONS else figure_key
    if isinstance(data, dict):
        rows = [["Indicateur", "Valeur"]]
        for key, value in data.items():
            if isinstance(value, dict):  # e.g. appointments.by_modality
                rows += [[f"{label} – {key} – {k}", v] for k, v in value.items()]
            else:
                rows.append([f"{label} – {key}", value])
        return _encode(rows)
    return _encode([["Indicateur", "Valeur"], [label, data]])


def frame_csv(frame: pl.DataFrame, headers: dict[str, str] | None = None) -> bytes:
    """A frame as CSV, its columns renamed by `headers`."""
    headers = headers or {}
    return _encode([[headers.get(c, c) for c in frame.columns]] + [list(r) for r in frame.iter_rows()])


def monthly_tracking_csv(ds: Dataset, fig: dict | None = None) -> bytes:
    """The monthly tracking table (caseload, entries, exits by reason, appointments held and missed); with the
    suppressed figures `fig` of the same selection, as it may be published (« < k », analytics.diffusion): grouped
    by quarter as soon as a month would be masked, said in a line after the table (`coarsen_tracking`)."""
    from analytics.diffusion import coarsen_tracking, rows_of

    frame = monthly_tracking(ds)
    done = coarsen_tracking(frame, fig)
    headers = monthly_tracking_headers(frame, quarterly=done.quarterly)
    rows = [[headers.get(c, c) for c in frame.columns]]
    if done.quarterly:  # « 2023-T1 » → « T1 2023 », the caseload (mean of the months) with two decimals
        rows += [[fmt.month_label(r[0]), None if r[1] is None else r[1] if isinstance(r[1], str) else round(r[1], 2), *r[2:]]
                 for r in rows_of(done.frame, fig)]
        return _encode(rows) + source_line(done.note)
    return _encode(rows + [list(r) for r in rows_of(done.frame, fig)])
