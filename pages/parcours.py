"""Parcours et sorties: where the participants go — exit reasons and their detail, monthly positive exit rate,
time spent in the action, immersions before exit."""

import streamlit as st

from analytics import fmt
from analytics.charts import pathways as charts
from analytics.charts import survival as survival_charts
from analytics.charts.base import bar_h
from analytics.diffusion import align_pathways, align_positive_rate, is_masked, masked_names, suppressed_k
from analytics.indicators import exits, survival
from ui import components as ui
from ui import state

ui.header("Parcours et sorties", "Ce que deviennent les participants : motifs et détail des sorties, taux de sorties positives, "
          "durée des parcours et rôle des immersions.")
fig = state.figures()

if fig["participants"] == 0:
    ui.empty_state()
else:
    ds = state.dataset()
    durations = exits.time_in_programme(ds)
    if suppressed_k(fig):  # diffusion mode: no box for a reason whose number of exits is masked
        durations = durations.filter(~durations["motif_sortie"].is_in([r for r, v in fig["exit_reason"].items() if is_masked(v)]))
    median = durations["months"].median() if durations.height else None

    k = st.columns(3)
    ui.kpi(k[0], "exits", fmt.number(fig["exits"]))
    ui.kpi(k[1], "positive_exits", fmt.number(fig["positive_exits"]))
    ui.kpi(k[2], "positive_exit_rate", fmt.percent(fig["positive_exit_rate"]))
    k = st.columns(3)
    ui.kpi(k[0], "exits_with_immersion", fmt.number(fig["exits_with_immersion"]))
    ui.kpi(k[1], "time_in_programme", "–" if median is None else f"{fmt.number(median, 1)} mois", title="Durée médiane de parcours")
    ui.kpi(k[2], "active_at_end", fmt.number(fig["active_at_end"]))

    k = st.columns(3)
    t = fig["time_to_exit"]
    median = t["median_days"]
    ui.kpi(k[0], "time_to_exit", "–" if median is None else fmt.number(median) if isinstance(median, str) else
           f"{fmt.number(median)} jours", title="Durée médiane (Kaplan-Meier)")
    ui.kpi(k[1], "time_to_exit", fmt.percent(t["survival"]["182"]), title="Encore dans l'action à 6 mois")
    ui.kpi(k[2], "time_to_exit", fmt.percent(t["survival"]["365"]), title="Encore dans l'action à 1 an")

    categories = fig["exit_category"]
    ui.chart(bar_h(list(categories), [None if isinstance(v, str) else v for v in categories.values()], total=None, name="Sorties"),
             "parcours_categories", definition="exit_category", masked_totals=masked_names(categories))

    ui.chart(charts.sankey(align_pathways(exits.pathway_flows(ds), fig)), "parcours_sankey", definition="pathway_flows")
    ui.chart(charts.positive_rate(align_positive_rate(exits.positive_rate_by_month(ds), fig)), "parcours_rate",
             definition="positive_rate_by_month",
             masked_totals=masked_names({"Sorties positives": fig["positive_exits"], "Autres sorties": fig["exits"] - fig["positive_exits"]}))

    c1, c2 = st.columns(2)
    with c1:
        ui.chart(charts.time_in_programme(durations), "parcours_duration", definition="time_in_programme")
    with c2:
        ui.chart(charts.exits_by_immersion(exits.exits_by_immersion(ds)), "parcours_immersion", definition="exits_by_immersion",
                 masked_totals=masked_names({**fig["exit_reason"], exits.WITH_IMMERSION: fig["exits_with_immersion"],
                                             exits.WITHOUT_IMMERSION: fig["exits"] - fig["exits_with_immersion"]}))
        st.caption(f"{fmt.number(fig['exits_with_two_or_more_immersions'])} sortants avaient réalisé deux immersions ou plus.")

    k_diffusion = suppressed_k(fig)
    grouping = st.radio("Cohortes d'entrée", ["semester", "year"], index=["semester", "year"].index(survival.default_grouping(ds.period)),
                        format_func=lambda g: {"semester": "par semestre", "year": "par année"}[g], horizontal=True,
                        key="parcours_cohort_grouping")
    c1, c2 = st.columns(2)
    with c1:
        ui.chart(survival_charts.survival_curves(survival.survival_curves(ds, grouping, k=k_diffusion)), "parcours_km_cohort",
                 definition="survival_by_cohort")
    with c2:
        ui.chart(survival_charts.survival_curves(survival.survival_curves(ds, "primary_barrier", k=k_diffusion), band=False),
                 "parcours_km_barrier", definition="survival_by_barrier")

    st.markdown(f"**{ui.label('exit_detail')}**", help=ui.help_text("exit_detail"))
    tables = [(ui.label("exit_reason"), "Motif de sortie", fig["exit_reason"], fig["exits"])]
    tables += [(reason, reason, detail, fig["exit_reason"].get(reason)) for reason, detail in fig["exit_detail"].items()]
    for row in (tables[:2], tables[2:]):
        for column, (name, key_label, counts, of) in zip(st.columns(2), row):
            with column:
                if counts:
                    ui.table(counts, key_label, "Sorties", of=of)
                else:
                    st.caption(f"{name} : aucune sortie.")
