"""Profils: who the participants of the period are — age, sex, education, household, status, origin, commune."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics import schema as S
from analytics.charts import profile as charts
from analytics.diffusion import align_grid, grid_long, sum_or_masked
from analytics.indicators import profile
from ui import components as ui
from ui import state

ui.header("Profils", "Qui sont les personnes accompagnées : âge, sexe, formation, foyer, statut, prescripteur et commune.")
fig = state.figures()

if fig["participants"] == 0:
    ui.empty_state()
else:
    n = fig["participants"]
    by_household = profile.sex_by_household(state.dataset())
    # diffusion mode: the grid suppressed with its margins (the household and sex figures); no-op otherwise
    by_household = grid_long(align_grid(by_household, "situation_familiale", "sexe", fig, row_margins=fig["household"],
                                        col_margins=fig["sex"], grand_total=n), by_household, "situation_familiale", "sexe")
    women_alone = sum_or_masked(by_household.filter((pl.col("sexe") == "Femme")
                                                    & (pl.col("situation_familiale") == "Seul(e) avec enfant(s)"))["n"], fig)
    women = fig["sex"].get("Femme", 0)

    k = st.columns([1, 1, 1, 1.35])
    ui.kpi(k[0], "participants", fmt.number(n))
    ui.kpi(k[1], "positioned", fmt.number(fig["positioned"]))
    ui.kpi(k[2], "sex", f"{fmt.number(women)} ({fmt.percent(women / n)})", title="Femmes")
    ui.kpi(k[3], "sex_by_household", f"{fmt.number(women_alone)} ({fmt.percent(women_alone / n)})",
           title="Femmes seules avec enfant(s)")

    c1, c2 = st.columns([2, 3])
    with c1:
        ui.chart(charts.sex(ui.counts_frame(fig["sex"])), "profils_sex", definition="sex")
    with c2:
        ui.chart(charts.ordered_columns(ui.counts_frame(fig["age_band"]), total=n), "profils_age", definition="age_band")

    c1, c2 = st.columns([3, 2])
    with c1:
        ui.chart(charts.sex_by_household(by_household), "profils_sex_household", definition="sex_by_household")
    with c2:
        st.markdown("**Foyers**", help=ui.help_text("household"))
        ui.table(fig["household"], "Situation familiale", of=n)
        grid = by_household.pivot("sexe", index="situation_familiale", values="n")
        ui.data_table(grid.with_columns(pl.exclude("situation_familiale").map_elements(fmt.number, return_dtype=pl.String)
                                       .fill_null(f"< {ui.diffusion.k()}"))
                     .rename({"situation_familiale": "Situation familiale"}))

    c1, c2 = st.columns(2)
    with c1:
        ui.chart(charts.education_level(ui.counts_frame(fig["education_level"]), total=n), "profils_education",
                 definition="education_level")
    with c2:
        ui.chart(charts.breakdown(ui.counts_frame(fig["status"]), total=n), "profils_status", definition="status")

    c1, c2 = st.columns(2)
    with c1:
        peers = ui.peer_figures("prescripteur")  # every prescriber, the chosen ones highlighted
        ui.chart(charts.breakdown(ui.counts_frame(peers["prescriber"]), total=peers["positioned"]), "profils_prescriber",
                 definition="prescriber", filter_key="prescripteur")
    with c2:
        peers = ui.peer_figures("commune")
        ui.chart(charts.breakdown(ui.counts_frame(peers["commune"]), total=peers["participants"]), "profils_commune",
                 definition="commune", filter_key="commune")

    with st.expander("Tableaux des effectifs"):
        t = st.columns(3)
        with t[0]:
            ui.table(fig["sex"], "Sexe", of=n)
            ui.table(fig["age_band"], "Tranche d'âge", of=n)
        with t[1]:
            levels = {S.EDUCATION_LABELS[int(k)]: v for k, v in fig["education_level"].items()}
            ui.table(levels, "Niveau de formation", of=n)
            ui.table(fig["status"], "Statut", of=n)
        with t[2]:
            ui.table(fig["prescriber"], "Prescripteur (positionnés)", of=fig["positioned"])
            ui.table(fig["commune"], "Commune", of=n)
