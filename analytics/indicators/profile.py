"""Who the participants are: breakdowns of the participants (prescriber: of the positioned)."""

from __future__ import annotations

import polars as pl

from analytics import geo
from analytics import schema as S
from analytics.indicators.base import Dataset, ordered_counts, person_key, tally
from analytics.indicators.populations import breakdown, lazy_population

c = pl.col


def prescriber(ds: Dataset) -> dict:
    return breakdown(ds, "positioned", "prescripteur")


def sex(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "sexe", S.SEX)


def age_band(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "age_band", S.AGE_BANDS)


def education_level(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "niveau_formation", [str(i) for i in S.EDUCATION_LEVELS])


def status(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "statut", S.STATUS)


def household(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "situation_familiale", S.HOUSEHOLD)


def primary_barrier(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "frein_principal", S.BARRIERS)


def barriers_long(df: pl.DataFrame) -> pl.DataFrame:
    """One row per (person, barrier) held as primary or secondary, each barrier once per person."""
    return (df.select(*person_key(df),
                      pl.concat_list(c("frein_principal").cast(pl.String),
                                     c("freins_secondaires").cast(pl.String).str.split("|").fill_null([]))
                      .list.unique().alias("barrier"))
            .explode("barrier").drop_nulls("barrier"))


def has_barrier(barrier: str) -> pl.Expr:
    """The person holds `barrier` as primary or secondary (labels of the closed list never contain one another)."""
    return (c("frein_principal") == barrier) | c("freins_secondaires").str.contains(barrier, literal=True).fill_null(False)


def barrier_any(ds: Dataset) -> dict:
    """Persons per barrier, primary or secondary (a person counts once per barrier). The barriers are read on the
    distinct (primary, secondary) combinations, a few hundred, weighted by their number of persons."""
    combos = tally(lazy_population(ds, "participants"), "frein_principal", "freins_secondaires")
    if combos.height == 0:
        return {}
    row = combos.select([c("n").filter(has_barrier(b)).sum().alias(b) for b in S.BARRIERS]).row(0, named=True)
    return {b: int(row[b]) for b in S.BARRIERS if row.get(b)}


def commune(ds: Dataset) -> dict:
    return breakdown(ds, "participants", "commune")


def epci(ds: Dataset) -> dict:
    """Participants by EPCI (official name); rows stored before the EPCI was derived at import get it from their commune."""
    places = [c for c in ("commune", "code_insee", "epci") if c in ds.persons.columns]
    combos = tally(lazy_population(ds, "participants"), *places)
    return ordered_counts(geo.with_epci(combos).group_by(c("epci").alias("value")).agg(c("n").sum()))


def sex_by_household(ds: Dataset) -> pl.DataFrame:
    """sexe, situation_familiale, n: participants by sex and household, every pair of the closed lists (zeros
    included), in canonical order — the report's « femmes seules avec enfants » is (Femme, Seul(e) avec enfant(s))."""
    grid = pl.DataFrame({"sexe": S.SEX}).join(pl.DataFrame({"situation_familiale": S.HOUSEHOLD}), how="cross",
                                               maintain_order="left_right")
    found = tally(lazy_population(ds, "participants"), "sexe", "situation_familiale")
    return (grid.join(found, on=["sexe", "situation_familiale"], how="left", maintain_order="left")
            .with_columns(c("n").fill_null(0).cast(pl.Int64)))
