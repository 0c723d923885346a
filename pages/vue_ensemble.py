"""Vue d'ensemble: the headline figures of the period against the previous one, and the caseload curve."""

import streamlit as st

from analytics import fmt
from analytics.config import objective_for
from analytics.charts.caseload import caseload_vs_target
from analytics.diffusion import align_series, masked_names
from analytics.indicators.caseload import caseload_frame
from ui import components as ui
from ui import state

sel = ui.header("Vue d'ensemble", "Les chiffres clés de l'action sur la période, comparés à la période précédente de même durée.")
fig = state.figures()
prev = state.figures(sel.period.previous(), sel.filters)


def delta(key: str, sub: str | None = None, scale: float = 1, decimals: int = 0, suffix: str = "") -> str | None:
    now, before = fig[key], prev[key]
    if sub:
        now, before = (now or {}).get(sub), (before or {}).get(sub)
    if now is None or before is None:
        return None
    return fmt.signed((now - before) * scale, decimals, suffix)


if fig["positioned"] == 0:
    ui.empty_state()
else:
    row1 = st.columns(4)
    ui.kpi(row1[0], "positioned", fmt.number(fig["positioned"]), delta("positioned"))
    ui.kpi(row1[1], "participants", fmt.number(fig["participants"]), delta("participants"))
    objective = objective_for(sel.filters)  # not compared under a commune / EPCI / prescriber filter
    target = objective.target
    ui.kpi(row1[2], "average_caseload", fmt.number(fig["average_caseload"], 2) + (f" / {target}" if target else ""),
           delta("average_caseload", decimals=2))
    ui.kpi(row1[3], "exits", fmt.number(fig["exits"]), delta("exits"), delta_color="off")
    row2 = st.columns(4)
    ui.kpi(row2[0], "positive_exit_rate", fmt.percent(fig["positive_exit_rate"]),
           delta("positive_exit_rate", scale=100, decimals=1, suffix=" pts"))
    delay = fig["first_appointment_delay_days"]
    ui.kpi(row2[1], "first_appointment_delay_days",
           "–" if delay["median"] is None else fmt.MASKED_RATE if isinstance(delay["median"], str)
           else f"{fmt.number(delay['median'], 1 if delay['median'] % 1 else 0)} j",
           delta("first_appointment_delay_days", "median", decimals=1, suffix=" j"), delta_color="inverse",
           title="Délai médian 1er RDV")
    ui.kpi(row2[2], "appointments", fmt.percent(fig["appointments"]["attendance_rate"]),
           delta("appointments", "attendance_rate", scale=100, decimals=1, suffix=" pts"), title="Taux de présence")
    ui.kpi(row2[3], "active_at_end", fmt.number(fig["active_at_end"]), delta("active_at_end"))
    if objective.note:
        st.caption(objective.note)
    st.caption(f"Évolution par rapport à la période précédente : {fmt.period_text(sel.period.previous())}.")

    ds = state.dataset()
    previous_frame = caseload_frame(state.dataset(sel.period.previous(), sel.filters))
    # diffusion mode: the months masked in the figures are masked on the curve (no-op otherwise)
    ui.chart(caseload_vs_target(align_series(caseload_frame(ds), "caseload", "month", fig["monthly_caseload"], fig), previous_frame),
             "overview_caseload", definition="monthly_caseload", masked_totals=masked_names({"File active": fig["average_caseload"]}))
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Sorties**", help="Motifs de sortie de la période : voir la page Parcours et sorties.")
        st.write(f"{fmt.number(fig['exits'])} sorties dont {fmt.number(fig['positive_exits'])} positives "
                 f"({fmt.percent(fig['positive_exit_rate'])}) ; {fmt.number(fig['exits_with_immersion'])} sortants "
                 f"avaient réalisé une immersion.")
    with c2:
        ne = fig["not_entered"]
        st.markdown("**Non-entrées**", help=ui.help_text("not_entered"))
        st.write(", ".join(f"{fmt.number(v)} {k.lower()}" for k, v in ne.items()) or "Aucune non-entrée sur la période.")
