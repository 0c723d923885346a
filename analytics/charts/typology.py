"""Charts of the typology of the publics: the factor map and the comparison of outcomes by type (frames in,
figures out)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics.charts.base import NEUTRAL, PALETTE, empty, style

VARIABLE_SYMBOLS = {"sexe": "circle-open", "age_band": "square-open", "education": "diamond-open", "statut": "cross-thin-open",
                    "situation_familiale": "triangle-up-open", "frein_principal": "star-open", "n_barriers": "hexagon-open"}


def type_color(t: int) -> str:
    return PALETTE[(int(t) - 1) % len(PALETTE)] if t else NEUTRAL


def _axis_title(i: int, shares: list[float] | None) -> str:
    share = shares[i - 1] if shares and len(shares) >= i else None
    return f"Axe {i}" + ("" if share is None else f" ({fmt.percent(share, 1)} de l'inertie)")


def factor_map(modalities: pl.DataFrame, persons: pl.DataFrame, types: pl.DataFrame, shares: list[float] | None = None,
               variable_names: dict[str, str] | None = None, title: str | None = None, counts: bool = True) -> go.Figure:
    """The first factorial plane of the ACM: persons (a sample, coloured by type; `persons` may be empty, e.g. in
    diffusion mode), the centre of each type, and the modalities (labelled, one marker per variable; with `counts`,
    their number of persons on hover)."""
    if modalities.is_empty():
        return empty(title, "Typologie non calculée pour cette base")
    fig = go.Figure()
    labels = dict(zip(types["type"].to_list(), types["label"].to_list()))
    for t in sorted(labels):
        mine = persons.filter(pl.col("type") == t) if not persons.is_empty() else persons
        if not mine.is_empty():
            fig.add_trace(go.Scattergl(x=mine["axis1"].to_list(), y=mine["axis2"].to_list(), mode="markers",
                                       marker=dict(size=5, color=type_color(t), opacity=0.35),
                                       name=f"Type {t}", legendgroup=f"t{t}",
                                       hovertemplate=f"Type {t} : {labels[t]}<extra></extra>"))
            fig.add_trace(go.Scatter(x=[mine["axis1"].mean()], y=[mine["axis2"].mean()], mode="markers+text",
                                     marker=dict(size=18, color=type_color(t), line=dict(color="white", width=2)),
                                     text=[f"<b>{t}</b>"], textfont=dict(color="white", size=11), textposition="middle center",
                                     showlegend=False, legendgroup=f"t{t}",
                                     hovertemplate=f"Centre du type {t} : {labels[t]}<extra></extra>"))
    names = variable_names or {}
    for variable, symbol in VARIABLE_SYMBOLS.items():
        rows = modalities.filter(pl.col("variable") == variable)
        if rows.is_empty():
            continue
        fig.add_trace(go.Scatter(x=rows["axis1"].to_list(), y=rows["axis2"].to_list(), mode="markers+text",
                                 marker=dict(symbol=symbol, size=9, color="#2c3e50"), text=rows["modality"].to_list(),
                                 textposition="top center", textfont=dict(size=10, color="#2c3e50"),
                                 name=names.get(variable, variable), legendgroup="modalites", legendgrouptitle_text="Modalités",
                                 customdata=rows["n"].to_list() if counts else None,
                                 hovertemplate=("%{text} : %{customdata} personnes" if counts else "%{text}")
                                 + "<extra>" + names.get(variable, variable) + "</extra>"))
    fig.add_hline(y=0, line=dict(color="#c8ccd4", width=1))
    fig.add_vline(x=0, line=dict(color="#c8ccd4", width=1))
    style(fig, title, height=640)
    fig.update_xaxes(title=_axis_title(1, shares), zeroline=False, showgrid=False)
    fig.update_yaxes(title=_axis_title(2, shares), zeroline=False, rangemode="normal")
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, font=dict(size=12)),
                      margin=dict(r=10, b=40))
    return fig


def outcome_comparison(frame: pl.DataFrame, overall: float | None = None, title: str | None = None) -> go.Figure:
    """Positive exit rate of each type with its 95 % interval (error bars), the overall rate as a line; a type
    without exits (or masked) is listed with no point."""
    if frame.is_empty():
        return empty(title)
    rows = frame.sort("type")
    names = [f"Type {t}" if t else "Autres types" for t in rows["type"].to_list()]
    rates = rows["positive_exit_rate"].to_list()
    lows, highs = rows["low"].to_list(), rows["high"].to_list()
    text = [("sans sortie" if e == 0 else "masqué") if r is None else f"{fmt.percent(r, 0)} ({fmt.number(p)}/{fmt.number(e)})"
            for r, p, e in zip(rates, rows["positive_exits"].to_list(), rows["exits"].to_list())]
    fig = go.Figure(go.Scatter(
        x=[r if r is not None else None for r in rates], y=names, mode="markers+text", text=text, textposition="top center",
        marker=dict(size=13, color=[type_color(t) for t in rows["type"].to_list()]),
        error_x=dict(type="data", symmetric=False, array=[(h - r) if r is not None and h is not None else None for r, h in zip(rates, highs)],
                     arrayminus=[(r - lo) if r is not None and lo is not None else None for r, lo in zip(rates, lows)],
                     color="#2c3e50", thickness=1.5, width=6),
        customdata=[[fmt.percent(lo, 0) if lo is not None else "–", fmt.percent(h, 0) if h is not None else "–", lab]
                    for lo, h, lab in zip(lows, highs, rows["label"].to_list())],
        hovertemplate="%{y} — %{customdata[2]}<br>%{text}<br>intervalle à 95 % : %{customdata[0]} à %{customdata[1]}<extra></extra>",
        name="Taux de sorties positives"))
    if overall is not None:
        fig.add_vline(x=overall, line=dict(color=NEUTRAL, dash="dash"),
                      annotation_text=f"ensemble : {fmt.percent(overall, 0)}", annotation_position="top")
    style(fig, title, height=max(260, 80 + 60 * len(names)))
    fig.update_xaxes(range=[0, 1.05], tickformat=".0%", title="Taux de sorties positives (intervalle à 95 %)")
    fig.update_yaxes(autorange="reversed", type="category", rangemode="normal")
    return fig
