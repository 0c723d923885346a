"""What every report shares: the figures of a selection, its description in French, and the tables
drawn from the indicator engine.

A report never computes a figure: it reads `compute(ds)` (FIGURES) and the engine's frame functions,
then only lays them out (labels, order, formats). The shares printed beside a count are that count
divided by the engine's population figure for the table (participants, positioned, exits…).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from analytics import fmt
from analytics import schema as S
from analytics.indicators import Dataset, Filters, Period, compute, data_date, dataset
from analytics.indicators.activity import appointments_by_month_presence
from analytics.indicators.caseload import caseload_frame, monthly_exits_by_reason, monthly_flows
from analytics.store import current_import, query

APP_NAME = "Coaching Emploi"
FILTER_NAMES = (("territory", "Territoire"), ("action", "Action"), ("epci", "EPCI"), ("commune", "Commune"),
                ("prescriber", "Prescripteur"))


class ReportError(Exception):
    """A report could not be produced (one French line for the user)."""


@dataclass
class ReportContext:
    """The selection of a report and everything computed for it, once."""

    period: Period
    filters: Filters
    ds: Dataset
    fig: dict
    data_date: date | None = None
    territories: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    previous_ds: Dataset | None = None
    previous_fig: dict | None = None
    suppress: int | None = None  # statistical confidentiality threshold (analytics.diffusion), None: raw figures
    convention: pl.DataFrame | None = None  # the years of the convention side by side (analytics.indicators.series)
    source_import: dict | None = None  # the import the figures were computed on (`store.current_import`)
    forecast: tuple | None = None  # (projection, frame to draw, backtest) made at the end of the period (or the data date)
    typology: dict | None = None  # analytics.typology.outcomes.report_view: the outcomes by type of the selection

    # ---------------------------------------------------------------- the selection in words
    @property
    def period_text(self) -> str:
        p = self.period
        label = fmt.period_text(p)
        if label.startswith("année") and not p.clipped:
            return f"{label.capitalize()} (du {fmt.day(p.start)} au {fmt.day(p.end)})"
        return label[0].upper() + label[1:]

    @property
    def filters_text(self) -> str:
        text = filters_text(self.filters)
        if self.suppress:
            text += (f" — secret statistique : effectifs inférieurs à {self.suppress} masqués (« < {self.suppress} »), "
                     "avec secret secondaire")
        return text

    @property
    def scope_text(self) -> str:
        # the filtered territories/actions, else those of the persons selected, else the convention's
        actions = ", ".join(self.filters.action or self.actions) or S.DEFAULT_ACTION
        territories = ", ".join(self.filters.territory or self.territories) or S.DEFAULT_TERRITORY
        return f"Action : {actions} · Territoire : {territories}"

    @property
    def data_date_text(self) -> str:
        return data_date_text(self.data_date, self.source_import)

    def header_lines(self) -> list[str]:
        return [self.scope_text, f"Période : {self.period_text}", f"Filtres : {self.filters_text}", self.data_date_text]

    @property
    def slug(self) -> str:
        return selection_slug(self.period, self.filters)


def selection_slug(period: Period, filters: Filters) -> str:
    """A file-name fragment for a selection: `2023`, `2023-01-15_2023-03-10`, with `-filtre` if filtered."""
    p = period.requested if getattr(period, "clipped", False) else period
    is_year = (p.start.month, p.start.day, p.end.month, p.end.day) == (1, 1, 12, 31) and p.start.year == p.end.year
    base = str(p.start.year) if is_year else f"{p.start.isoformat()}_{p.end.isoformat()}"
    if p is not period:
        base += f"-au-{period.end.isoformat()}"
    return base + ("" if filters.is_empty() else "-filtre")


def data_date_text(day: date | None, source_import: dict | None) -> str:
    """« Données au JJ/MM/AAAA (date la plus récente de la base) · calculé sur l'import n° N … »: the statement of
    what a report reflects, the same in the PDF's cover, the XLSX's header and the CSV's closing line."""
    if day is None:
        return "Données : base vide"
    return f"Données au {fmt.day(day)} (date la plus récente de la base) · {import_text(source_import)}"


def import_text(source_import: dict | None) -> str:
    """« calculé sur l'import n° N du JJ/MM/AAAA » : which state of the store a report reflects (`--as-of N`
    gives the same figures back, whatever was imported since)."""
    if not source_import:
        return "calculé sur une base sans import"
    when = source_import.get("imported_at")
    day = f" du {fmt.day(when.date() if isinstance(when, datetime) else when)}" if when else ""
    return f"calculé sur l'import n° {source_import['import_id']}{day} ({source_import.get('file_name') or '?'})"


def report_file_name(stem: str, period: Period, filters: Filters, suppress: int | None, suffix: str) -> str:
    """The name of an exported file: `pack-copil-2023.pdf` with the complete figures, `pack-copil-2023-diffusion.pdf`
    when the statistical confidentiality applies (the two files of one selection never share a name)."""
    return f"{stem}-{selection_slug(period, filters)}{'-diffusion' if suppress else ''}{suffix}"


def filters_text(filters: Filters) -> str:
    parts = [f"{name} : {', '.join(getattr(filters, attr))}" for attr, name in FILTER_NAMES if getattr(filters, attr, ())]
    return " ; ".join(parts) or "aucun (toutes les personnes)"


def first_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The earliest prescription or entry date of the store: the convention's years start with its year."""
    value = query(con, "SELECT min(least(date_prescription, coalesce(date_entree, date_prescription))) AS d FROM participants")["d"][0]
    return value.date() if isinstance(value, datetime) else value


