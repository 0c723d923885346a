"""The years of the convention side by side (« Convention » page, COPIL deck): one small chart per figure."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analytics import fmt
from analytics.charts.base import NEUTRAL, PRIMARY, TARGET, empty, style

__all__ = ["convention_trends", "empty", "year_label"]
from analytics.indicators.series import CONVENTION_COLUMNS

TREND_COLUMNS = ["positioned", "participants", "entries", "exits", "positive_exit_rate", "average_caseload",
                 "first_appointment_median_days", "attendance_rate", "esf_participants"]


def year_label(year: str, partial: bool, through) -> str:
    """« 2026 (au 31/10) » for the year to date, the year alone otherwise."""
    return f"{year} (au {fmt.day(through)[:5]})" if partial else year


def _text(value, kind: str) -> str:
    if value is None:
        return "–"
    return fmt.percent(value, 0) if kind == "pct" else fmt.number(value, 1 if kind == "dec" else 0)


def convention_trends(frame: pl.DataFrame, columns: list[str] | None = None, title: str | None = None) -> go.Figure:
    """Small multiples: for each figure, one bar per year (the year to date paler and labelled « au JJ/MM ») and the
    dotted trend line through the complete years; the average caseload carries the convention's target."""
    columns = columns or TREND_COLUMNS
    if frame.is_empty():
        return empty(title)
    cols = min(3, len(columns))
    rows = math.ceil(len(columns) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[CONVENTION_COLUMNS[c][0] for c in columns],
                        vertical_spacing=0.16, horizontal_spacing=0.07)
    labels = [year_label(y, p, t) for y, p, t in frame.select("year", "partial", "through").iter_rows()]
    colors = [NEUTRAL if p else PRIMARY for p in frame["partial"]]
    for i, column in enumerate(columns):
        r, c = i // cols + 1, i % cols + 1
        kind = CONVENTION_COLUMNS[column][1]
        values = frame[column].to_list()
        scale = 100 if kind == "pct" else 1
        fig.add_trace(go.Bar(x=labels, y=[None if v is None else v * scale for v in values], marker_color=colors,
                             text=[_text(v, kind) for v in values], textposition="auto", name=CONVENTION_COLUMNS[column][0],
                             showlegend=False, hovertemplate="%{x} : %{text}<extra>" + CONVENTION_COLUMNS[column][0] + "</extra>"),
                      row=r, col=c)
        full = [(x, v * scale) for x, v, p in zip(labels, values, frame["partial"]) if not p and v is not None]
        if len(full) >= 2:
            fig.add_trace(go.Scatter(x=[x for x, _ in full], y=[v for _, v in full], mode="lines", showlegend=False,
                                     line=dict(color=PRIMARY, dash="dot", width=1.5), hoverinfo="skip"), row=r, col=c)
        if column == "average_caseload":
            target = frame["caseload_target"].drop_nulls()
            if target.len():
                fig.add_trace(go.Scatter(x=labels, y=[target[0]] * len(labels), mode="lines", name=f"Objectif ({target[0]})",
                                         line=dict(color=TARGET, dash="dash", width=2), showlegend=False,
                                         hovertemplate="Objectif : %{y}<extra></extra>"), row=r, col=c)
        if kind == "pct":
            fig.update_yaxes(ticksuffix=" %", row=r, col=c)
    style(fig, title, height=260 * rows)
    # horizontal year labels, the year to date on two lines (« 2026 » / « au 30/10 »): rotated ones ran into the titles
    # of the next row of charts
    ticks = [f"{y}<br>au {fmt.day(t)[:5]}" if p else y for y, p, t in frame.select("year", "partial", "through").iter_rows()]
    fig.update_xaxes(type="category", tickmode="array", tickvals=labels, ticktext=ticks, tickangle=0)
    fig.update_annotations(font_size=13)
    return fig
