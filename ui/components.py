"""Page building blocks: header, KPI cards, charts with click-to-filter, empty states."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from analytics import fmt
from analytics.definitions import DEFINITIONS, help_text, label
from analytics.diffusion import Masked, is_masked, legend
from ui import diffusion, state
from ui.filters import set_filter

PLOTLY_CONFIG = {"displaylogo": False, "locale": "fr", "toImageButtonOptions": {"format": "png", "scale": 2}}


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
                icon="ℹ️")
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
          masked_totals=()) -> None:
    """Draw a figure; with `filter_key`, clicking a bar sets that global filter to the clicked label.
    In diffusion mode the figure is masked first (`masked_totals`: traces or categories whose total is masked
    in the figures shown beside it)."""
    fig = diffusion.figure(fig, masked_totals)
    if definition:
        st.markdown(f"**{DEFINITIONS[definition].label}**", help=help_text(definition))
    if filter_key:
        st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, on_select=_on_click(key, filter_key, axis),
                        selection_mode="points", width="stretch")
        st.caption("Cliquez sur une barre pour filtrer tout le tableau de bord.")
    else:
        st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")


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
            "si la base est vide, importez un extrait depuis la page Données.", icon="🔎")


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
    st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch")
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
