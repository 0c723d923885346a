"""File active: the monthly caseload against the convention's target, a year earlier, and the flows that feed it."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.config import objective_for
from analytics.charts.caseload import caseload_vs_target, flows, prescriptions
from analytics.diffusion import align_counts, align_flows, align_series, masked_names, rows_of
from analytics.indicators.caseload import (caseload_frame, caseload_table, monthly_flows, months_at_or_above_target,
                                           prescriptions_by_month, year_earlier)
from ui import components as ui
from ui import state

sel = ui.header("File active", "Le nombre de personnes accompagnées chaque mois, comparé à l'objectif de la convention "
                "et à la même période de l'année précédente, avec les entrées, sorties et prescriptions qui l'alimentent.")
fig = state.figures()
ds = state.dataset()
previous = year_earlier(sel.period)  # = sel.period.previous() for a calendar year

if fig["positioned"] == 0:
    ui.empty_state()
else:
    objective = objective_for(sel.filters)  # not drawn nor compared under a commune / EPCI / prescriber filter
    target = objective.target
    average = fig["average_caseload"]
    n_months = len(fig["monthly_caseload"])
    at_target = months_at_or_above_target(ds)
    cols = st.columns(4)
    ui.kpi(cols[0], "average_caseload", fmt.number(average, 2) + (f" / {target}" if target else ""),
           fmt.signed(average - target, 2, " par rapport à l'objectif") if target is not None and average is not None else None)
    ui.kpi(cols[1], "months_at_target", "–" if at_target is None else f"{fmt.number(at_target)} / {fmt.number(n_months)}")
    ui.kpi(cols[2], "active_at_end", fmt.number(fig["active_at_end"]))
    ui.kpi(cols[3], "monthly_flows", f"{fmt.number(fig['entries'])} / {fmt.number(fig['exits'])}", title="Entrées / sorties")
    if objective.note:
        st.caption(objective.note)

    previous_frame = caseload_frame(state.dataset(previous, sel.filters))
    # diffusion mode: the frames drawn carry the masks of the figures shown beside them (no-op otherwise)
    ui.chart(caseload_vs_target(align_series(caseload_frame(ds), "caseload", "month", fig["monthly_caseload"], fig), previous_frame),
             "file_active_caseload", definition="monthly_caseload", masked_totals=masked_names({"File active": average}))
    st.caption(f"En pointillés gris : la même période un an plus tôt ({fmt.period_text(previous)}).")

    c1, c2 = st.columns(2)
    with c1:
        flow_totals = {"entries": fig["entries"], "exits": fig["exits"]}
        # diffusion mode: grouped by quarter when most months would be masked, and said so (no-op otherwise)
        flow_frame, grouped = align_flows(monthly_flows(ds), ["entries", "exits"], fig, flow_totals)
        ui.chart(flows(flow_frame), "file_active_flows", definition="monthly_flows")
        if grouped:
            st.caption(grouped)
    with c2:
        months = [m for m, _, _ in sel.period.months()]
        ui.chart(prescriptions(prescriptions_by_month(ds), months), "file_active_prescriptions", definition="prescriptions_by_month")

    st.markdown(f"**{ui.label('caseload_table')}**", help=ui.help_text("caseload_table"))
    table = align_counts(align_series(caseload_table(ds), "caseload", "month", fig["monthly_caseload"], fig), ["entries", "exits"],
                         fig, {"entries": fig["entries"], "exits": fig["exits"]})
    # the gap to the objective only where an objective applies; a masked month has no gap to show (« — »)
    rows = [{"Mois": fmt.month_label(m, long=True).capitalize(), "File active": fmt.number(n),
             **({"Écart à l'objectif": fmt.signed(n - target) or "—"} if target is not None else {}),
             "Entrées": fmt.number(e), "Sorties": fmt.number(x)}
            for m, n, e, x in rows_of(table.select("month", "caseload", "entries", "exits"), fig)]
    rows.append({"Mois": "Total / moyenne", "File active": fmt.number(average, 2),
                 **({"Écart à l'objectif": fmt.signed(average - target, 2) or "—"} if target is not None else {}),
                 "Entrées": fmt.number(fig["entries"]), "Sorties": fmt.number(fig["exits"])})
    ui.data_table(pl.DataFrame(rows))
    ui.mask_legend([v for row in rows_of(table.select("caseload", "entries", "exits"), fig) for v in row] + [average])
