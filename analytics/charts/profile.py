"""Charts of who the participants are: a {label, n} frame (or the sex × household frame) in, a figure out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt
from analytics import schema as S
from analytics.charts.base import ACCENT, PRIMARY, bar_h, empty, style

SEX_COLORS = {"Femme": PRIMARY, "Homme": ACCENT}
HIGHLIGHT = ("Femme", "Seul(e) avec enfant(s)")


def _text(values: list[int], total: int | None) -> list[str]:
    return [fmt.number(v) if not total or v is None else f"{fmt.number(v)} ({fmt.percent(v / total, 0)})" for v in values]


def breakdown(frame: pl.DataFrame, title: str | None = None, total: int | None = None, color: str = PRIMARY) -> go.Figure:
    """Horizontal bars of a (label, n) frame in its order, the label on `y` (what a click filters on)."""
    if frame.is_empty():
        return empty(title)
    label, n = frame.columns[:2]
    return bar_h(frame[label].to_list(), frame[n].to_list(), title, color=color, total=total)


def ordered_columns(frame: pl.DataFrame, title: str | None = None, total: int | None = None,
                    color: str = PRIMARY) -> go.Figure:
    """Vertical bars for ordered categories (age bands), in the frame's order, counts and shares as text."""
    if frame.is_empty():
        return empty(title)
    label, n = frame.columns[:2]
    values = frame[n].to_list()
    fig = go.Figure(go.Bar(x=frame[label].to_list(), y=values, marker_color=color, text=_text(values, total),
                           textposition="auto", name="Personnes", hovertemplate="%{x} : %{y} personnes<extra></extra>"))
    fig.update_xaxes(type="category")
    return style(fig, title, height=340)


def education_level(frame: pl.DataFrame, title: str | None = None, total: int | None = None) -> go.Figure:
    """Participants by education level; the frame's keys are the levels as strings (« 1 »…« 8 »)."""
    if frame.is_empty():
        return empty(title)
    label, n = frame.columns[:2]
    labels = [S.EDUCATION_LABELS.get(int(k), f"Niveau {k}") if str(k).isdigit() else str(k) for k in frame[label]]
    return bar_h(labels, frame[n].to_list(), title, total=total)


def sex(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Donut of participants by sex, counts and shares on the slices."""
    if frame.is_empty() or frame[frame.columns[1]].sum() == 0:
        return empty(title)
    label, n = frame.columns[:2]
    labels, values = frame[label].to_list(), frame[n].to_list()
    total = sum(v for v in values if v is not None)  # None: masked (diffusion mode)
    fig = go.Figure(go.Pie(labels=labels, values=values, hole=0.55, sort=False, direction="clockwise",
                           marker=dict(colors=[SEX_COLORS.get(x) for x in labels]), textinfo="text",
                           text=[f"{x}<br>{fmt.number(v)} ({fmt.percent(v / total if v is not None else None)})"
                                 for x, v in zip(labels, values)],
                           hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(showlegend=False)
    return style(fig, title, height=320)


def sex_by_household(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars: one bar per sex in each household type; the women alone with children are outlined."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    households = list(dict.fromkeys(frame["situation_familiale"].to_list()))
    fig = go.Figure()
    for sex_ in dict.fromkeys(frame["sexe"].to_list()):
        sub = dict(frame.filter(pl.col("sexe") == sex_).select("situation_familiale", "n").iter_rows())
        values = [sub.get(h, 0) for h in households]
        outline = [3 if (sex_, h) == HIGHLIGHT else 0 for h in households]
        fig.add_trace(go.Bar(x=households, y=values, name=sex_ + "s" if sex_ in SEX_COLORS else sex_,
                             marker=dict(color=SEX_COLORS.get(sex_), line=dict(color="#222", width=outline)),
                             text=[fmt.number(v) for v in values], textposition="outside",
                             hovertemplate="%{x} : %{y}<extra>" + sex_ + "</extra>"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="Participants")
    return style(fig, title, height=380)
