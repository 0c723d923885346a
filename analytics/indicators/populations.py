"""Populations of a period (SPEC-indicators "Populations") and their head counts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, Period, age_band_expr, ordered_counts, rate

c = pl.col


def memoized(fn: Callable[[Dataset], pl.DataFrame]) -> Callable[[Dataset], pl.DataFrame]:
    """Compute a population once per Dataset: thirty figures filter the same few populations.

    A Dataset is never modified after it is loaded, so the cached frame stays true for its life.
    """
    key = f"{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def wrapper(ds: Dataset) -> pl.DataFrame:
        memo = ds.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = fn(ds)
        return memo[key]

    return wrapper


def masks(period: Period) -> dict[str, pl.Expr]:
    """The populations of SPEC-indicators as row predicates on the persons of a Dataset: each population is defined
    here once, and both its frame and the counts below filter with it."""
    p = period
    participant = (c("date_entree") <= p.end) & (c("date_sortie").is_null() | (c("date_sortie") >= p.start))
    non_entrant = c("date_entree").is_null() & c("date_prescription").is_between(p.start, p.end)
    exit_ = c("date_sortie").is_between(p.start, p.end)
    return {
        "participants": participant,  # suivis: entered on or before the end of P and not exited before its start
        "non_entrants": non_entrant,  # never entered, prescription received during P
        "positioned": participant | non_entrant,
        "entries": c("date_entree").is_between(p.start, p.end),
        "exits": exit_,
        "active_at_end": participant & (c("date_sortie").is_null() | (c("date_sortie") > p.end)),
        "positive_exits": exit_ & c("motif_sortie").is_in(S.POSITIVE_EXIT_REASONS),
    }


def lazy_population(ds: Dataset, name: str) -> pl.LazyFrame:
    """Population `name` (a key of `masks`) as a lazy frame: a query reading a few of its columns filters only
    those (a year at 1 000 000 persons holds 300 000 persons); the memoised frame when `population` made it."""
    frame = ds.__dict__.get("_memo", {}).get(f"population.{name}")
    return frame.lazy() if frame is not None else ds.persons.lazy().filter(masks(ds.period)[name].fill_null(False))


def population(ds: Dataset, name: str) -> pl.DataFrame:
    """The persons of population `name`, every column, memoised per Dataset."""
    memo = ds.__dict__.setdefault("_memo", {})
    key = f"population.{name}"
    if key not in memo:
        memo[key] = lazy_population(ds, name).collect()
    return memo[key]


def columns_of(ds: Dataset, name: str, *columns: str | pl.Expr) -> pl.DataFrame:
    """Only `columns` of population `name`."""
    return lazy_population(ds, name).select(*columns).collect()


def participants(ds: Dataset) -> pl.DataFrame:
    return population(ds, "participants")


def non_entrants(ds: Dataset) -> pl.DataFrame:
    return population(ds, "non_entrants")


def positioned(ds: Dataset) -> pl.DataFrame:
    """Participants plus the non-entrants of P."""
    return population(ds, "positioned")


def entries(ds: Dataset) -> pl.DataFrame:
    return population(ds, "entries")


def exits(ds: Dataset) -> pl.DataFrame:
    return population(ds, "exits")


def active_at_end(ds: Dataset) -> pl.DataFrame:
    return population(ds, "active_at_end")


def positive_exits(ds: Dataset) -> pl.DataFrame:
    return population(ds, "positive_exits")


@memoized
def head_counts(ds: Dataset) -> dict[str, int]:
    """Every population's head count, in one pass over the persons."""
    if ds.persons.height == 0:
        return {name: 0 for name in masks(ds.period)}
    row = ds.persons.select(m.fill_null(False).sum().alias(name) for name, m in masks(ds.period).items()).row(0, named=True)
    return {name: int(n) for name, n in row.items()}


# The one-way breakdowns the contract's figures read, computed together (`breakdown`).
BREAKDOWNS: list[tuple[str, str]] = [
    ("non_entrants", "motif_non_entree"), ("positioned", "prescripteur"),
    *[("participants", col) for col in ("sexe", "age_band", "niveau_formation", "statut", "situation_familiale",
                                        "frein_principal", "commune")],
    ("exits", "motif_sortie"),
]


def _source(column: str) -> pl.Expr:
    """The persons' column a breakdown counts: the age for the age bands, the column itself otherwise."""
    return c("age") if column == "age_band" else c(column)


def _finish(column: str, found: pl.DataFrame) -> pl.DataFrame:
    """value, n from the counts of `_source(column)`. The two derived columns are derived here, on a few rows
    (deriving them on every person cost as much as all the other breakdowns together): the age band from the age,
    the education level as a string."""
    if column == "age_band":
        return found.group_by(age_band_expr(c("value")).alias("value")).agg(c("n").sum())
    return found.with_columns(c("value").cast(pl.String)) if column == "niveau_formation" else found


@memoized
def _breakdowns(ds: Dataset) -> dict[tuple[str, str], pl.DataFrame]:
    """value, n for every pair of BREAKDOWNS, counted in one `select` over the persons (Polars runs the counts side
    by side; each filters its population's rows of one column)."""
    m = masks(ds.period)
    pairs = [(pop, col) for pop, col in BREAKDOWNS if col in ds.persons.columns or col == "age_band"]
    found = ds.persons.select(_source(col).filter(m[pop].fill_null(False)).value_counts(name="n").implode().alias(str(i))
                              for i, (pop, col) in enumerate(pairs))
    out = {}
    for i, (pop, col) in enumerate(pairs):
        counted = found[str(i)].explode().struct.unnest()
        counted = counted.rename({counted.columns[0]: "value"}).drop_nulls("n")
        out[(pop, col)] = _finish(col, counted)
    return out


def breakdown(ds: Dataset, name: str, column: str, order: list | None = None) -> dict:
    """{label: count} of `column` over population `name` (`age_band`: the contract's age bands; `niveau_formation`:
    the level as a string), zero categories left out, in the canonical order when given."""
    frame = _breakdowns(ds).get((name, column))
    if frame is None:
        frame = _finish(column, lazy_population(ds, name).group_by(_source(column).alias("value")).len("n").collect())
    return ordered_counts(frame, order)


def count_positioned(ds: Dataset) -> int:
    return head_counts(ds)["positioned"]


def count_participants(ds: Dataset) -> int:
    return head_counts(ds)["participants"]


def count_entries(ds: Dataset) -> int:
    return head_counts(ds)["entries"]


def count_exits(ds: Dataset) -> int:
    return head_counts(ds)["exits"]


def count_active_at_end(ds: Dataset) -> int:
    return head_counts(ds)["active_at_end"]


def count_positive_exits(ds: Dataset) -> int:
    return head_counts(ds)["positive_exits"]


def not_entered(ds: Dataset) -> dict:
    return breakdown(ds, "non_entrants", "motif_non_entree", S.NOT_ENTERED_REASONS)


def positive_exit_rate(ds: Dataset) -> float | None:
    return rate(count_positive_exits(ds), count_exits(ds))
