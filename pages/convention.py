"""Convention: the years of the convention side by side, the trend of each figure, the current year to date marked as
such, and the table to download."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.charts.convention import convention_trends
from analytics.reports.csv import frame_csv
from analytics.reports.sections import convention_table
from ui import components as ui
from ui import state

sel = ui.header("Convention", "Les années de la convention côte à côte : positionnés, participants, entrées, sorties, "
                "sorties positives, file active moyenne face à l'objectif, délai du 1er rendez-vous, présence et "
                "indicateurs FSE+. La période choisie dans la barre latérale ne s'applique pas ici ; les filtres, oui.")
frame = state.convention()

if frame is None or frame.is_empty():
    ui.empty_state("La base ne contient encore aucune donnée.")
else:
    partial = frame.filter(pl.col("partial"))
    if partial.height:
        last = partial.row(-1, named=True)
        st.caption(f"{last['year']} : année en cours, données au {fmt.day(last['through'])} — à ne pas comparer telle "
                   "quelle à une année complète (les effectifs et les entrées d'une année partielle sont plus faibles).")
    ui.chart(convention_trends(frame), "convention_trends", definition="convention_years")
    rows = convention_table(frame)
    table = pl.DataFrame([dict(zip(rows[0], r)) for r in rows[1:]])
    ui.data_table(table, height=36 * (table.height + 1) + 4)
    st.download_button("Télécharger le tableau (CSV)", data=frame_csv(table), file_name="convention-annees.csv",
                       mime="text/csv", key="convention_download", icon=":material/download:")