def convention_years(con: duckdb.DuckDBPyConnection, filters: Filters, transform=None) -> pl.DataFrame | None:
    """The years of the convention side by side (1 January of the first year with data to the data date), each year
    computed exactly as a call on it alone; `transform(figures, period)`: e.g. the diffusion mode's suppression."""
    from analytics.indicators.series import convention_frame, series, years_of

    first, last = first_date(con), data_date(con)
    if first is None or last is None:
        return None
    span = years_of(first, last)
    return convention_frame(series(con, span, filters, "year", transform)["series"], span)


def forecast_of(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters, suppress: int | None = None,
                months: int = 6) -> tuple | None:
    """The caseload projection made at the end of the period (or at the data date when it is earlier), its frame to
    draw and its backtest (`analytics.indicators.projection`); None on an empty store, or when the diffusion mode
    forbids it (built on fewer than k persons)."""
    from analytics.config import caseload_target_for
    from analytics.indicators.projection import backtest, basis_too_small, forecast_frame, load_persons, project

    last = data_date(con)
    if last is None:
        return None
    at = min(period.end, last)
    persons = load_persons(con, filters)
    target = caseload_target_for(filters)
    forecast = project(persons, at, months, target)
    if basis_too_small(forecast, suppress):
        return None
    return forecast, forecast_frame(persons, forecast), backtest(persons, at, months, target=target)


def scope(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[list[str], list[str]]:
    """Territories and actions of the persons the filters select."""
    where, params = filters.sql("p")
    df = query(con, f"SELECT DISTINCT territoire, action FROM participants p WHERE {where}", params)
    return sorted({t for t in df["territoire"] if t}), sorted({a for a in df["action"] if a})


def build_context(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(),
                  previous: bool = False, suppress: int | None = None) -> ReportContext:
    """Load the selection once and compute every figure of the contract (and, if asked, the previous period's).

    With `suppress` (a threshold k, see `analytics.diffusion`), the figures are the suppressed ones (« < k ») and
    every table and chart drawn from the dataset is aligned on them: the report may leave the association."""
    from analytics.diffusion import denominators, suppress_figures

    def figures(d: Dataset) -> dict:
        return compute(d) if not suppress else suppress_figures(compute(d), suppress, denominators=denominators(d))

    ds = dataset(con, period, filters)  # clipped at the data date: the report covers ds.period
    territories, actions = scope(con, filters)
    ctx = ReportContext(ds.period, filters, ds, figures(ds), data_date(con), territories, actions, suppress=suppress,
                        convention=convention_years(con, filters, lambda f, p: figures(dataset(con, p, filters))
                                                    if suppress else f),
                        source_import=current_import(con),
                        forecast=forecast_of(con, period, filters, suppress))
    from analytics import typology
    from analytics.typology.outcomes import report_view

    ctx.typology = report_view(typology.load(con), typology.assignments(con), ds, suppress)
    if previous:
        ctx.previous_ds = dataset(con, ds.period.previous(), filters)
        ctx.previous_fig = figures(ctx.previous_ds)
    return ctx


# ---------------------------------------------------------------- tables laid out from engine frames

EXIT_COLUMNS = list(S.EXIT_REASONS)


def monthly_tracking(ds: Dataset) -> pl.DataFrame:
    """The monthly tracking table sent to the Département, one row per month of P:
    month, caseload, entries, exits, exits by reason (one column per reason), appointments held and missed.

    Joins of `caseload_frame`, `monthly_flows`, `monthly_exits_by_reason` and `appointments_by_month_presence`.
    """
    by_reason = monthly_exits_by_reason(ds)
    wide = pl.DataFrame({"month": [m for m, _, _ in ds.period.months()]}, schema={"month": pl.String})
    for reason in EXIT_COLUMNS + sorted(set(by_reason["motif_sortie"].drop_nulls()) - set(EXIT_COLUMNS)):
        sub = by_reason.filter(pl.col("motif_sortie") == reason).select("month", pl.col("n").alias(f"exit:{reason}"))
        wide = wide.join(sub, on="month", how="left", maintain_order="left")
    return (caseload_frame(ds).select("month", "caseload")
            .join(monthly_flows(ds), on="month", how="left", maintain_order="left")
            .join(wide, on="month", how="left", maintain_order="left")
            .join(appointments_by_month_presence(ds).select("month", "held", "missed", "excused", "unexcused"),
                  on="month", how="left", maintain_order="left")
            .with_columns(pl.exclude("month").fill_null(0).cast(pl.Int64)))


def monthly_tracking_headers(frame: pl.DataFrame, quarterly: bool = False) -> dict[str, str]:
    """French header of each column of `monthly_tracking` (`quarterly`: its months grouped by quarter in diffusion
    mode, the caseload being then the mean of the months)."""
    names = {"month": "Trimestre" if quarterly else "Mois", "caseload": "File active moyenne" if quarterly else "File active",
             "entries": "Entrées", "exits": "Sorties",
             "held": "RDV honorés (présent)", "missed": "RDV manqués (absents)", "excused": "dont absences excusées",
             "unexcused": "dont absences non excusées"}
    return {col: names.get(col) or f"Sorties : {col.split(':', 1)[1]}" for col in frame.columns}


def esf_rows(fig: dict) -> list[tuple[str, str, dict | None]]:
    """(code, French label, {total, Femme, Homme} or None) for every ESF+ indicator, in the regulation's order."""
    from analytics.indicators.esf import ESF_INDICATORS

    return [(code, spec[3], fig["esf"].get(code)) for code, spec in ESF_INDICATORS.items()]


def education_label(key: str) -> str:
    return S.EDUCATION_LABELS.get(int(key), f"Niveau {key}") if str(key).isdigit() else str(key)


def month_title(key: str) -> str:
    """`2023-01` → `Janvier 2023`."""
    return fmt.month_label(key, long=True).capitalize()
