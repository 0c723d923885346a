"""Typologie: which kinds of people the action serves, and how each fares (analytics/typology)."""

import polars as pl
import streamlit as st

from analytics import fmt
from analytics.charts import typology as charts
from analytics.definitions import help_text
from analytics.typology import model, outcomes
from analytics.typology.storage import axis_sentences, strongest
from ui import components as ui
from ui import state
from ui.components import PLOTLY_CONFIG, alternative
from ui.filters import set_filter



def _type_name() -> pl.Expr:
    return pl.when(pl.col("type") == 0).then(pl.lit("Autres types")).otherwise(pl.format("Type {}", "type")).alias("Type")


ui.header("Typologie", "Quels types de personnes l'action accompagne, et ce que chacun devient : sorties, durée, présence.")
found = state.typology()
if found is None or not found[0].available:
    st.info((found[0].message if found else "Aucune base : importez un extrait depuis la page Données.")
            + " La typologie est recalculée à chaque import.", icon=":material/info:")
    st.stop()
typ, assign = found
sel = state.selection()
fig = state.figures()
diffusion = ui.diffusion.enabled()
k = ui.diffusion.k()
raw, attendance, categories, reasons = state.typology_outcomes()
frame = outcomes.suppress(raw, k) if diffusion else raw
verdict = outcomes.chance(raw)

st.markdown("**Typologie des publics**", help=help_text("typology"))
st.caption(f"{len(typ.types)} types, construits sur les {fmt.number(typ.meta.get('n'))} personnes entrées dans l'action "
           "(toute la base) ; les effectifs ci-dessous sont ceux des participants de la période et des filtres choisis."
           + (" " + " ".join(typ.meta.get("notes") or []) if typ.meta.get("notes") else ""))

if fig["participants"] == 0:
    ui.empty_state()
    st.stop()

# ---- one card per type
st.subheader("Les types", help=help_text("typology_types"))
att = dict(zip(attendance["type"].to_list(), attendance["attendance_rate"].to_list()))
chosen = set(sel.filters.typology)
cols = st.columns(3)
for i, r in enumerate(frame.iter_rows(named=True)):
    with cols[i % 3].container(border=True):
        t = r["type"]
        st.markdown(f"**Type {t} — {r['label']}**" if t else f"**{r['label']}**")
        share = "" if r["share"] is None else f" ({fmt.percent(r['share'], 0)})"
        st.markdown(f"{fmt.number(r['n']) if r['n'] is not None else f'< {k}'} participants{share}")
        if t:
            mods = strongest(typ, t, 4)
            if not mods.is_empty():
                st.markdown("  \n".join(
                    f"· {m['modality']} : {fmt.percent(m['share_in_type'], 0)} du type, {fmt.percent(m['share_overall'], 0)} "
                    f"de l'ensemble" for m in mods.iter_rows(named=True)), help=help_text("typology_test_value"))
        rate = r["positive_exit_rate"]
        exits = r["exits"]
        if exits == 0:
            st.caption("Aucune sortie sur la période.")
        elif rate is None:
            st.caption(f"Sorties : {fmt.number(exits) if exits is not None else f'< {k}'} — taux masqué (secret statistique).")
        else:
            st.markdown(f"Sorties positives : **{fmt.percent(rate, 0)}** de {fmt.number(exits)} sorties "
                        f"(entre {fmt.percent(r['low'], 0)} et {fmt.percent(r['high'], 0)})", help=help_text("typology_outcomes"))
        details = []
        if r["median_days"] is not None:
            entries = "" if r["cohort"] is None else f", sur {fmt.number(r['cohort'])} entrées de la période"
            details.append(f"durée médiane de parcours : {fmt.number(r['median_days'])} jours (Kaplan-Meier{entries})")
        elif r["cohort"]:
            details.append(f"durée médiane de parcours non atteinte : moins de la moitié des {fmt.number(r['cohort'])} "
                           "entrées de la période sont sorties")
        if t and att.get(t) is not None and not diffusion:
            details.append(f"présence aux rendez-vous : {fmt.percent(att[t], 0)}")
        if details:
            line = " · ".join(details)
            st.caption(line[0].upper() + line[1:],
                       help=help_text("typology_median_days") + " " + help_text("typology_attendance"))
        if t:
            if t in chosen and len(chosen) == 1:
                st.button("Retirer le filtre sur ce type", key=f"typo_off_{t}", on_click=set_filter, args=("type", []))
            else:
                st.button("Filtrer le tableau de bord sur ce type", key=f"typo_on_{t}", on_click=set_filter,
                          args=("type", [str(t)]), help="Toutes les pages ne montrent plus que les personnes de ce type "
                                                       "(filtre « Type de public » de la barre latérale, repris dans l'adresse).")

