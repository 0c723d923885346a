"""Shared look of every chart: French separators, palette, empty state."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics import fmt

# Colour-blind-safe (Okabe–Ito hues; tests/test_palette.py simulates protanopia, deuteranopia and tritanopia): the
# former palette put its blue beside a purple (#8e44ad) that protanopes cannot tell from it, and its green beside its
# red. Colour never carries a meaning alone: every series is named in a legend or on its bars, the target is dashed.
PRIMARY = "#1f5fa8"
ACCENT = "#d55e00"
POSITIVE = "#009e73"
NEUTRAL = "#8a94a6"
TARGET = "#000000"
PALETTE = ["#1f5fa8", "#d55e00", "#56b4e9", "#000000", "#882255", "#009e73", "#e69f00", "#7f8c8d", "#cc79a7", "#f0e442", "#332288"]
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
