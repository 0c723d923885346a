"""How people leave: reasons, details, immersions before exit, post-exit follow-up."""

from __future__ import annotations

import polars as pl

from analytics import schema as S
from analytics.indicators.base import Dataset, counts, rate
from analytics.indicators.populations import exits

c = pl.col
NOT_FILLED = "Non renseigné"


def exit_reason(ds: Dataset) -> dict:
    return counts(exits(ds), "motif_sortie", S.EXIT_REASONS)


def exit_detail(ds: Dataset) -> dict:
    df = exits(ds).with_columns(c("detail_sortie").fill_null(NOT_FILLED))
    return {motif: counts(df.filter(c("motif_sortie") == motif), "detail_sortie", S.EXIT_DETAILS[motif] + [NOT_FILLED])
            for motif in S.EXIT_DETAILS}


def immersions_before_exit(ds: Dataset) -> pl.DataFrame:
    """Exits of P with their number of immersions started on or before the exit date."""
    ex = exits(ds).select("action", "territoire", "id_participant", "date_sortie")
    n = (ex.join(ds.immersions, on=["action", "territoire", "id_participant"], how="inner")
         .filter(c("date_debut") <= c("date_sortie"))
         .group_by("action", "territoire", "id_participant").len("n_immersions"))
    return ex.join(n, on=["action", "territoire", "id_participant"], how="left").with_columns(c("n_immersions").fill_null(0))


def exits_with_immersion(ds: Dataset) -> int:
    return immersions_before_exit(ds).filter(c("n_immersions") >= 1).height


def exits_with_two_or_more_immersions(ds: Dataset) -> int:
    return immersions_before_exit(ds).filter(c("n_immersions") >= 2).height


def post_exit_follow_up_rate(ds: Dataset) -> float | None:
    """Share of exits with a follow-up contact; None when the column was never collected."""
    if "date_suivi_post_sortie" not in ds.collected.get("participants", set()):
        return None
    ex = exits(ds)
    return rate(ex.filter(c("date_suivi_post_sortie").is_not_null()).height, ex.height)
