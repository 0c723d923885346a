"""Charts of the coaching activity: appointments, delay to the first appointment, immersions."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analytics import fmt
from analytics import schema as S
from analytics.charts.base import ACCENT, NEUTRAL, PALETTE, POSITIVE, PRIMARY, TARGET, empty, month_labels, style

DELAY_COLORS = [POSITIVE, PRIMARY, ACCENT, TARGET]
OUTCOMES = [(True, "À débouché sur un contrat", POSITIVE), (False, "Sans contrat", NEUTRAL), (None, "Non renseigné", "#c8cdd6")]


def appointments_by_month(frame: pl.DataFrame, months: list[str], title: str | None = None) -> go.Figure:
    """Stacked bars of the appointments of each month by modality (below), the month's attendance rate (above)."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    x = month_labels(months)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.27, 0.73], vertical_spacing=0.05)
    present = frame["modalite"].unique().to_list()
    modalities = [m for m in S.MODALITIES if m in present] + sorted(m for m in present if m not in S.MODALITIES)
    for i, modality in enumerate(modalities):
        sub = dict(frame.filter(pl.col("modalite") == modality).select("month", "n").iter_rows())
        y = [sub.get(m, 0) for m in months]
        fig.add_trace(go.Bar(x=x, y=y, name=modality, marker_color=PALETTE[i % len(PALETTE)],
                             text=[fmt.number(v) if v else "" for v in y], textposition="inside", textangle=0,
                             hovertemplate="%{x} : %{y} rendez-vous<extra>" + modality + "</extra>"), row=2, col=1)
    per_month = dict(frame.select("month", "attendance_rate").unique().iter_rows())
    rates = [per_month.get(m) for m in months]
    fig.add_trace(go.Scatter(x=x, y=rates, name="Taux de présence", mode="lines+markers+text",
                             line=dict(color=TARGET, width=2), marker=dict(size=7),
                             text=[fmt.percent(r, 0) if r is not None else "" for r in rates], textposition="top center",
                             customdata=[fmt.percent(r) for r in rates],
                             hovertemplate="%{x} : %{customdata} de présence<extra></extra>"), row=1, col=1)
    fig.update_layout(barmode="stack", uniformtext=dict(minsize=10, mode="hide"))
    fig.update_xaxes(type="category")
    style(fig, title, height=460)
    ticks = [0, 0.5, 1]
    fig.update_yaxes(row=1, col=1, range=[0, 1.25], tickvals=ticks, ticktext=[fmt.percent(t, 0) for t in ticks], title="Présence")
    fig.update_yaxes(row=2, col=1, title="Rendez-vous planifiés")
    return fig


def first_appointment_delays(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """First appointments by delay since prescription (≤ 7, 8–15, 16–30, > 30 days), count and share as text."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    text = [f"{fmt.number(n)} ({fmt.percent(s, 0)})" for n, s in zip(frame["n"], frame["share"])]
    fig = go.Figure(go.Bar(x=frame["bucket"].to_list(), y=frame["n"].to_list(), text=text, textposition="auto",
                           marker_color=DELAY_COLORS[: frame.height], name="Personnes",
                           customdata=[fmt.percent(s) for s in frame["share"]],
                           hovertemplate="%{x} : %{y} personnes (%{customdata})<extra></extra>"))
    fig.update_xaxes(type="category", title="Délai entre la prescription et le 1er rendez-vous")
    fig.update_yaxes(title="Personnes")
    return style(fig, title)


def immersion_outcomes(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Horizontal stacked bars: immersions of each sector, led to a contract or not."""
    if frame.is_empty():
        return empty(title)
    sectors = list(dict.fromkeys(frame["secteur"].to_list()))
    fig = go.Figure()
    for value, name, color in OUTCOMES:
        sub = frame.filter(pl.col("debouche_contrat").is_null() if value is None else pl.col("debouche_contrat") == value)
        if sub.is_empty():
            continue
        found = dict(sub.select("secteur", "n").iter_rows())
        x = [found.get(s, 0) for s in sectors]
        fig.add_trace(go.Bar(x=x, y=sectors, orientation="h", name=name, marker_color=color,
                             text=[fmt.number(v) if v else "" for v in x], textposition="inside",
                             hovertemplate="%{y} : %{x} immersion(s)<extra>" + name + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=sectors)
    fig.update_xaxes(title="Immersions", rangemode="tozero")
    return style(fig, title, height=max(260, 80 + 30 * len(sectors)))
