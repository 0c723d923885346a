"""Populations of a period (SPEC-indicators "Populations") and their head counts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, counts, rate

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


@memoized
def participants(ds: Dataset) -> pl.DataFrame:
    """Suivis: entered on or before the end of P and not exited before its start."""
    p = ds.period
    return ds.persons.filter((c("date_entree") <= p.end) & (c("date_sortie").is_null() | (c("date_sortie") >= p.start)))


@memoized
def non_entrants(ds: Dataset) -> pl.DataFrame:
    """Never entered, prescription received during P."""
    p = ds.period
    return ds.persons.filter(c("date_entree").is_null() & c("date_prescription").is_between(p.start, p.end))


@memoized
def positioned(ds: Dataset) -> pl.DataFrame:
    """Participants plus the non-entrants of P."""
    return pl.concat([participants(ds), non_entrants(ds)])


@memoized
def entries(ds: Dataset) -> pl.DataFrame:
    p = ds.period
    return ds.persons.filter(c("date_entree").is_between(p.start, p.end))


@memoized
def exits(ds: Dataset) -> pl.DataFrame:
    p = ds.period
    return ds.persons.filter(c("date_sortie").is_between(p.start, p.end))


@memoized
def active_at_end(ds: Dataset) -> pl.DataFrame:
    return participants(ds).filter(c("date_sortie").is_null() | (c("date_sortie") > ds.period.end))


@memoized
def positive_exits(ds: Dataset) -> pl.DataFrame:
    return exits(ds).filter(c("motif_sortie").is_in(S.POSITIVE_EXIT_REASONS))


def count_positioned(ds: Dataset) -> int:
    return positioned(ds).height


def count_participants(ds: Dataset) -> int:
    return participants(ds).height


def count_entries(ds: Dataset) -> int:
    return entries(ds).height


def count_exits(ds: Dataset) -> int:
    return exits(ds).height


def count_active_at_end(ds: Dataset) -> int:
    return active_at_end(ds).height


def count_positive_exits(ds: Dataset) -> int:
    return positive_exits(ds).height


def not_entered(ds: Dataset) -> dict:
    return counts(non_entrants(ds), "motif_non_entree", S.NOT_ENTERED_REASONS)


def positive_exit_rate(ds: Dataset) -> float | None:
    return rate(count_positive_exits(ds), count_exits(ds))
