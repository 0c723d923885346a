"""Period, filters and the data an indicator computation works on.

`load_dataset` pushes the filters and the period down into DuckDB and reads only what the
figures need: the persons concerned by the period (participants, non-entrants, persons with a
first appointment in it), their immersions begun in it, and appointments already aggregated per
month, modality and presence. On a store written by this version it reads the read tables each
import rebuilds (`analytics.store`): the persons' text columns arrive as integer codes and become
Polars Enums, each person's number of immersions before exit comes with them, and appointments
come from daily aggregates. An older store is read from its tables as they are, with the same
result (`tests/test_import_safety.py` compares both). The indicator functions then compute with
Polars on these frames.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from analytics import schema as S
from analytics.store import FILTER_COLUMNS, IMMERSIONS_BEFORE_EXIT, READ_COLUMNS, TEXT_COLUMNS, collected_columns, query


class PeriodAfterData(ValueError):
    """A period that begins after the data date: nothing of it is known yet."""


@dataclass(frozen=True)
class Period:
    """A period [start, end], bounds included. `requested_end` is set when the period was clipped at the data date
    (`clip`): the end that was asked for (« année 2024 en cours, données au 23/01/2024 »)."""

    start: date
    end: date
    requested_end: date | None = None

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("la date de fin précède la date de début")

    @property
    def clipped(self) -> bool:
        return self.requested_end is not None

    @property
    def requested(self) -> "Period":
        """The period as asked for, before clipping at the data date."""
        return Period(self.start, self.requested_end) if self.requested_end else self

    def clip(self, data_date: date | None) -> "Period":
        """This period ending at the data date when it reaches past it (no month after the data date is counted);
        unchanged without a data date or when it ends before. `PeriodAfterData` when it begins after."""
        if data_date is None or self.end <= data_date:
            return self
        if self.start > data_date:
            raise PeriodAfterData(f"la période commence après la date des données ({data_date.strftime('%d/%m/%Y')}) : "
                                  "aucune donnée ne la couvre")
        return Period(self.start, data_date, self.requested_end or self.end)

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of equal length just before this one (a calendar year gives the previous year). A clipped
        period compares the same span: the period before the requested one, cut to the clipped length (« année
        2024 en cours » au 23/01 → du 01/01/2023 au 23/01/2023)."""
        if self.clipped:
            before = self.requested.previous()
            return Period(before.start, min(before.end, before.start + timedelta(days=self.days - 1)))
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
    typology: tuple[int, ...] = ()  # types of the publics (analytics.typology, stored by each import); JSON/URL key `type`

    def sql(self, alias: str = "p", coded: bool = False) -> tuple[str, list]:
        """A WHERE clause and its parameters; `coded`: on `participants_coded`, whose text columns hold codes."""
        clauses, params = [], []
        for attr, column in FILTER_COLUMNS.items():
            values = getattr(self, attr)
            if values:
                marks = ", ".join("?" * len(values))
                clauses.append(f"{alias}.{column} IN (SELECT code FROM value_codes WHERE column_name = '{column}' AND value IN ({marks}))"
                               if coded else f"{alias}.{column} IN ({marks})")
                params.extend(values)
        if self.typology:  # the persons of the chosen types (`typology_persons`, written by each import)
            marks = ", ".join("?" * len(self.typology))
            clauses.append(f"{alias}.{'pid' if coded else 'person_key'} IN "
                           f"(SELECT person_key FROM typology_persons WHERE type IN ({marks}))")
            params.extend(int(t) for t in self.typology)
        return (" AND ".join(clauses) or "TRUE"), params

    def as_json(self) -> dict:
        """The filters of the JSON contract; `epci` appears only when set (the contract's four keys are unchanged)."""
        out = {"commune": list(self.commune), "prescripteur": list(self.prescriber),
               "territoire": list(self.territory), "action": list(self.action)}
        return out | ({"epci": list(self.epci)} if self.epci else {}) | ({"type": list(self.typology)} if self.typology else {})

    def is_empty(self) -> bool:
        return not (self.commune or self.prescriber or self.territory or self.action or self.epci or self.typology)


