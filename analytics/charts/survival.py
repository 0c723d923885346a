"""Kaplan–Meier curves of the time spent in the action (analytics.indicators.survival)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import PALETTE, empty, style
from analytics.charts.pathways import _rgba

HORIZON_DAYS = [30, 91, 182, 365, 730]


def survival_curves(frame: pl.DataFrame, title: str | None = None, band: bool = True) -> go.Figure:
    """One step curve per group (share still in the action against days since entry), with its 95 % band."""
    if frame.is_empty():
        return empty(title)
    fig = go.Figure()
    for i, group in enumerate(dict.fromkeys(frame["group"].to_list())):
        sub = frame.filter(pl.col("group") == group).sort("days")
        color = PALETTE[i % len(PALETTE)]
        n = sub["n"][0]
        name = f"{group} ({fmt.number(n)})"
        days = sub["days"].to_list()
        if band and sub["low"].drop_nulls().len():
            lows, highs = sub["low"].fill_null(strategy="forward").to_list(), sub["high"].fill_null(strategy="forward").to_list()
            fig.add_trace(go.Scatter(x=days + days[::-1], y=[v * 100 for v in highs] + [v * 100 for v in lows[::-1]],
                                     fill="toself", line=dict(width=0, shape="hv"), fillcolor=_rgba(color, 0.15),
                                     hoverinfo="skip", showlegend=False, legendgroup=name, name=name + " IC 95 %"))
        fig.add_trace(go.Scatter(x=days, y=[s * 100 for s in sub["survival"]], name=name, legendgroup=name, mode="lines",
                                 line=dict(color=color, width=2.5, shape="hv"),
                                 customdata=[[fmt.percent(s), fmt.number(r)] for s, r in zip(sub["survival"], sub["at_risk"])],
                                 hovertemplate=group + " : %{customdata[0]} encore dans l'action à %{x} jours "
                                               "(%{customdata[1]} suivis)<extra></extra>"))
    style(fig, title, height=400)
    fig.update_yaxes(title_text="Encore dans l'action", range=[0, 102], tickvals=[0, 25, 50, 75, 100],
                     ticktext=[fmt.percent(v / 100, 0) for v in (0, 25, 50, 75, 100)])
    fig.update_xaxes(title_text="Jours depuis l'entrée", tickvals=HORIZON_DAYS, showgrid=True, gridcolor="#e6e9ef")
    return fig
