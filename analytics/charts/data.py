"""Charts of the Données page: how complete the stored data are."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import ACCENT, NEUTRAL, POSITIVE, PRIMARY, empty, style


def _color(share: float | None, collected: bool) -> str:
    if not (collected or share) or share is None:
        return NEUTRAL
    return POSITIVE if share >= 0.999 else (PRIMARY if share >= 0.5 else ACCENT)


def completeness(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Share of filled values of each column (frame of `analytics.quality.completeness`), in contract order."""
    if frame.is_empty() or not frame["total"][0]:
        return empty(title, "Aucune personne dans la base")
    labels = [f"{lab} ({col})" for lab, col in zip(frame["label"], frame["column"])]
    shares = [s or 0.0 for s in frame["share"]]
    # "non collecté": absent from every import and empty (a column derived at import, e.g. from the commune, is filled)
    text = [fmt.percent(s, 0) if col or f else fmt.NOT_COLLECTED for s, col, f in zip(frame["share"], frame["collected"], frame["filled"])]
    custom = [f"{fmt.number(f)} / {fmt.number(t)}" for f, t in zip(frame["filled"], frame["total"])]
    fig = go.Figure(go.Bar(x=shares, y=labels, orientation="h", text=text, textposition="auto", name="Remplissage",
                           marker_color=[_color(s, col) for s, col in zip(frame["share"], frame["collected"])],
                           customdata=custom, hovertemplate="%{y} : %{text} (%{customdata} lignes)<extra></extra>"))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_xaxes(range=[0, 1.05], tickformat=".0%", title="Part des lignes renseignées")
    return style(fig, title, height=max(260, 60 + 24 * len(labels)))