@dataclass
class Dataset:
    """What the figures are computed on.

    The text columns of `persons` (`TEXT_COLUMNS`) are Polars Enums, whatever built the Dataset: a frame given
    with strings is converted here. Compare them with `==` / `is_in`, group by them, and cast the few rows of a
    result to `pl.String` before a join with a string frame, a string operation or `fill_null` with a new label
    (`fill_null` with a value outside the categories leaves the nulls as they are).
    """

    period: Period
    filters: Filters
    persons: pl.DataFrame  # persons concerned by the period (see module docstring)
    immersions: pl.DataFrame  # immersions of those persons
    appointments: pl.DataFrame  # month, modalite, presence, n — rows dated in the period
    collected: dict[str, set[str]] = field(default_factory=dict)
    caseload_target: int | None = None

    def __post_init__(self):
        text = [col for col in TEXT_COLUMNS if self.persons.schema.get(col) == pl.String]
        if text:
            self.persons = self.persons.with_columns(
                pl.col(col).cast(pl.Enum(self.persons[col].drop_nulls().unique().sort().to_list())) for col in text)
        if IMMERSIONS_BEFORE_EXIT not in self.persons.columns:
            self.persons = self.persons.with_columns(immersions_before_exit_counts(self.persons, self.immersions))


PERSON_KEY = ["action", "territoire", "id_participant"]
# The columns the figures and the pages read: a loaded Dataset identifies its persons by the integer `pid` (the
# store's `person_key`; the row id for a store written before it) instead of the three key strings, and leaves
# out the columns no figure uses.
PERSON_COLUMNS = READ_COLUMNS


def person_key(df: pl.DataFrame) -> list[str]:
    """The columns identifying a person in `df`: `pid` in a loaded Dataset, the contract's key in a hand-built one."""
    return ["pid"] if "pid" in df.columns else PERSON_KEY


@dataclass(frozen=True)
class _Catalog:
    source: str  # the participants, with `epci` and the integer person key `pid`
    keyed: bool  # the three tables carry `person_key`
    daily: bool  # `rendez_vous_daily` exists
    daily_by_filters: bool  # `rendez_vous_by_filters` exists
    coded: bool  # `participants_coded` exists and holds every person


def _catalog(con: duckdb.DuckDBPyConnection) -> _Catalog:
    """How to read this store. One written by an older version and not re-imported since (e.g. opened read-only)
    may lack `epci` (read as empty), `person_key` (persons are then matched on their three key columns and `pid`
    is the row id) or the daily appointment table (`rendez_vous` is then read itself)."""
    found = query(con, """SELECT
        count(*) FILTER (WHERE table_name = 'participants' AND column_name = 'epci') AS epci,
        count(*) FILTER (WHERE table_name IN ('participants', 'rendez_vous', 'immersions') AND column_name = 'person_key') AS keyed,
        count(*) FILTER (WHERE table_name = 'rendez_vous_daily') AS daily,
        count(*) FILTER (WHERE table_name = 'rendez_vous_by_filters' AND column_name = 'commune') AS daily_by_filters,
        count(*) FILTER (WHERE table_name = 'participants_coded' AND column_name = 'pid') AS coded FROM duckdb_columns()""").row(0)
    epci = "" if found[0] else ", NULL::VARCHAR AS epci"
    pid = "person_key" if found[1] == 3 else "rowid"
    # the coded copy is rebuilt by every import; a store changed since by other means is read from `participants`
    coded = bool(found[4]) and found[1] == 3 and query(
        con, "SELECT (SELECT count(*) FROM participants_coded) = (SELECT count(*) FROM participants) AS same").row(0)[0]
    return _Catalog(f"(SELECT *{epci}, {pid} AS pid FROM participants)", found[1] == 3, bool(found[2]),
                    bool(found[3]) and coded, coded)


def _enums(con: duckdb.DuckDBPyConnection) -> dict[str, pl.Enum]:
    """The Enum of each coded column: its values in code order."""
    found = query(con, "SELECT column_name, list(value ORDER BY code) AS v FROM value_codes GROUP BY ALL")
    out = dict(zip(found["column_name"].to_list(), found["v"].to_list()))
    return {col: pl.Enum(out.get(col) or []) for col in TEXT_COLUMNS}


