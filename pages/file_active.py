"""File active: the monthly caseload against the convention's target, a year earlier, and the flows that feed it."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.config import objective_for
from analytics.charts.caseload import caseload_forecast, caseload_vs_target, flows, prescriptions
from analytics.diffusion import align_flows, align_series, coarsen_caseload, masked_names, rows_of, suppressed_k
from analytics.indicators.projection import backtest_summary, basis_too_small
from analytics.reports.common import data_date
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
    # diffusion mode: grouped by quarter as soon as a month would be masked, and said so (no-op otherwise)
    done = coarsen_caseload(caseload_table(ds).select("month", "caseload", "entries", "exits"), fig, ["entries", "exits"],
                            {"entries": fig["entries"], "exits": fig["exits"]})
    table = done.frame
    decimals = 2 if done.quarterly else 0  # a quarter's caseload is the mean of its months
    caseload_head = "File active moyenne" if done.quarterly else "File active"
    # the gap to the objective only where an objective applies; a masked month has no gap to show (« — »)
    rows = [{"Trimestre" if done.quarterly else "Mois": fmt.month_label(m, long=True).capitalize(),
             caseload_head: fmt.number(n, decimals),
             **({"Écart à l'objectif": fmt.signed(n - target, decimals) or "—"} if target is not None else {}),
             "Entrées": fmt.number(e), "Sorties": fmt.number(x)}
            for m, n, e, x in rows_of(table.select("month", "caseload", "entries", "exits"), fig)]
    rows.append({"Trimestre" if done.quarterly else "Mois": "Total / moyenne", caseload_head: fmt.number(average, 2),
                 **({"Écart à l'objectif": fmt.signed(average - target, 2) or "—"} if target is not None else {}),
                 "Entrées": fmt.number(fig["entries"]), "Sorties": fmt.number(fig["exits"])})
    ui.data_table(pl.DataFrame(rows))
    if done.note:
        st.caption(done.note)
    ui.mask_legend([v for row in rows_of(table.select("caseload", "entries", "exits"), fig) for v in row] + [average])

    # ---------------------------------------------------------------- the forecast (from the data date by default)
    st.subheader("Prévision des prochains mois")
    con = state.connection()
    latest = data_date(con) if con is not None else None
    if latest is not None:
        c1, c2 = st.columns([1, 1])
        at = c1.date_input("Prévision faite le", value=latest, max_value=latest, format="DD/MM/YYYY", key="projection_at",
                           help="Seules les données connues à cette date sont utilisées ; par défaut la date des données.")
        months = c2.selectbox("Horizon", [3, 6, 12], index=1, format_func=lambda n: f"{n} mois", key="projection_months")
        with st.spinner("Simulation des prochains mois…"):
            forecast, frame, past = state.projection(at, months)
        if basis_too_small(forecast, suppressed_k(fig)):
            st.info(f"Prévision non affichée en mode diffusion : elle reposerait sur moins de {suppressed_k(fig)} personnes.")
        else:
            ui.chart(caseload_forecast(frame), "file_active_forecast", definition="projection")
            summary = {r["horizon"]: r for r in backtest_summary(past).iter_rows(named=True)} if past.height else {}
            rows = []
            for h, (m, f) in enumerate(forecast["months"].items(), start=1):
                err = summary.get(h)
                rows.append({"Mois": fmt.month_label(m, long=True).capitalize(), "File active prévue": fmt.number(f["expected"], 1),
                             "Intervalle à 80 %": f"{fmt.number(f['low'])} à {fmt.number(f['high'])}",
                             "Erreur moyenne passée": "–" if err is None else f"± {fmt.number(err['mean_abs_error'], 1)}",
                             "Entrées nécessaires": fmt.number(forecast["entries_needed"][m]),
                             "Prescriptions nécessaires": fmt.number(forecast["prescriptions_needed"][m])})
            st.markdown(f"**{ui.label('entries_needed')} et {ui.label('prescriptions_needed').lower()}**",
                        help=ui.help_text("entries_needed") + " " + ui.help_text("prescriptions_needed"))
            ui.data_table(pl.DataFrame(rows))
            share = forecast["entry_share"]
            st.caption(f"Rythme d'entrée retenu : {fmt.number(forecast['basis']['entries_per_month'], 1)} par mois ; "
                       f"part des prescriptions suivies d'une entrée sur les 12 derniers mois : {fmt.percent(share)}.")
            if past.height:
                coverage = float(((past["actual"] >= past["low"]) & (past["actual"] <= past["high"])).mean())
                st.markdown(f"**{ui.label('projection_backtest')}**", help=ui.help_text("projection_backtest"))
                st.caption(f"Méthode rejouée à {fmt.number(past['at'].n_unique())} dates passées : erreur moyenne de "
                           f"{fmt.number(summary[1]['mean_abs_error'], 1)} personne(s) à 1 mois et de "
                           f"{fmt.number(summary[max(summary)]['mean_abs_error'], 1)} à {max(summary)} mois ; la file active "
                           f"constatée est tombée dans l'intervalle à 80 % dans {fmt.percent(coverage, 0)} des cas.")
            else:
                st.caption("Pas encore assez d'historique pour mesurer l'erreur des prévisions passées.")
