"""Shared look of every chart: French separators, palette, empty state."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics import fmt

PRIMARY = "#1f5fa8"
ACCENT = "#e07b39"
POSITIVE = "#2e8b57"
NEUTRAL = "#8a94a6"
TARGET = "#c0392b"
PALETTE = ["#1f5fa8", "#e07b39", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#d4ac0d", "#7f8c8d", "#2c3e50", "#e84393", "#6c5ce7"]
FONT = "Source Sans Pro, Arial, sans-serif"


def style(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)) if title else None,
        separators=", ",  # decimal comma, thousands space
        font=dict(family=FONT, size=13),
        colorway=PALETTE,
        height=height,
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel=dict(font_family=FONT),
    )
    fig.update_xaxes(showgrid=False, automargin=True)
    fig.update_yaxes(gridcolor="#e6e9ef", automargin=True, rangemode="tozero")
    return fig


def empty(title: str | None = None, message: str = "Aucune donnée pour cette sélection") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=15, color=NEUTRAL), x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, title, height=260)


def month_labels(months: list[str]) -> list[str]:
    return [fmt.month_label(m) for m in months]


def bar_h(labels: list[str], values: list[int], title: str | None = None, color: str = PRIMARY,
          name: str = "Personnes", total: int | None = None) -> go.Figure:
    """Horizontal bars, largest on top, with the count (and share of `total`) as text."""
    if not labels:
        return empty(title)
    text = [fmt.number(v) if not total or v is None else f"{fmt.number(v)} ({fmt.percent(v / total, 0)})" for v in values]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=color, text=text, textposition="auto",
                           name=name, hovertemplate="%{y} : %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    fig.update_xaxes(rangemode="tozero")
    return style(fig, title, height=max(240, 60 + 34 * len(labels)))
