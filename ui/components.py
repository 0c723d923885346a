"""Page building blocks: header, KPI cards, charts with click-to-filter, empty states."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from analytics import fmt
from analytics.charts import alt
from analytics.definitions import DEFINITIONS, help_text, label
from analytics.diffusion import Masked, is_masked, legend
from ui import diffusion, state
from ui.filters import set_filter

# The mode bar keeps only the PNG download (its tooltip is put in French by ui/french.py); zoom, pan and lasso
# tools are of little use on these small charts and each brings an English tooltip.
PLOTLY_CONFIG = {"displaylogo": False, "locale": "fr", "toImageButtonOptions": {"format": "png", "scale": 2},
                 "modeBarButtonsToRemove": ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
                                            "resetScale2d", "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian",
                                            "zoomInGeo", "zoomOutGeo", "resetGeo", "hoverClosestGeo", "zoomInMap", "zoomOutMap",
                                            "resetViewMap", "resetViews", "toggleHover", "resetViewMapbox"]}
EMPTY = "—"  # an empty value in a table (never « None »)


def header(title: str, purpose: str) -> state.Selection:
    """Page title, one-line purpose, the selection in words; returns the selection.

    First the access check (`ui.auth.guard`): a page file run on its own (a deep link served without the router)
    still asks for a login and refuses a page the role may not use."""
    from ui import auth

    auth.guard(title)
    st.title(title)
    sel = state.selection()
    parts = [fmt.period_text(sel.period).capitalize()]
    f = sel.filters
    for name, values in (("communes", f.commune), ("prescripteurs", f.prescriber), ("territoires", f.territory), ("actions", f.action),
                         ("EPCI", f.epci)):
        if values:
            parts.append(f"{name} : {', '.join(values)}")
    shown = state.shown_import()
    if shown:  # which state of the store the figures are computed on (sidebar « Import affiché »)
        parts.append(f"import n° {shown['import_id']} du {fmt.day(shown['imported_at'].date())}")
    if f.typology:
        parts.append(f"types de public : {', '.join(map(str, f.typology))}")
    parts.append(data_date_text())
    st.caption(purpose + "  \n" + " · ".join(parts))
    if state.options().get("demo"):
        st.info("Données de démonstration (extrait synthétique fidèle au bilan 2023). Importez vos extraits depuis la page Données.",
                icon=":material/info:")
    return sel


def data_date_text() -> str:
    """« Données au JJ/MM/AAAA »: the data date of the store (`analytics.indicators.data_date`), on every page."""
    return fmt.data_date_label(state.data_date())


def kpi(column, key: str, value: str, delta: str | None = None, delta_color: str = "normal", title: str | None = None) -> None:
    arrow = "auto"
    if delta is not None and not any(ch in "123456789" for ch in delta):  # no change: a neutral badge, no arrow
        arrow, delta_color = "off", "off"
    elif delta and delta.startswith("−"):  # fmt.signed writes a typographic minus; Streamlit only reads "-" as a decrease
        arrow, delta_color = "down", {"normal": "red", "inverse": "green"}.get(delta_color, delta_color)
    column.metric(title or label(key), value, delta=delta, delta_color=delta_color, delta_arrow=arrow, help=help_text(key), border=True)


def chart(fig: go.Figure, key: str, definition: str | None = None, filter_key: str | None = None, axis: str = "y",
          masked_totals=(), title: str | None = None, on_select=None, selection_mode="points") -> None:
    """Draw a figure with its text alternative (WCAG 1.1.1): a one-line summary, read as the chart's accessible
    name and shown under it, and its data behind « Voir les données » (analytics.charts.alt, read from the figure).

    With `filter_key`, clicking a bar sets that global filter to the clicked label; the bars of the values already
    chosen are highlighted (the page draws the chart from `peer_figures(filter_key)`, so the others stay
    clickable). `on_select`: a page's own click handler (the map). In diffusion mode the figure is masked first
    (`masked_totals`: traces or categories whose total is masked in the figures shown beside it)."""
    fig = diffusion.figure(fig, masked_totals)
    if definition:
        st.markdown(f"**{DEFINITIONS[definition].label}**", help=help_text(definition))
    name = title or (DEFINITIONS[definition].label if definition else None)
    with st.container(key=f"chart_{key}"):
        if filter_key:
            highlight(fig, st.session_state.get(filter_key) or [], axis)
            st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, on_select=_on_click(key, filter_key, axis),
                            selection_mode="points", width="stretch")
            st.caption("Cliquez sur une barre pour filtrer tout le tableau de bord.")
        elif on_select is not None:
            st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, on_select=on_select, selection_mode=selection_mode,
                            width="stretch")
        else:
            st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")
        alternative(fig, name)


def alternative(fig: go.Figure, name: str | None = None) -> None:
    """The summary (`ui/french.py` makes it the chart's accessible name) and the data table in an expander."""
    st.caption(f"Résumé du graphique : {alt.summary(fig, name)}")
    data = alt.data_table(fig)
    if not data.is_empty():
        if diffusion.enabled():  # a count below the threshold left in a figure's data reads « < k », as in the tables
            k = diffusion.k()
            data = data.with_columns(pl.when(pl.col("Valeur").str.contains(r"^[1-9]$|^[1-9]\d$")
                                             & (pl.col("Valeur").cast(pl.Int64, strict=False) < k))
                                     .then(pl.lit(f"< {k}")).otherwise(pl.col("Valeur")).alias("Valeur"))
        with st.expander("Voir les données", icon=":material/table:"):
            # a static HTML table: read cell by cell by screen readers, no toolbar
            st.table(data, hide_index=True)


def highlight(fig: go.Figure, chosen: list[str], axis: str = "y") -> go.Figure:
    """Cross-filter: the bars of the chosen values stand out, the others are dimmed but stay (and stay clickable)."""
    if not chosen:
        return fig
    for trace in fig.data:
        if trace.type != "bar":
            continue
        cats = list(getattr(trace, axis) or [])
        picked = [i for i, c in enumerate(cats) if str(c) in chosen]
        if picked:
            trace.selectedpoints = picked
            trace.selected = dict(marker=dict(opacity=1.0))
            trace.unselected = dict(marker=dict(opacity=0.35))
    return fig


def peer_figures(filter_key: str) -> dict:
    """The figures of the selection without the filter a clickable chart sets (its own dimension): the chart shows
    every value, the chosen ones highlighted, instead of collapsing to the clicked bar."""
    sel = state.selection()
    attr = state.FILTER_KEYS[filter_key]
    if not getattr(sel.filters, attr):
        return state.figures()
    from dataclasses import replace

    return state.figures(sel.period, replace(sel.filters, **{attr: ()}))


def data_table(df: pl.DataFrame, static: bool = False, **kwargs) -> None:
    """A read-only table: every empty value reads « — » (never « None »). `static`: an HTML table whose long texts
    wrap instead of being cut (for a few hundred rows at most)."""
    # text columns, and any column with an empty value, read « — » there; full numeric columns stay numeric (sorting)
    shown = df.with_columns([pl.col(c).cast(pl.String).fill_null(EMPTY) for c in df.columns
                             if df[c].dtype == pl.String or df[c].null_count()]) if df.width else df
    if static:
        st.table(shown, hide_index=True)
    else:
        st.dataframe(shown, hide_index=True, width="stretch", **kwargs)


def _on_click(chart_key: str, filter_key: str, axis: str) -> Callable[[], None]:
    def callback() -> None:
        event = st.session_state.get(chart_key)
        points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else getattr(getattr(event, "selection", None), "points", [])
        values = sorted({str(p.get(axis) or p.get("label")) for p in points if (p.get(axis) or p.get("label"))})
        if values:
            set_filter(filter_key, values)

    return callback


def empty_state(message: str = "Aucune personne ne correspond à cette sélection.") -> None:
    st.info(message + " Élargissez la période ou retirez des filtres dans la barre latérale ; "
            "si la base est vide, importez un extrait depuis la page Données.", icon=":material/search:")


def table(data, key_label: str, value_label: str = "Personnes", total: bool = True, of=None) -> None:
    """A small {label: count} table with shares and an optional total row, French formatted.

    `data` is a figure ({label: count}, masked values as published: « < k », or « masqué » for a secondary
    suppression) or a (label, count) frame whose null counts are masked. The total is then `of` (the figure the table
    adds up to, itself maybe masked), the sum of the shown counts being no total at all. A line under the table says
    what the marks mean."""
    items = list(data.items()) if isinstance(data, dict) else list(data.iter_rows())
    if not items:
        return
    k = diffusion.k()
    items = [(label, Masked(k) if v is None else v) for label, v in items]
    any_masked = any(isinstance(v, str) for _, v in items)
    n = of if any_masked else int(sum(v for _, v in items))
    rows = [{key_label: label, value_label: fmt.number(v),
             "Part": fmt.MASKED_RATE if isinstance(v, str) else fmt.percent(v / n if isinstance(n, (int, float)) and n else None)}
            for label, v in items]
    if total:
        rows.append({key_label: "Total", value_label: fmt.number(n),
                     "Part": fmt.percent(1.0 if isinstance(n, (int, float)) and n else None)})
    data_table(pl.DataFrame(rows))
    mask_legend([v for _, v in items] + [n])


def mask_legend(values) -> None:
    """Under a table or chart that shows masked values: what « < k » and « masqué » mean (nothing otherwise)."""
    marks = [v for v in values if isinstance(v, str) and is_masked(v)]
    if marks:
        st.caption(legend(marks[0].k, secondary=any(getattr(v, "secondary", False) for v in marks)))


def counts_frame(mapping: dict, key_label: str = "label") -> pl.DataFrame:
    """A {label: count} figure as a frame; a masked count (diffusion mode, « < k ») is null."""
    return pl.DataFrame({key_label: list(mapping), "n": [None if isinstance(v, str) else v for v in mapping.values()]},
                        schema={key_label: pl.String, "n": pl.Int64})
