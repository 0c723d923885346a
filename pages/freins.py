"""Freins: the barriers to employment of the participants, how they combine and how people with each leave."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.charts import barriers as charts
from analytics.charts.base import ACCENT
from analytics.charts.profile import breakdown
from analytics.diffusion import align_grid, grid_long
from analytics.indicators import barriers
from ui import components as ui
from ui import state

ui.header("Freins", "Les freins à l'emploi repérés au diagnostic : le principal, tous ceux cités, ceux qui vont ensemble, "
          "et l'issue du parcours selon le frein principal.")
fig = state.figures()

if fig["participants"] == 0:
    ui.empty_state()
else:
    n = fig["participants"]
    ds = state.dataset()
    primary, any_ = fig["primary_barrier"], fig["barrier_any"]
    top_primary = max(primary, key=primary.get) if primary else None
    real = {b: v for b, v in any_.items() if b != "Aucun"}
    top_any = max(real, key=real.get) if real else None

    k = st.columns(3)
    ui.kpi(k[0], "participants", fmt.number(n))
    if top_primary:
        ui.kpi(k[1], "primary_barrier", f"{fmt.number(primary[top_primary])} ({fmt.percent(primary[top_primary] / n)})",
               title=f"Frein principal le plus cité : {top_primary}")
    if top_any:
        ui.kpi(k[2], "barrier_any", f"{fmt.number(real[top_any])} ({fmt.percent(real[top_any] / n)})",
               title=f"Frein le plus répandu : {top_any}")

    c1, c2 = st.columns(2)
    with c1:
        ui.chart(breakdown(ui.counts_frame(primary), total=n), "freins_primary", definition="primary_barrier")
    with c2:
        ui.chart(breakdown(ui.counts_frame(any_), total=n, color=ACCENT), "freins_any", definition="barrier_any")
        st.caption("Part des participants : une personne peut avoir plusieurs freins, le total dépasse donc 100 %.")

    ui.chart(charts.cooccurrence(barriers.barrier_cooccurrence(ds)), "freins_cooccurrence", definition="barrier_cooccurrence")

    outcome = barriers.barrier_by_outcome(ds)
    # diffusion mode: barrier × outcome suppressed with its margins (primary barriers, positive exits, still in); no-op otherwise
    suppressed = align_grid(outcome, "frein_principal", "outcome", fig, row_margins=primary, grand_total=n,
                            col_margins={barriers.POSITIVE: fig["positive_exits"], barriers.ONGOING: fig["active_at_end"],
                                         barriers.OTHER_EXIT: fig["exits"] - fig["positive_exits"]})
    outcome = grid_long(suppressed, outcome, "frein_principal", "outcome")
    ui.chart(charts.by_outcome(outcome), "freins_outcome", definition="barrier_by_outcome")
    grid = outcome.pivot("outcome", index="frein_principal", values="n")
    cols = [col for col in grid.columns if col != "frein_principal"]
    if suppressed is None:
        grid = grid.with_columns(pl.sum_horizontal(cols).alias("Total"))
        grid = pl.concat([grid, grid.select(pl.lit("Total").alias("frein_principal"), *[pl.col(col).sum() for col in cols + ["Total"]])])
    else:  # the margins as published (a masked one is null)
        t = suppressed.totals
        grid = grid.with_columns(pl.Series("Total", [t[("row", r)] for r in grid["frein_principal"]], pl.Int64))
        grid = pl.concat([grid, pl.DataFrame([["Total", *[t[("col", col)] for col in cols], t[("all",)]]], schema=grid.schema,
                                             orient="row")])
    ui.data_table(grid.with_columns(pl.exclude("frein_principal").map_elements(fmt.number, return_dtype=pl.String)
                                   .fill_null(f"< {ui.diffusion.k()}"))
                  .rename({"frein_principal": "Frein principal"}))
