"""The territory map: an offline choropleth of the communes (no map tiles, no network) drawn from the committed
GeoJSON, and the participants per EPCI. Pure: frames and GeoJSON in, a figure out (the page and the PDF)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import ACCENT, PRIMARY, bar_h, empty, style

# metric column → (trace name, colour bar title, is a rate)
METRICS = {
    "participants": ("Participants", "Participants", False),
    "per_1000": ("Participants pour 1 000 habitants", "Participants<br>pour 1 000 hab.", False),
    "positioned": ("Positionnés", "Positionnés", False),
    "positive_exit_rate": ("Taux de sorties positives", "Taux de sorties<br>positives", True),
}
RATE_TICKS = [0, 0.25, 0.5, 0.75, 1]
COLORSCALE = [[0.0, "#d4e3f5"], [0.5, "#6f9fd6"], [1.0, PRIMARY]]
BACKGROUND = "#f2f4f7"
OUTLINE = "#aab3c0"


def _value_text(metric: str, value) -> str:
    if value is None:
        return "—"
    if metric == "positive_exit_rate":
        return fmt.percent(value)
    if metric == "per_1000":
        return fmt.number(value, 2)
    return fmt.number(value)


def _hover(row: dict) -> str:
    lines = [f"<b>{row['commune']}</b> ({row['code']})", row["epci"] or "",
             f"Population : {fmt.number(row['population'])}",
             f"Positionnés : {fmt.number(row['positioned'])} · participants : {fmt.number(row['participants'])}",
             f"Pour 1 000 habitants : {_value_text('per_1000', row['per_1000'])}",
             f"Sorties positives : {fmt.number(row['positive_exits'])} / {fmt.number(row['exits'])} "
             f"({_value_text('positive_exit_rate', row['positive_exit_rate'])})"]
    return "<br>".join(lines)


def choropleth(frame: pl.DataFrame, geojson: dict, metric: str = "participants", places: pl.DataFrame | None = None,
               title: str | None = None, height: int = 560) -> go.Figure:
    """Communes coloured by `metric` (a column of `territory.map_frame`: participants, per_1000, positioned,
    positive_exit_rate). Every commune of `frame` is outlined; the coloured trace (named after the metric) holds
    the communes with a value — counts above zero, rates where there were exits — keyed by INSEE code
    (`featureidkey="properties.code"`). `places` (code, commune, longitude, latitude) are marked on top.
    No base map: the figure draws without network (see below), in the browser and in kaleido."""
    label, bar_title, is_rate = METRICS[metric]
    if frame.is_empty():
        return empty(title, "Aucune commune à afficher pour cette sélection")
    rows = frame.to_dicts()
    fig = go.Figure()
    # Offline: plotly.js fetches a world topojson from its CDN for a geo subplot whose *first* trace has a
    # `locationmode` (a GeoJSON choropleth has one) or shows a base layer. The first trace is therefore a
    # lon/lat scatter (the meeting places, or one invisible point) and every base layer is hidden.
    if places is not None and not places.is_empty():
        fig.add_trace(go.Scattergeo(
            lon=places["longitude"].to_list(), lat=places["latitude"].to_list(), mode="markers+text",
            text=places["commune"].to_list(), textposition="top center", textfont=dict(size=11, color="#2c3e50"),
            marker=dict(size=9, color=ACCENT, line=dict(color="white", width=1.5), symbol="circle"),
            customdata=[[c] for c in places["code"].to_list()], name="Lieux de rendez-vous", showlegend=True,
            hovertemplate="%{text} : lieu de rendez-vous<extra></extra>"))
    else:
        fig.add_trace(go.Scattergeo(lon=[rows[0]["longitude"]], lat=[rows[0]["latitude"]], mode="markers",
                                    marker=dict(size=1, opacity=0), hoverinfo="skip", showlegend=False, name=""))
    fig.add_trace(go.Choropleth(
        geojson=geojson, featureidkey="properties.code", locations=[r["code"] for r in rows], z=[0] * len(rows),
        colorscale=[[0, BACKGROUND], [1, BACKGROUND]], showscale=False, marker_line_color=OUTLINE, marker_line_width=0.6,
        text=[_hover(r) for r in rows], hovertemplate="%{text}<extra></extra>", customdata=[[r["code"]] for r in rows],
        name="Communes du territoire", showlegend=False))
    shown = [r for r in rows if r[metric] is not None and (is_rate or r[metric] > 0)]
    if shown:
        values = [r[metric] for r in shown]
        colorbar = dict(title=dict(text=bar_title, side="top"), thickness=14, len=0.75, separatethousands=True)
        if is_rate:
            colorbar.update(tickvals=RATE_TICKS, ticktext=[fmt.percent(v, 0) for v in RATE_TICKS])
        fig.add_trace(go.Choropleth(
            geojson=geojson, featureidkey="properties.code", locations=[r["code"] for r in shown], z=values,
            zmin=0, zmax=(1 if is_rate else max(values)), colorscale=COLORSCALE, marker_line_color="white",
            marker_line_width=0.8, colorbar=colorbar, name=label, text=[_hover(r) for r in shown],
            hovertemplate="%{text}<extra></extra>", customdata=[[r["code"]] for r in shown]))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white")
    fig = style(fig, title, height=height)
    # the orange dots are explained by a legend (« Lieux de rendez-vous »), not by their colour alone
    fig.update_layout(margin=dict(l=0, r=0, t=50 if title else 10, b=0), showlegend=True,
                      legend=dict(orientation="h", yanchor="bottom", y=0.0, xanchor="left", x=0.0))
    return fig


def by_epci(frame: pl.DataFrame, title: str | None = None, total: int | None = None) -> go.Figure:
    """Horizontal bars of an (epci, n) frame; the official EPCI name on `y` (what a click filters on)."""
    if frame.is_empty():
        return empty(title)
    label, n = frame.columns[:2]
    return bar_h(frame[label].to_list(), frame[n].to_list(), title, color=PRIMARY, total=total)


__all__ = ["METRICS", "by_epci", "choropleth"]
