"""The text alternative of a chart (WCAG 1.1.1): its data as a table and a one-line summary, read from the
figure itself — so every chart drawn by `ui.components.chart` gets one without a word in the page.

`data_table(fig)` lists, per trace, the category and the value of each point (bars, lines, pies, maps, heat
maps, Sankey links); `summary(fig, title)` says what the chart shows in one French sentence (its series and,
for each, the largest value). Pure functions: no Streamlit.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import fmt

MISSING = "—"


def _text(value) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return fmt.number(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return MISSING
        return fmt.number(value, 0 if value.is_integer() else 2)
    return str(value).replace("<br>", " ")


def _seq(values) -> list:
    if values is None:
        return []
    try:
        return list(values)
    except TypeError:
        return [values]


def _points(trace) -> list[tuple[str, object]]:
    """(category, value) of every point of a trace."""
    kind = trace.type
    if kind in ("bar", "scatter", "scattergl", "funnel", "histogram"):
        x, y = _seq(trace.x), _seq(trace.y)
        horizontal = getattr(trace, "orientation", None) == "h"
        cats, vals = (y, x) if horizontal else (x, y)
        if not cats:
            cats = list(range(1, len(vals) + 1))
        return list(zip(cats, vals))
    if kind == "pie":
        return list(zip(_seq(trace.labels), _seq(trace.values)))
    if kind in ("choropleth", "choroplethmap", "choroplethmapbox"):
        names = _seq(trace.text) or _seq(trace.locations)
        return list(zip(names, _seq(trace.z)))
    if kind in ("scattermap", "scattermapbox", "scattergeo"):
        names = _seq(trace.text) or _seq(getattr(trace, "hovertext", None))
        return [(n, MISSING) for n in names]
    if kind == "heatmap":
        xs, ys, z = _seq(trace.x), _seq(trace.y), _seq(trace.z)
        return [(f"{ys[i] if i < len(ys) else i} × {xs[j] if j < len(xs) else j}", v)
                for i, row in enumerate(z) for j, v in enumerate(_seq(row))]
    if kind == "sankey":
        labels = _seq(trace.node.label)
        link = trace.link
        return [(f"{labels[s]} → {labels[t]}", v) for s, t, v in zip(_seq(link.source), _seq(link.target), _seq(link.value))]
    if kind == "box":
        values = [v for v in _seq(trace.y if trace.y is not None else trace.x) if v is not None]
        if values:
            values = sorted(values)
            return [("minimum", values[0]), ("médiane", values[len(values) // 2]), ("maximum", values[-1])]
        q = {k: _seq(getattr(trace, k, None)) for k in ("lowerfence", "median", "upperfence")}
        return [(label, q[k][0]) for k, label in (("lowerfence", "minimum"), ("median", "médiane"), ("upperfence", "maximum")) if q[k]]
    return []


def _series(trace, i: int) -> str:
    return str(trace.name) if trace.name else f"Série {i + 1}"


def data_table(fig: go.Figure) -> pl.DataFrame:
    """The chart's data, one row per point: Série, Catégorie, Valeur (all text, French formats; empty = « — »)."""
    rows = []
    for i, trace in enumerate(fig.data):
        if getattr(trace, "visible", True) is False or trace.type == "scatter" and getattr(trace, "showlegend", None) is False and not trace.name:
            continue
        for cat, value in _points(trace):
            rows.append({"Série": _series(trace, i), "Catégorie": _text(cat), "Valeur": _text(value)})
    frame = pl.DataFrame(rows, schema={"Série": pl.String, "Catégorie": pl.String, "Valeur": pl.String})
    if frame["Série"].n_unique() <= 1:
        frame = frame.drop("Série")
    return frame


def summary(fig: go.Figure, title: str | None = None) -> str:
    """One sentence: what the chart shows (its title, its series, each one's largest value)."""
    head = title or (fig.layout.title.text if fig.layout.title and fig.layout.title.text else None) or "Graphique"
    parts = []
    for i, trace in enumerate(fig.data):
        pts = [(c, v) for c, v in _points(trace) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v]
        if not pts:
            continue
        cat, value = max(pts, key=lambda p: p[1])
        name = _series(trace, i) if len(fig.data) > 1 or trace.name else None
        text = f"{len(pts)} valeur{'s' if len(pts) > 1 else ''}, maximum {_text(value)} ({_text(cat)})"
        parts.append(f"{name} : {text}" if name else text)
    if not parts:
        # a chart's message is written for Plotly (« <br> » line breaks): one line of plain text here
        notes = [" ".join(a.text.replace("<br>", " ").split()) for a in (fig.layout.annotations or []) if a.text]
        return f"{head} : {notes[0].rstrip('.') if notes else 'aucune donnée'}."
    return f"{head} — " + " ; ".join(parts[:4]) + (" ; …" if len(parts) > 4 else "") + "."
