"""How people leave: reasons, details, immersions before exit, post-exit follow-up."""

from __future__ import annotations

import polars as pl

from analytics import schema as S
from analytics.indicators.base import IMMERSIONS_BEFORE_EXIT, Dataset, counts, ordered_counts, person_key, rate, tally
from analytics.indicators.populations import (breakdown, columns_of, count_active_at_end, exits, lazy_population, masks, memoized,
                                              positive_exits)

c = pl.col
NOT_FILLED = "Non renseigné"
PARTICIPANTS_NODE = "Participants"
ONGOING = "En cours"
WITH_IMMERSION, WITHOUT_IMMERSION = "Avec immersion", "Sans immersion"
DAYS_PER_MONTH = 365.25 / 12


def exit_reason(ds: Dataset) -> dict:
    return breakdown(ds, "exits", "motif_sortie", S.EXIT_REASONS)


EXIT_CATEGORIES = ["Emploi durable", "Emploi de transition", "Emploi non précisé", "Sortie positive", "Autre sortie"]
DURABLE_JOBS = ["CDI", "CDD de 6 mois et plus", "Alternance", "Création d'entreprise"]
TRANSITIONAL_JOBS = ["CDD de moins de 6 mois", "Intérim", "Autre contrat"]


def exit_category_expr() -> pl.Expr:
    """The "sorties dynamiques" category of an exit (SPEC-indicators v2). An `Emploi` exit whose detail is neither a
    durable nor a transitional contract (empty, or a value the contract does not list for `Emploi`) is « Emploi non
    précisé », so that the four first categories always add up to `positive_exits`."""
    reason, detail = c("motif_sortie").cast(pl.String), c("detail_sortie").cast(pl.String)
    return (pl.when(reason == "Emploi").then(
                pl.when(detail.is_in(DURABLE_JOBS)).then(pl.lit(EXIT_CATEGORIES[0]))
                .when(detail.is_in(TRANSITIONAL_JOBS)).then(pl.lit(EXIT_CATEGORIES[1]))
                .otherwise(pl.lit(EXIT_CATEGORIES[2])))
            .when(reason == "Formation").then(pl.lit(EXIT_CATEGORIES[3]))
            .otherwise(pl.lit(EXIT_CATEGORIES[4])))


def exit_category(ds: Dataset) -> dict:
    """Exits of P by category: durable job, transitional job, job not specified, training (« Sortie positive »), other."""
    return ordered_counts(tally(lazy_population(ds, "exits"), exit_category_expr().alias("value")), EXIT_CATEGORIES)


def exit_detail(ds: Dataset) -> dict:
    exit_mask = masks(ds.period)["exits"].fill_null(False)
    found = tally(ds.persons.lazy().filter(exit_mask & c("motif_sortie").is_in(list(S.EXIT_DETAILS))),
                  "motif_sortie", c("detail_sortie").alias("value")).with_columns(c("value").fill_null(NOT_FILLED))
    return {motif: ordered_counts(found.filter(c("motif_sortie") == motif), S.EXIT_DETAILS[motif] + [NOT_FILLED])
            for motif in S.EXIT_DETAILS}


@memoized
def immersions_before_exit(ds: Dataset) -> pl.DataFrame:
    """Exits of P (person key, exit date and reason) and their number of immersions started on or before the exit
    date (each person's `immersions_before_exit`, see `base.immersions_before_exit_counts`)."""
    key = person_key(ds.persons)
    return columns_of(ds, "exits", *key, "date_sortie", "motif_sortie", c(IMMERSIONS_BEFORE_EXIT).alias("n_immersions"))


def exits_with_immersion(ds: Dataset) -> int:
    return immersions_before_exit(ds).filter(c("n_immersions") >= 1).height


def exits_with_two_or_more_immersions(ds: Dataset) -> int:
    return immersions_before_exit(ds).filter(c("n_immersions") >= 2).height


