"""Charts of the barriers to employment: co-occurrence heatmap, primary barrier against outcome."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import ACCENT, NEUTRAL, POSITIVE, empty, style

OUTCOME_COLORS = {"Sortie positive": POSITIVE, "Autre sortie": ACCENT, "En parcours": NEUTRAL}


def cooccurrence(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Barrier × barrier heatmap of persons having both; the diagonal (persons having the barrier) is drawn
    in grey so that it does not swamp the colour scale of the pairs."""
    if frame.is_empty():
        return empty(title)
    labels = list(dict.fromkeys(frame["barrier"].to_list()))
    n = {(a, b): v for a, b, v in frame.select("barrier", "with_barrier", "n").iter_rows()}
    pairs = [[None if a == b else n.get((a, b), 0) for b in labels] for a in labels]
    diagonal = [[n.get((a, b), 0) if a == b else None for b in labels] for a in labels]
    fig = go.Figure([
        go.Heatmap(z=pairs, x=labels, y=labels, colorscale="Blues", zmin=0, texttemplate="%{z}", textfont=dict(size=13),
                   name="Freins associés",
                   colorbar=dict(title=dict(text="Personnes")), hoverongaps=False,
                   hovertemplate="%{y} et %{x} : %{z} personnes<extra></extra>"),
        go.Heatmap(z=diagonal, x=labels, y=labels, colorscale=[[0, "#d9dde4"], [1, "#d9dde4"]], showscale=False,
                   texttemplate="<b>%{z}</b>", textfont=dict(size=13, color="#1c2833"), hoverongaps=False,
                   name="Personnes ayant le frein",
                   hovertemplate="%{y} : %{z} personnes ont ce frein<extra></extra>"),
    ])
    fig.update_xaxes(tickangle=-35, side="bottom", type="category")
    fig.update_yaxes(autorange="reversed", type="category", rangemode="normal")
    fig.update_layout(plot_bgcolor="white")
    return style(fig, title, height=max(380, 140 + 38 * len(labels)))


def by_outcome(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Stacked horizontal bars: participants of each primary barrier by outcome (counts as text)."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    barriers = list(dict.fromkeys(frame["frein_principal"].to_list()))
    totals = dict(frame.group_by("frein_principal").agg(pl.col("n").sum()).iter_rows())
    fig = go.Figure()
    for outcome in dict.fromkeys(frame["outcome"].to_list()):
        sub = dict(frame.filter(pl.col("outcome") == outcome).select("frein_principal", "n").iter_rows())
        values = [sub.get(b, 0) for b in barriers]
        shares = [fmt.percent(v / totals[b], 0) if totals.get(b) and v is not None else fmt.MISSING for v, b in zip(values, barriers)]
        fig.add_trace(go.Bar(x=values, y=barriers, orientation="h", name=outcome, marker_color=OUTCOME_COLORS.get(outcome),
                             text=[fmt.number(v) if v else "" for v in values], textposition="inside",
                             customdata=shares, hovertemplate="%{y} : %{x} (%{customdata})<extra>" + outcome + "</extra>"))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=barriers)
    fig.update_xaxes(title_text="Participants")
    style(fig, title, height=max(260, 90 + 36 * len(barriers)))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    return fig
