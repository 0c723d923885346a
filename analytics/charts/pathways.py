"""Charts of the pathways and exits: Sankey, monthly positive exit rate, time in the programme, immersions."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analytics import fmt
from analytics import schema as S
from analytics.charts.base import ACCENT, NEUTRAL, PALETTE, POSITIVE, PRIMARY, empty, month_labels, style

ONGOING_COLOR = PRIMARY


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def _reason_color(reason: str) -> str:
    if reason in S.POSITIVE_EXIT_REASONS:
        return POSITIVE
    if reason in S.EXIT_REASONS:
        return ACCENT if reason == "Fin de suivi" else NEUTRAL
    return ONGOING_COLOR


def sankey(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Participants → exit reason (or « En cours ») → contract / training / next step.

    The frame holds the links (stage, source, target, n). Detail nodes are keyed by their reason, so that
    « Création d'entreprise » as a contract and as a recommended next step stay two nodes."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    nodes: dict[tuple, int] = {}
    labels, colors, values = [], [], []

    def node(key: tuple, label: str, color: str) -> int:
        if key not in nodes:
            nodes[key] = len(labels)
            labels.append(label)
            colors.append(color)
        return nodes[key]

    sources, targets, link_colors, masked = [], [], [], set()
    for stage, source, target, n in frame.select("stage", "source", "target", "n").iter_rows():
        if stage == 1:
            s = node(("root", source), source, PALETTE[8])
            t = node(("reason", target), target, _reason_color(target))
        else:
            s = node(("reason", source), source, _reason_color(source))
            t = node(("detail", source, target), target, _rgba(_reason_color(source), 0.75))
        sources.append(s)
        targets.append(t)
        if n is None:  # masked (diffusion mode): no link, and no head count on its two nodes
            masked |= {s, t}
        values.append(n or 0)
        link_colors.append(_rgba(colors[t] if stage == 1 else _reason_color(source), 0.3))
    # node labels with their head count (the larger of what flows in and out)
    inflow = [sum(v for t, v in zip(targets, values) if t == i) for i in range(len(labels))]
    outflow = [sum(v for s, v in zip(sources, values) if s == i) for i in range(len(labels))]
    size = [max(a, b) for a, b in zip(inflow, outflow)]
    text = [lab if i in masked else f"{lab} ({fmt.number(n)})" for i, (lab, n) in enumerate(zip(labels, size))]
    x, y = _positions(nodes, size)
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat="d", valuesuffix=" personnes",
        node=dict(label=text, color=colors, pad=14, thickness=16, line=dict(color="white", width=0.5), x=x, y=y,
                  hovertemplate="%{label}<extra></extra>"),
        link=dict(source=sources, target=targets, value=values, color=link_colors,
                  hovertemplate="%{source.label} → %{target.label} : %{value}<extra></extra>"),
    ))
    style(fig, title, height=max(480, 32 * len(labels)))
    fig.update_layout(margin=dict(l=10, r=10, t=50 if title else 20, b=40))  # room for the lowest node labels
    return fig


def _positions(nodes: dict[tuple, int], size: list[int], gap: float = 0.015) -> tuple[list[float], list[float]]:
    """Node positions that keep each reason's details together and in front of it: the root on the left, the
    reasons that have a detail in the middle, every end of a path on the right — first the reasons without detail
    and « En cours », then the details, reason by reason (so that no flow crosses another)."""
    x, y = [0.0] * len(size), [0.5] * len(size)
    reasons = [k for k in nodes if k[0] == "reason"]
    details = {r[1]: [k for k in nodes if k[0] == "detail" and k[1] == r[1]] for r in reasons}
    # paths that end at the reason first, then the details: the order in which Plotly stacks the root's links
    ends = [r for r in reasons if not details[r[1]]] + [k for r in reasons for k in details[r[1]]]
    total = sum(size[nodes[k]] for k in ends) or 1
    scale = (1 - gap * max(len(ends) - 1, 0)) / total
    top = 0.0
    for key in ends:
        i = nodes[key]
        x[i], y[i] = 0.999, top + size[i] * scale / 2
        top += size[i] * scale + gap
    for r in reasons:
        if details[r[1]]:
            first, last = nodes[details[r[1]][0]], nodes[details[r[1]][-1]]
            x[nodes[r]] = 0.5
            y[nodes[r]] = (y[first] - size[first] * scale / 2 + y[last] + size[last] * scale / 2) / 2
    for key, i in nodes.items():
        if key[0] == "root":
            x[i], y[i] = 0.001, 0.5
    return x, [min(max(v, 0.001), 0.999) for v in y]


def positive_rate(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """The positive exit rate of each month (line, top) above the exits of the month, positive and other (stacked
    bars, bottom); a month without exit has no rate."""
    if frame.is_empty() or frame["exits"].sum() == 0:
        return empty(title)
    x = month_labels(frame["month"].to_list())
    positive = frame["positive_exits"].to_list()
    other = [None if e is None or p is None else e - p for e, p in zip(frame["exits"], positive)]  # None: masked
    rates = frame["rate"].to_list()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.38, 0.62], vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=x, y=[None if r is None else r * 100 for r in rates], name="Taux de sorties positives",
                             mode="lines+markers+text", line=dict(color=ACCENT, width=3), connectgaps=False,
                             text=[fmt.percent(r, 0) if r is not None else "" for r in rates], textposition="top center",
                             customdata=[fmt.percent(r) for r in rates], hovertemplate="%{x} : %{customdata}<extra></extra>"),
                  row=1, col=1)
    for name, values, color in (("Sorties positives", positive, POSITIVE), ("Autres sorties", other, NEUTRAL)):
        fig.add_trace(go.Bar(x=x, y=values, name=name, marker_color=color, text=[fmt.number(v) if v else "" for v in values],
                             textposition="inside", hovertemplate="%{x} : %{y} " + name.lower() + "<extra></extra>"),
                      row=2, col=1)
    style(fig, title, height=460)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="Taux", range=[0, 125], tickvals=[0, 50, 100],
                     ticktext=[fmt.percent(v / 100, 0) for v in (0, 50, 100)], row=1, col=1)
    fig.update_yaxes(title_text="Sorties", row=2, col=1)
    return fig


# Above this many leavers for one reason, its box is drawn from its quartiles and fences, without the points: a
# million-person store has 200 000 leavers a year, which no one reads as points and the browser would receive.
MAX_BOX_POINTS = 2000


def box_statistics(values: pl.Series) -> dict[str, float]:
    """q1, median, q3 (linear interpolation, as Plotly computes them) and Tukey's fences (the most extreme values
    within 1.5 interquartile ranges of the box), to draw a box without sending its values."""
    q1, median, q3 = (float(values.quantile(q, interpolation="linear")) for q in (0.25, 0.5, 0.75))
    iqr = q3 - q1
    return {"q1": q1, "median": median, "q3": q3,
            "lowerfence": float(values.filter(values >= q1 - 1.5 * iqr).min()),
            "upperfence": float(values.filter(values <= q3 + 1.5 * iqr).max())}


def time_in_programme(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Horizontal box per exit reason of the months spent in the action, every leaver as a point (up to
    `MAX_BOX_POINTS` leavers; beyond, the box alone, from `box_statistics`); the reason's label carries its number of
    leavers and median."""
    if frame.is_empty():
        return empty(title)
    fig = go.Figure()
    reasons = list(dict.fromkeys(frame["motif_sortie"].to_list()))
    ticks = []
    for reason in reasons:
        months = frame.filter(pl.col("motif_sortie") == reason)["months"]
        look = dict(name=reason, orientation="h", line=dict(color=_reason_color(reason)))
        if months.len() <= MAX_BOX_POINTS:
            fig.add_trace(go.Box(x=months.to_list(), boxpoints="all", jitter=0.5, pointpos=0,
                                 marker=dict(color=_reason_color(reason), size=6, opacity=0.7),
                                 hovertemplate=reason + " : %{x} mois<extra></extra>", **look))
        else:
            stats = box_statistics(months)
            fig.add_trace(go.Box(y=[reason], **{k: [v] for k, v in stats.items()}, boxpoints=False, **look))
        ticks.append(f"{reason} ({fmt.number(months.len())})<br>médiane {fmt.number(months.median(), 1)} mois")
    fig.update_layout(showlegend=False)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=reasons, tickvals=reasons, ticktext=ticks,
                     autorange="reversed", rangemode="normal")
    fig.update_xaxes(title_text="Mois dans l'action", rangemode="tozero", showgrid=True, gridcolor="#e6e9ef")
    return style(fig, title, height=max(300, 90 + 52 * len(reasons)))


def exits_by_immersion(frame: pl.DataFrame, title: str | None = None) -> go.Figure:
    """Stacked horizontal bars: exits of each reason with and without an immersion before the exit."""
    if frame.is_empty() or frame["n"].sum() == 0:
        return empty(title)
    reasons = list(dict.fromkeys(frame["motif_sortie"].to_list()))
    fig = go.Figure()
    for group, color in zip(dict.fromkeys(frame["immersion"].to_list()), (PRIMARY, NEUTRAL)):
        sub = dict(frame.filter(pl.col("immersion") == group).select("motif_sortie", "n").iter_rows())
        values = [sub.get(r, 0) for r in reasons]
        fig.add_trace(go.Bar(x=values, y=reasons, orientation="h", name=group, marker_color=color,
                             text=[fmt.number(v) if v else "" for v in values], textposition="inside",
                             hovertemplate="%{y} : %{x}<extra>" + group + "</extra>"))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=reasons)
    fig.update_xaxes(title_text="Sorties")
    style(fig, title, height=max(260, 90 + 36 * len(reasons)))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    return fig
