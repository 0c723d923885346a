"""Charts of the active caseload ("file active") and of the monthly flows."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import ACCENT, NEUTRAL, PRIMARY, TARGET, empty, month_labels, style


def caseload_vs_target(frame: pl.DataFrame, previous: pl.DataFrame | None = None, title: str | None = None) -> go.Figure:
    """Monthly caseload line with the convention's target; optionally the same months a year earlier."""
    if frame.is_empty():
        return empty(title)
    x = month_labels(frame["month"].to_list())
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=frame["caseload"].to_list(), mode="lines+markers+text", name="File active",
                             line=dict(color=PRIMARY, width=3), text=[fmt.number(v) for v in frame["caseload"]],
                             textposition="top center", hovertemplate="%{x} : %{y} personnes<extra></extra>"))
    if previous is not None and not previous.is_empty():
        fig.add_trace(go.Scatter(x=x[: previous.height], y=previous["caseload"].to_list(), mode="lines", name="Année précédente",
                                 line=dict(color=NEUTRAL, dash="dot"),
                                 customdata=month_labels(previous["month"].to_list()),
                                 hovertemplate="%{customdata} : %{y} personnes<extra></extra>"))
    target = frame["target"][0]
    if target is not None:
        fig.add_trace(go.Scatter(x=x, y=[target] * len(x), mode="lines", name=f"Objectif ({target})",
                                 line=dict(color=TARGET, dash="dash"), hoverinfo="skip"))
    fig.update_xaxes(type="category")
    return style(fig, title)


def flows(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Entries (up) and exits (down) per month."""
    no_mask = frame["entries"].null_count() == 0 and frame["exits"].null_count() == 0  # null: masked (diffusion)
    if frame.is_empty() or (no_mask and frame["entries"].sum() == 0 and frame["exits"].sum() == 0):
        return empty(title)
    x = month_labels(frame["month"].to_list())
    fig = go.Figure([
        go.Bar(x=x, y=frame["entries"].to_list(), name="Entrées", marker_color=PRIMARY, text=frame["entries"].to_list()),
        go.Bar(x=x, y=[None if v is None else -v for v in frame["exits"]], name="Sorties", marker_color=ACCENT, text=frame["exits"].to_list(),
               customdata=frame["exits"].to_list(), hovertemplate="%{x} : %{customdata} sorties<extra></extra>"),
    ])
    fig.update_layout(barmode="relative")
    fig.update_xaxes(type="category")
    # exits are drawn downwards: the axis reads their number, not a negative one
    top = max([v or 0 for v in frame["entries"].to_list()] + [v or 0 for v in frame["exits"].to_list()] + [1])
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**4, 2 * 10**4, 5 * 10**4, 10**5, 10**6)
                if top / s <= 5)
    ticks = list(range(-((top + step - 1) // step) * step, ((top + step - 1) // step) * step + 1, step))
    fig.update_yaxes(rangemode="normal", zeroline=True, zerolinecolor="#555", tickvals=ticks,
                     ticktext=[fmt.number(abs(t)) for t in ticks])
    return style(fig, title)


def prescriptions(frame: pl.DataFrame, months: list[str], title: str | None = None) -> go.Figure:
    """Stacked prescriptions per month by prescriber."""
    if frame.is_empty():
        return empty(title)
    fig = go.Figure()
    for name in frame.group_by("prescripteur").agg(pl.col("n").sum()).sort("n", descending=True)["prescripteur"]:
        sub = dict(zip(*frame.filter(pl.col("prescripteur") == name).select("month", "n").to_dict(as_series=False).values()))
        fig.add_trace(go.Bar(x=month_labels(months), y=[sub.get(m, 0) for m in months], name=name,
                             hovertemplate="%{x} : %{y}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return style(fig, title)


def caseload_forecast(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """The observed caseload of the last months, then the forecast (expected, with its 80 % interval as a band) and the
    convention's target (`analytics.indicators.projection.forecast_frame`)."""
    if frame.is_empty():
        return empty(title)
    observed, future = frame.filter(pl.col("kind") == "observé"), frame.filter(pl.col("kind") == "prévu")
    x_obs, x_fut = month_labels(observed["month"].to_list()), month_labels(future["month"].to_list())
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x_fut + x_fut[::-1], y=future["high"].to_list() + future["low"].to_list()[::-1], fill="toself",
                             fillcolor="rgba(31, 95, 168, 0.15)", line=dict(width=0), mode="lines", name="Intervalle à 80 %",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x_obs, y=observed["caseload"].to_list(), mode="lines+markers", name="File active observée",
                             line=dict(color=PRIMARY, width=3), hovertemplate="%{x} : %{y} personnes<extra></extra>"))
    # the forecast line starts from the last observed month
    x_line = x_obs[-1:] + x_fut
    y_line = observed["caseload"].to_list()[-1:] + future["expected"].to_list()
    fig.add_trace(go.Scatter(x=x_line, y=y_line, mode="lines+markers+text", name="File active prévue",
                             line=dict(color=PRIMARY, width=3, dash="dot"),
                             text=[""] * len(x_obs[-1:]) + [fmt.number(v, 1) for v in future["expected"]], textposition="top center",
                             customdata=[["", ""]] * len(x_obs[-1:]) + [[fmt.number(lo), fmt.number(hi)] for lo, hi in
                                                                         zip(future["low"], future["high"])],
                             hovertemplate="%{x} : %{y:.1f} prévus (de %{customdata[0]} à %{customdata[1]})<extra></extra>"))
    target = frame["target"][0]
    if target is not None:
        x_all = x_obs + x_fut
        fig.add_trace(go.Scatter(x=x_all, y=[target] * len(x_all), mode="lines", name=f"Objectif ({target})",
                                 line=dict(color=TARGET, dash="dash"), hoverinfo="skip"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_obs + x_fut)
    return style(fig, title)
