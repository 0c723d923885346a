"""Period, filters and the data an indicator computation works on.

`load_dataset` pushes the filters and the period down into DuckDB and reads only what the
figures need: the persons concerned by the period (participants, non-entrants, persons with a
first appointment in it), their immersions, and appointments already aggregated per month,
modality and presence. The indicator functions then compute with Polars on these frames.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from analytics import schema as S
from analytics.store import collected_columns, query

FILTER_COLUMNS = {"commune": "commune", "prescriber": "prescripteur", "territory": "territoire", "action": "action",
                  "epci": "epci"}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("la date de fin précède la date de début")

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of equal length just before this one (a calendar year gives the previous year)."""
        if self.start.month == 1 and self.start.day == 1 and self.end == date(self.start.year, 12, 31):
            return Period.year(self.start.year - 1)
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def months(self) -> list[tuple[str, date, date]]:
        """(YYYY-MM, first day of M∩P, last day of M∩P) for each calendar month meeting the period."""
        out, y, m = [], self.start.year, self.start.month
        while date(y, m, 1) <= self.end:
            first = max(date(y, m, 1), self.start)
            last = min(date(y, m, calendar.monthrange(y, m)[1]), self.end)
            out.append((f"{y:04d}-{m:02d}", first, last))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def as_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class Filters:
    """Person filters; each a tuple of accepted values, empty = all."""

    commune: tuple[str, ...] = ()
    prescriber: tuple[str, ...] = ()
    territory: tuple[str, ...] = ()
    action: tuple[str, ...] = ()
    epci: tuple[str, ...] = ()  # official EPCI names (analytics.geo)

    def sql(self, alias: str = "p") -> tuple[str, list]:
        clauses, params = [], []
        for attr, column in FILTER_COLUMNS.items():
            values = getattr(self, attr)
            if values:
                clauses.append(f"{alias}.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        return (" AND ".join(clauses) or "TRUE"), params

    def as_json(self) -> dict:
        """The filters of the JSON contract; `epci` appears only when set (the contract's four keys are unchanged)."""
        out = {"commune": list(self.commune), "prescripteur": list(self.prescriber),
               "territoire": list(self.territory), "action": list(self.action)}
        return out | ({"epci": list(self.epci)} if self.epci else {})

    def is_empty(self) -> bool:
        return not (self.commune or self.prescriber or self.territory or self.action or self.epci)


@dataclass
class Dataset:
    period: Period
    filters: Filters
    persons: pl.DataFrame  # persons concerned by the period (see module docstring)
    immersions: pl.DataFrame  # immersions of those persons
    appointments: pl.DataFrame  # month, modalite, presence, n — rows dated in the period
    collected: dict[str, set[str]] = field(default_factory=dict)
    caseload_target: int | None = None


PERSON_KEY = ["action", "territoire", "id_participant"]
# The columns the figures and the pages read: a loaded Dataset identifies its persons by the integer `pid` (the
# store's `person_key`; the row id for a store written before it) instead of the three key strings, and leaves
# out the columns no figure uses.
PERSON_COLUMNS = [c for c in S.PARTICIPANTS.names
                  if c not in PERSON_KEY + ["date_fin_prevue", "situation_post_sortie"]] + ["epci"]  # epci: derived at import


def person_key(df: pl.DataFrame) -> list[str]:
    """The columns identifying a person in `df`: `pid` in a loaded Dataset, the contract's key in a hand-built one."""
    return ["pid"] if "pid" in df.columns else PERSON_KEY


@dataclass(frozen=True)
class _Catalog:
    source: str  # the participants, with `epci` and the integer person key `pid`
    keyed: bool  # the three tables carry `person_key`
    daily: bool  # `rendez_vous_daily` exists


def _catalog(con: duckdb.DuckDBPyConnection) -> _Catalog:
    """How to read this store. One written by an older version and not re-imported since (e.g. opened read-only)
    may lack `epci` (read as empty), `person_key` (persons are then matched on their three key columns and `pid`
    is the row id) or the daily appointment table (`rendez_vous` is then read itself)."""
    found = query(con, """SELECT
        count(*) FILTER (WHERE table_name = 'participants' AND column_name = 'epci') AS epci,
        count(*) FILTER (WHERE table_name IN ('participants', 'rendez_vous', 'immersions') AND column_name = 'person_key') AS keyed,
        count(*) FILTER (WHERE table_name = 'rendez_vous_daily') AS daily FROM duckdb_columns()""").row(0)
    epci = "" if found[0] else ", NULL::VARCHAR AS epci"
    pid = "person_key" if found[1] == 3 else "rowid"
    return _Catalog(f"(SELECT *{epci}, {pid} AS pid FROM participants)", found[1] == 3, bool(found[2]))


def load_dataset(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(),
                 caseload_target: int | None = None) -> Dataset:
    where, params = filters.sql("p")
    cat = _catalog(con)
    source = cat.source
    span = [period.end, period.start, period.start, period.end, period.start, period.end]
    concerned = ("((p.date_entree <= ? AND (p.date_sortie IS NULL OR p.date_sortie >= ?))"
                 " OR p.date_prescription BETWEEN ? AND ? OR p.date_premier_rdv BETWEEN ? AND ?)")
    persons = query(con, f"SELECT {', '.join('p.' + c for c in PERSON_COLUMNS)}, p.pid FROM {source} p WHERE {where} AND {concerned}",
                    params + span)
    # the immersions the figures read: those begun in P, and those begun before P by the persons leaving in P
    # (two disjoint parts, each selecting few rows before it meets the persons)
    imm = "date_debut, secteur, debouche_contrat"
    if cat.keyed:
        of_persons = "" if filters.is_empty() else f" AND person_key IN (SELECT p.pid FROM {source} p WHERE {where})"
        immersions = query(con, f"""
            SELECT person_key AS pid, {imm} FROM immersions WHERE date_debut BETWEEN ? AND ?{of_persons}
            UNION ALL
            SELECT person_key AS pid, {imm} FROM immersions
            WHERE date_debut < ? AND person_key IN (SELECT p.pid FROM {source} p WHERE {where} AND p.date_sortie BETWEEN ? AND ?)""",
                           [period.start, period.end] + ([] if filters.is_empty() else params)
                           + [period.start] + params + [period.start, period.end])
    else:
        keys = "action, territoire, id_participant"
        immersions = query(con, f"""
            SELECT p.pid, {imm}
            FROM (SELECT {keys}, {imm} FROM immersions WHERE date_debut BETWEEN ? AND ?) i
            JOIN (SELECT {keys}, pid FROM {source} p WHERE {where}) p USING ({keys})
            UNION ALL
            SELECT p.pid, {imm}
            FROM (SELECT {keys}, {imm} FROM immersions WHERE date_debut < ?) i
            JOIN (SELECT {keys}, pid FROM {source} p WHERE {where} AND p.date_sortie BETWEEN ? AND ?) p USING ({keys})""",
                           [period.start, period.end] + params + [period.start] + params + [period.start, period.end])
    # Appointments follow their person: with person filters, a semi-join on the matching persons; without, the
    # daily aggregate the import keeps (`rendez_vous_daily`, a few thousand rows whatever the number of appointments).
    if filters.is_empty() and cat.daily:
        source_rows, of_persons, count = "rendez_vous_daily r", "", "sum(r.n)::BIGINT"
    else:
        source_rows, count = "rendez_vous r", "count(*)::BIGINT"
        of_persons = "" if filters.is_empty() else (
            f" AND r.person_key IN (SELECT p.pid FROM {source} p WHERE {where})" if cat.keyed else
            f" AND (r.action, r.territoire, r.id_participant) IN (SELECT p.action, p.territoire, p.id_participant FROM {source} p WHERE {where})")
    appointments = query(con, f"""
        SELECT strftime(m, '%Y-%m') AS month, modalite, presence, n FROM (
            SELECT date_trunc('month', r.date) AS m, r.modalite, r.presence, {count} AS n
            FROM {source_rows} WHERE r.date BETWEEN ? AND ?{of_persons}
            GROUP BY ALL)""", [period.start, period.end] + ([] if filters.is_empty() else params))
    return Dataset(period, filters, persons, immersions, appointments, collected_columns(con), caseload_target)


def empty_dataset(period: Period, filters: Filters = Filters()) -> Dataset:
    """A dataset with no rows (a store not built yet), typed like a real one."""
    persons = pl.DataFrame(schema=S.typed_schema(S.PARTICIPANTS) | {"epci": pl.String})
    imm = pl.DataFrame(schema={"action": pl.String, "territoire": pl.String, "id_participant": pl.String,
                               "date_debut": pl.Date, "date_fin": pl.Date, "secteur": pl.String,
                               "debouche_contrat": pl.Boolean})
    app = pl.DataFrame(schema={"month": pl.String, "modalite": pl.String, "presence": pl.String, "n": pl.Int64})
    return Dataset(period, filters, persons, imm, app, {})


def age_band_expr(age: pl.Expr = pl.col("age")) -> pl.Expr:
    """The contract's age bands: < 25, 25–39, 40–54, ≥ 55."""
    return (pl.when(age < 25).then(pl.lit(S.AGE_BANDS[0]))
            .when(age < 40).then(pl.lit(S.AGE_BANDS[1]))
            .when(age < 55).then(pl.lit(S.AGE_BANDS[2]))
            .otherwise(pl.lit(S.AGE_BANDS[3])))


def rate(numerator: int, denominator: int) -> float | None:
    """A share with 4 decimals; None when the population is empty."""
    return None if not denominator else round(numerator / denominator, 4)


def counts(df: pl.DataFrame, column: str, order: list | None = None) -> dict:
    """{label: count} of a column, zero categories left out, in the canonical order when given."""
    if df.is_empty():
        return {}
    return ordered_counts(df.group_by(column).len("n").rename({column: "value"}), order)


def ordered_counts(frame: pl.DataFrame, order: list | None = None) -> dict:
    """{label: count} from a (value, n) frame: nulls and zero categories left out, canonical labels in their contract
    order, free-text labels after them by decreasing count."""
    vc = frame.drop_nulls("value")
    found = dict(zip(vc["value"].to_list(), vc["n"].to_list()))
    keys = [k for k in (order or []) if k in found] + sorted((k for k in found if k not in (order or [])), key=lambda k: (-found[k], k))
    return {k: int(found[k]) for k in keys if found[k]}