# ---- outcomes compared
st.subheader("Ce que deviennent les types", help=help_text("typology_outcomes"))
outcome_fig = charts.outcome_comparison(frame, overall=fig["positive_exit_rate"] if not isinstance(fig["positive_exit_rate"], str) else None)
with st.container(key="chart_typologie_outcomes"):  # the chart with its text alternative (ui.components.alternative)
    st.plotly_chart(outcome_fig, key="typologie_outcomes", config=PLOTLY_CONFIG, width="stretch")
    alternative(outcome_fig, "Taux de sorties positives par type")
st.info(verdict["sentence"], icon=":material/balance:")

# ---- factor map
st.subheader("Carte des profils", help=help_text("typology_map"))
for line in axis_sentences(typ):
    st.caption(line)
persons = pl.DataFrame() if diffusion else typ.map_persons  # a point per person is not published in diffusion mode
if diffusion:
    st.caption("Mode diffusion : les personnes ne sont pas dessinées, seules les modalités le sont.")
map_fig = charts.factor_map(typ.map_modalities, persons, typ.types, typ.meta.get("inertia_share"), model.VARIABLES,
                           counts=not diffusion)
with st.container(key="chart_typologie_map"):
    st.plotly_chart(map_fig, key="typologie_map", config=PLOTLY_CONFIG, width="stretch")
    alternative(map_fig, "Carte des profils")

# ---- tables
with st.expander("Par année de la convention"):
    st.caption(help_text("typology_by_year"))
    years = state.typology_years()
    if not years.is_empty():
        shown = outcomes.suppress_years(years, k) if diffusion else years
        table = shown.with_columns(
            pl.format("{} ({})", pl.col("positive_exit_rate").map_elements(fmt.percent, return_dtype=pl.String),
                      pl.col("exits").map_elements(fmt.number, return_dtype=pl.String)).alias("cell"))
        wide = table.select(pl.col("year").cast(pl.String), _type_name(), "cell").pivot(
            "year", index="Type", values="cell")
        ui.data_table(wide)
        st.caption("Taux de sorties positives de l'année (nombre de sorties) ; « – » : aucune sortie.")
with st.expander("Catégories de sortie par type"):
    st.caption(help_text("typology_exit_categories"))
    if diffusion:
        st.caption("Non publié en mode diffusion.")
    elif categories["n"].sum():
        wide = (categories.with_columns(_type_name()).pivot("category", index="Type", values="n", sort_columns=False)
                .with_columns(pl.sum_horizontal(pl.exclude("Type")).alias("Sorties")))
        ui.data_table(wide)
    else:
        st.caption("Aucune sortie sur la période.")
with st.expander("Motifs de sortie par type"):
    if diffusion:
        st.caption("Non publié en mode diffusion.")
    elif not reasons.is_empty():
        wide = reasons.with_columns(_type_name()).pivot("motif_sortie", index="Type", values="n").fill_null(0)
        ui.data_table(wide)
with st.expander("Modalités caractéristiques (valeurs-test) et méthode"):
    st.caption(help_text("typology_test_value"))
    desc = typ.description.filter(pl.col("test_value") >= model.TEST_VALUE_THRESHOLD).select(
        pl.format("Type {}", "type").alias("Type"),
        pl.col("variable").replace_strict(model.VARIABLES, default=pl.col("variable")).alias("Variable"),
        pl.col("modality").alias("Modalité"),
        pl.col("test_value").map_elements(lambda v: fmt.number(v, 1), return_dtype=pl.String).alias("Valeur-test"),
        pl.col("share_in_type").map_elements(lambda v: fmt.percent(v, 0), return_dtype=pl.String).alias("Dans le type"),
        pl.col("share_overall").map_elements(lambda v: fmt.percent(v, 0), return_dtype=pl.String).alias("Dans l'ensemble"))
    ui.data_table(desc)
    crit = typ.meta.get("criterion") or {}
    st.caption(f"Méthode : {typ.meta.get('method', '')}. Nombre de types retenu : {typ.meta.get('k')} (gain relatif "
               "d'inertie, entre 3 et 6 types : " + ", ".join(f"{kk} types : {fmt.percent(v, 0)}" for kk, v in crit.items())
               + f"). {typ.meta.get('n_axes')} axes de l'ACM retenus (valeur propre supérieure à la moyenne).")
