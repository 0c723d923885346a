"""Activité: appointments held and attended, delay to the first appointment, work immersions and what they led to."""

import streamlit as st

from analytics import fmt
from analytics.charts.activity import appointments_by_month as appointments_chart
from analytics.charts.activity import first_appointment_delays, immersion_outcomes as immersion_chart
from analytics.diffusion import masked_names
from analytics.indicators.activity import appointments_by_month, first_appointment_delay_buckets, immersion_outcomes
from ui import components as ui
from ui import state

sel = ui.header("Activité", "Les rendez-vous tenus et honorés, la rapidité du premier rendez-vous après la prescription, "
                "et les immersions en entreprise (PMSMP) avec ce qu'elles ont donné.")
fig = state.figures()
ds = state.dataset()
appointments = fig["appointments"]
delay = fig["first_appointment_delay_days"]
immersions = fig["immersions"]

if fig["positioned"] == 0 and appointments["planned"] == 0 and immersions["count"] == 0 and delay["median"] is None:
    ui.empty_state()
else:
    row1 = st.columns(4)
    ui.kpi(row1[0], "appointments", fmt.number(appointments["planned"]), title="Rendez-vous planifiés")
    ui.kpi(row1[1], "appointments", fmt.number(appointments["attended"]), title="Rendez-vous honorés")
    ui.kpi(row1[2], "appointments", fmt.percent(appointments["attendance_rate"]), title="Taux de présence")
    median = delay["median"]
    ui.kpi(row1[3], "first_appointment_delay_days", "–" if median is None else fmt.MASKED_RATE if isinstance(median, str)
           else f"{fmt.number(median, 1 if median % 1 else 0)} j",
           title="Délai médian 1er RDV")
    row2 = st.columns(4)
    ui.kpi(row2[0], "first_appointment_delay_days", fmt.percent(delay["within_7_days_rate"]), title="1ers RDV dans les 7 jours")
    ui.kpi(row2[1], "immersions", fmt.number(immersions["count"]), title="Immersions (PMSMP)")
    ui.kpi(row2[2], "immersions", fmt.number(immersions["led_to_contract"]), title="Immersions → contrat")

    months = [m for m, _, _ in sel.period.months()]
    ui.chart(appointments_chart(appointments_by_month(ds), months), "activite_appointments", definition="appointments_by_month",
             masked_totals=masked_names(appointments["by_modality"]))  # diffusion mode: totals masked in the figures
    if appointments["by_modality"]:
        st.caption("Par modalité sur la période : " + ", ".join(
            f"{m.lower()} {fmt.number(n)} ({fmt.percent(n / appointments['planned'], 0)})" for m, n in appointments["by_modality"].items()) + ".")

    c1, c2 = st.columns(2)
    with c1:
        ui.chart(first_appointment_delays(first_appointment_delay_buckets(ds)), "activite_delays",
                 definition="first_appointment_delay_buckets")
        if median is not None and not isinstance(median, str):
            st.caption(f"Médiane : {fmt.number(median, 1 if median % 1 else 0)} jours ; "
                       f"{fmt.percent(delay['within_7_days_rate'])} des 1ers rendez-vous dans les 7 jours.")
    with c2:
        ui.chart(immersion_chart(immersion_outcomes(ds)), "activite_immersions", definition="immersion_outcomes",
                 masked_totals=masked_names({"À débouché sur un contrat": immersions["led_to_contract"]}))
        led = immersions["led_to_contract"]
        st.caption(f"{fmt.count_noun(immersions['count'], 'immersion commencée', 'immersions commencées').capitalize()} "
                   f"sur la période, dont " + ("aucune n'a débouché" if led == 0 else f"{fmt.number(led)} {fmt.verb(led, 'a débouché', 'ont débouché')}")
                   + " sur un contrat.")
        ui.mask_legend([immersions["count"], led])
