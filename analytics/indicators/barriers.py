"""Barriers to employment beyond the one-way counts: which barriers go together, and how people with
each primary barrier leave the action. The populations come from `populations`, the (person, barrier)
pairs from `profile.barriers_long`, so these frames add up to the contract's figures."""

from __future__ import annotations

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, person_key, tally
from analytics.indicators.populations import active_at_end, exits, participants, positive_exits
from analytics.indicators.profile import barriers_long

c = pl.col
POSITIVE, OTHER_EXIT, ONGOING = "Sortie positive", "Autre sortie", "En parcours"
OUTCOMES = [POSITIVE, OTHER_EXIT, ONGOING]


def _ordered(values: list[str]) -> list[str]:
    """Barriers in their contract order, any unexpected label after them."""
    present = set(values)
    return [b for b in S.BARRIERS if b in present] + sorted(present - set(S.BARRIERS))


def barrier_cooccurrence(ds: Dataset) -> pl.DataFrame:
    """barrier, with_barrier, n: participants having both barriers (primary or secondary), for every pair of
    the barriers found (zeros included); the diagonal (barrier = with_barrier) is `barrier_any`."""
    people = participants(ds)
    key = person_key(people)
    long = barriers_long(people).select(*key, "barrier")
    found = _ordered(long["barrier"].unique().to_list())
    pairs = (long.join(long.rename({"barrier": "with_barrier"}), on=key)
             .group_by("barrier", "with_barrier").len("n"))
    grid = pl.DataFrame({"barrier": found}, schema={"barrier": pl.String}).join(
        pl.DataFrame({"with_barrier": found}, schema={"with_barrier": pl.String}), how="cross", maintain_order="left_right")
    return (grid.join(pairs, on=["barrier", "with_barrier"], how="left", maintain_order="left")
            .with_columns(c("n").fill_null(0).cast(pl.Int64)))


def barrier_by_outcome(ds: Dataset) -> pl.DataFrame:
    """frein_principal, outcome, n: participants by primary barrier and outcome over the period — positive
    exit, other exit, still in the action at the end (every pair, zeros included). Each row of barriers sums
    to `primary_barrier`, the whole frame to `participants`."""
    positive = positive_exits(ds)
    key = person_key(positive)
    tagged = pl.concat([
        positive.select("frein_principal", pl.lit(POSITIVE).alias("outcome")),
        exits(ds).join(positive.select(key), on=key, how="anti").select("frein_principal", pl.lit(OTHER_EXIT).alias("outcome")),
        active_at_end(ds).select("frein_principal", pl.lit(ONGOING).alias("outcome")),
    ])
    barriers = _ordered(participants(ds)["frein_principal"].drop_nulls().unique().to_list())
    grid = pl.DataFrame({"frein_principal": barriers}, schema={"frein_principal": pl.String}).join(
        pl.DataFrame({"outcome": OUTCOMES}), how="cross", maintain_order="left_right")
    found = tally(tagged, "frein_principal", "outcome")
    return (grid.join(found, on=["frein_principal", "outcome"], how="left", maintain_order="left")
            .with_columns(c("n").fill_null(0).cast(pl.Int64)))