def load_dataset(con: duckdb.DuckDBPyConnection, period: Period, filters: Filters = Filters(),
                 caseload_target: int | None = None) -> Dataset:
    cat = _catalog(con)
    # The persons are selected on `participants_coded` (integers, and each person's immersions before exit) when
    # the store has it, else on `participants`.
    source = "participants_coded" if cat.coded else cat.source
    where, params = filters.sql("p", coded=cat.coded)
    span = [period.end, period.start, period.start, period.end, period.start, period.end]
    concerned = ("((p.date_entree <= ? AND (p.date_sortie IS NULL OR p.date_sortie >= ?))"
                 " OR p.date_prescription BETWEEN ? AND ? OR p.date_premier_rdv BETWEEN ? AND ?)")
    columns = PERSON_COLUMNS + ([IMMERSIONS_BEFORE_EXIT] if cat.coded else [])
    # `span_end` >= the start is implied by being concerned; stated, it skips the row groups of earlier persons
    concerned, span = (f"p.span_end >= ? AND {concerned}", [period.start] + span) if cat.coded else (concerned, span)
    persons = query(con, f"SELECT {', '.join('p.' + c for c in columns)}, p.pid FROM {source} p WHERE {where} AND {concerned}",
                    params + span)
    if cat.coded:
        enums = _enums(con)
        persons = persons.with_columns(pl.col(col).cat.to(enums[col]) for col in TEXT_COLUMNS)
    # The immersions begun in P; without the coded table, also those begun before P by the persons leaving in P,
    # from which the Dataset counts each exit's immersions (two disjoint parts, each selecting few rows before it
    # meets the persons).
    imm = "date_debut, secteur, debouche_contrat"
    of_persons = "" if filters.is_empty() else f" AND person_key IN (SELECT p.pid FROM {source} p WHERE {where})"
    in_period = [period.start, period.end] + ([] if filters.is_empty() else params)
    if cat.coded:
        immersions = query(con, f"SELECT person_key AS pid, {imm} FROM immersions WHERE date_debut BETWEEN ? AND ?{of_persons}",
                           in_period)
    elif cat.keyed:
        immersions = query(con, f"""
            SELECT person_key AS pid, {imm} FROM immersions WHERE date_debut BETWEEN ? AND ?{of_persons}
            UNION ALL
            SELECT person_key AS pid, {imm} FROM immersions
            WHERE date_debut < ? AND person_key IN (SELECT p.pid FROM {source} p WHERE {where} AND p.date_sortie BETWEEN ? AND ?)""",
                           in_period + [period.start] + params + [period.start, period.end])
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
    # Appointments follow their person. The import keeps them counted per day, modality and presence
    # (`rendez_vous_daily`), and also per filter column of their person (`rendez_vous_by_filters`), a few thousand
    # and a few hundred thousand rows whatever the number of appointments; a store without them is read from
    # `rendez_vous`, with a semi-join on the matching persons.
    if cat.daily and filters.is_empty():
        source_rows, count, of_persons, rows_params = "rendez_vous_daily r", "sum(r.n)::BIGINT", "", []
    elif cat.daily_by_filters and not filters.typology:  # the type is not kept with the daily counts
        source_rows, count = "rendez_vous_by_filters r", "sum(r.n)::BIGINT"
        rows_where, rows_params = filters.sql("r", coded=True)
        of_persons = f" AND {rows_where}"
    else:
        source_rows, count, rows_params = "rendez_vous r", "count(*)::BIGINT", params
        of_persons = "" if filters.is_empty() else (
            f" AND r.person_key IN (SELECT p.pid FROM {source} p WHERE {where})" if cat.keyed else
            f" AND (r.action, r.territoire, r.id_participant) IN (SELECT p.action, p.territoire, p.id_participant FROM {source} p WHERE {where})")
    appointments = query(con, f"""
        SELECT strftime(m, '%Y-%m') AS month, modalite, presence, n FROM (
            SELECT date_trunc('month', r.date) AS m, r.modalite, r.presence, {count} AS n
            FROM {source_rows} WHERE r.date BETWEEN ? AND ?{of_persons}
            GROUP BY ALL)""", [period.start, period.end] + ([] if filters.is_empty() else rows_params))
    return Dataset(period, filters, persons, immersions, appointments, collected_columns(con), caseload_target)