def post_exit_follow_up_rate(ds: Dataset) -> float | None:
    """Share of exits with a follow-up contact; None when the column was never collected."""
    if "date_suivi_post_sortie" not in ds.collected.get("participants", set()):
        return None
    followed, n = lazy_population(ds, "exits").select(c("date_suivi_post_sortie").is_not_null().sum(), pl.len()).collect().row(0)
    return rate(int(followed), n)


def pathway_flows(ds: Dataset) -> pl.DataFrame:
    """stage, source, target, n: the links of the pathway Sankey.

    Stage 1: « Participants » → exit reason for the exits of P, or « En cours » for those still in the action at
    its end (the flows out of « Participants » add up to `participants`). Stage 2: exit reason → contract, type of
    training or recommended next step, for the reasons that carry a detail (`exit_detail`).
    """
    rows = [(1, PARTICIPANTS_NODE, reason, n) for reason, n in exit_reason(ds).items()]
    ongoing = count_active_at_end(ds)
    if ongoing:
        rows.append((1, PARTICIPANTS_NODE, ONGOING, ongoing))
    rows += [(2, reason, detail, n) for reason, details in exit_detail(ds).items() for detail, n in details.items()]
    return pl.DataFrame(rows, schema={"stage": pl.Int64, "source": pl.String, "target": pl.String, "n": pl.Int64},
                        orient="row")


def positive_rate_by_month(ds: Dataset) -> pl.DataFrame:
    """month, exits, positive_exits, rate: for every month of P, positive exits / exits of the month (rate null
    when the month has no exit, 4 decimals)."""
    def by_month(df: pl.DataFrame, name: str) -> pl.DataFrame:
        return df.group_by(c("date_sortie").dt.strftime("%Y-%m").alias("month")).len(name)

    months = pl.DataFrame({"month": [m for m, _, _ in ds.period.months()]}, schema={"month": pl.String})
    frame = (months.join(by_month(exits(ds), "exits"), on="month", how="left", maintain_order="left")
             .join(by_month(positive_exits(ds), "positive_exits"), on="month", how="left", maintain_order="left")
             .with_columns(c("exits", "positive_exits").fill_null(0).cast(pl.Int64)))
    return frame.with_columns(pl.Series("rate", [rate(p, e) for e, p in zip(frame["exits"], frame["positive_exits"])],
                                        dtype=pl.Float64))


def time_in_programme(ds: Dataset) -> pl.DataFrame:
    """motif_sortie, days, months: one row per exit of P, the time from entry to exit (months of 30,44 days,
    1 decimal), by exit reason in the contract order."""
    order = {reason: i for i, reason in enumerate(S.EXIT_REASONS)}
    return (exits(ds)
            .select(c("motif_sortie").cast(pl.String), (c("date_sortie") - c("date_entree")).dt.total_days().cast(pl.Int64).alias("days"))
            .with_columns((c("days") / DAYS_PER_MONTH).round(1).alias("months"))
            .sort(c("motif_sortie").replace_strict(order, default=len(order), return_dtype=pl.Int64), "days"))


def exits_by_immersion(ds: Dataset) -> pl.DataFrame:
    """motif_sortie, immersion, n: exits of P by reason, with or without an immersion begun before the exit
    (`immersions_before_exit`; the « Avec immersion » rows add up to `exits_with_immersion`)."""
    tagged = immersions_before_exit(ds).with_columns(
        pl.when(c("n_immersions") >= 1).then(pl.lit(WITH_IMMERSION)).otherwise(pl.lit(WITHOUT_IMMERSION)).alias("immersion"))
    reasons = list(counts(tagged, "motif_sortie", S.EXIT_REASONS))
    grid = pl.DataFrame({"motif_sortie": reasons}, schema={"motif_sortie": pl.String}).join(
        pl.DataFrame({"immersion": [WITH_IMMERSION, WITHOUT_IMMERSION]}), how="cross", maintain_order="left_right")
    found = tally(tagged, "motif_sortie", "immersion")
    return (grid.join(found, on=["motif_sortie", "immersion"], how="left", maintain_order="left")
            .with_columns(c("n").fill_null(0).cast(pl.Int64)))