def immersions_before_exit_counts(persons: pl.DataFrame, immersions: pl.DataFrame) -> pl.Series:
    """For each person of `persons`, the number of their `immersions` begun on or before their exit date (0 without
    exit). `build_read_tables` stores the same count for every person at import; this computes it for a Dataset
    built otherwise (`test_scale` checks that both agree)."""
    key = person_key(persons)
    if persons.is_empty() or not set(key + ["date_debut"]) <= set(immersions.columns):
        return pl.Series(IMMERSIONS_BEFORE_EXIT, [0] * persons.height, dtype=pl.Int64)
    found = (persons.select(*key, "date_sortie").join(immersions.select(*key, "date_debut"), on=key, how="inner")
             .filter(pl.col("date_debut") <= pl.col("date_sortie")).group_by(key).len(IMMERSIONS_BEFORE_EXIT))
    return (persons.select(key).join(found, on=key, how="left", maintain_order="left")[IMMERSIONS_BEFORE_EXIT]
            .fill_null(0).cast(pl.Int64))


def persons_schema() -> dict[str, pl.DataType]:
    """The persons' columns as an extract gives them (text as strings), to build a Dataset by hand."""
    return S.typed_schema(S.PARTICIPANTS) | {"epci": pl.String}


# The dates that record something that happened (not a plan: `date_fin_prevue` and an immersion's end are left out).
DATA_DATE_COLUMNS = {"participants": ["date_prescription", "date_premier_rdv", "date_entree", "date_sortie",
                                      "date_suivi_post_sortie"],
                     "rendez_vous": ["date"], "immersions": ["date_debut"]}


def data_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The data date: the latest date of an event known in the store (a prescription, an entry, an exit, a follow-up, an
    appointment, the start of an immersion), None for an empty store. Nothing after it has been seen: the periods
    are clipped there (`Period.clip`), and every page, report and slide states it (« Données au 23/01/2024 »).
    One definition for the whole store, whatever the filters or the user's territories."""
    found = query(con, "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN "
                       "('participants', 'rendez_vous', 'rendez_vous_daily', 'immersions')")
    have = set(zip(found["table_name"].to_list(), found["column_name"].to_list()))
    tables = dict(DATA_DATE_COLUMNS)
    if ("rendez_vous_daily", "date") in have:  # a few thousand rows instead of every appointment
        tables = {**{t: c for t, c in tables.items() if t != "rendez_vous"}, "rendez_vous_daily": ["date"]}
    parts = [f"SELECT max(greatest({', '.join(cols)})) AS d FROM {table}" if len(cols) > 1 else f"SELECT max({cols[0]}) AS d FROM {table}"
             for table, columns in tables.items() if (cols := [c for c in columns if (table, c) in have])]
    if not parts:
        return None
    latest = query(con, f"SELECT max(d) AS d FROM ({' UNION ALL '.join(parts)})")["d"][0]
    return latest


def empty_dataset(period: Period, filters: Filters = Filters()) -> Dataset:
    """A dataset with no rows (a store not built yet), typed like a real one."""
    persons = pl.DataFrame(schema=persons_schema())
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


def tally(df: pl.DataFrame | pl.LazyFrame, *columns: str | pl.Expr) -> pl.DataFrame:
    """`columns`, n: the persons of `df` per distinct combination, the text columns (Enums in a Dataset) as strings,
    ready to join with string frames or to fill with new labels: a few rows, whatever the number of persons."""
    found = df.lazy().group_by(*columns).len("n").collect()
    return found.with_columns(pl.col(name).cast(pl.String) for name, dtype in found.schema.items()
                              if isinstance(dtype, (pl.Enum, pl.Categorical)))


def rate(numerator: int, denominator: int) -> float | None:
    """A share with 4 decimals; None when the population is empty."""
    return None if not denominator else round(numerator / denominator, 4)


def counts(df: pl.DataFrame, column: str, order: list | None = None) -> dict:
    """{label: count} of a column, zero categories left out, in the canonical order when given."""
    return ordered_counts(tally(df, pl.col(column).alias("value")), order)


def ordered_counts(frame: pl.DataFrame, order: list | None = None) -> dict:
    """{label: count} from a (value, n) frame: nulls and zero categories left out, canonical labels in their contract
    order, free-text labels after them by decreasing count."""
    vc = frame.drop_nulls("value")
    found = dict(zip(vc["value"].to_list(), vc["n"].to_list()))
    keys = [k for k in (order or []) if k in found] + sorted((k for k in found if k not in (order or [])), key=lambda k: (-found[k], k))
    return {k: int(found[k]) for k in keys if found[k]}
