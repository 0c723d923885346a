"""Masking Plotly figures of counts (the pages' and the reports' charts)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from analytics.diffusion.core import DEFAULT_K, TOTAL, Constraint, Masked, _is_number, is_small, rate_masked, solve

# ---------------------------------------------------------------- Plotly figures (the pages' charts)


_COUNT_IN_TEXT = re.compile(r"\((\d[\d\u00a0\u202f ]*)\)")


def _axes(trace) -> tuple:
    return (getattr(trace, "xaxis", None) or "x", getattr(trace, "yaxis", None) or "y")


def _as_list(values) -> list:
    return [] if values is None else list(values)


def _set_point(trace, i: int, label: str, value_attr: str) -> None:
    """Blank point i of a trace: value None, text/customdata/hovertext « < k »."""
    values = _as_list(getattr(trace, value_attr))
    if i < len(values):
        values[i] = None
        setattr(trace, value_attr, values)
    for attr in ("text", "hovertext", "customdata"):
        current = getattr(trace, attr, None)
        if current is None or isinstance(current, str):
            continue
        items = list(current)
        if i < len(items):
            items[i] = [label] if isinstance(items[i], (list, tuple)) else label
            setattr(trace, attr, items)


def _bar_value_attr(trace) -> str:
    return "x" if getattr(trace, "orientation", None) == "h" else "y"


def _bar_categories(trace) -> list:
    return _as_list(trace.y if getattr(trace, "orientation", None) == "h" else trace.x)


def _mask_bars(fig, k: int, label: str, masked_totals: set) -> dict:
    """Bars on the same axes form a table (category × trace): margins are public (a stack's height, a total
    shown elsewhere) unless they are themselves below k or named in `masked_totals` (a trace name or a
    category masked where it is displayed). A bar already None is masked. Returns {axes: {category:
    (denominator, masked?)}} for the rates drawn over them."""
    out: dict = {}
    groups: dict = {}
    for t, trace in enumerate(fig.data):
        if trace.type == "bar":
            groups.setdefault(_axes(trace), []).append(t)
    for axes, idx in groups.items():
        values: dict = {}
        cells_of_cat: dict = {}
        for t in idx:
            trace = fig.data[t]
            for i, (cat, v) in enumerate(zip(_bar_categories(trace), _as_list(getattr(trace, _bar_value_attr(trace))))):
                values[(t, i)] = abs(v) if _is_number(v) else None
                cells_of_cat.setdefault(str(cat), []).append((t, i))
        premasked = [c for c, v in values.items() if v is None]
        values = {c: (0 if v is None else v) for c, v in values.items()}
        constraints: list[Constraint] = []
        if len(idx) > 1:
            for cat, parts in cells_of_cat.items():
                values[("cat", cat)] = sum(values[p] for p in parts)
                constraints.append((("cat", cat), parts))
                if cat in masked_totals:
                    premasked.append(("cat", cat))
        for t in idx:
            parts = [c for c in values if isinstance(c[0], int) and c[0] == t]
            values[("trace", t)] = sum(values[p] for p in parts)
            constraints.append((("trace", t), parts))
            if str(getattr(fig.data[t], "name", "") or "") in masked_totals:
                premasked.append(("trace", t))
        frozen = [key for key, v in values.items() if key[0] in ("cat", "trace") and not is_small(v, k)]
        result = solve(values, constraints, k, frozen=frozen, premasked=premasked)
        for (t, i) in [c for c in result.masked if isinstance(c[0], int)]:
            _set_point(fig.data[t], i, label, _bar_value_attr(fig.data[t]))
        out[axes] = {cat: (sum(values[p] for p in parts), any(p in result.masked for p in parts))
                     for cat, parts in cells_of_cat.items()}
    return out


def _mask_series(values: list, k: int, total_masked: bool = False) -> set:
    """Indexes to mask in a 1-D series whose total is public (unless `total_masked`); None is already masked."""
    cells = {("cell", i): (v if _is_number(v) else 0) for i, v in enumerate(values)}
    cells[TOTAL] = sum(cells.values())
    pre = [("cell", i) for i, v in enumerate(values) if not _is_number(v)] + ([TOTAL] if total_masked else [])
    result = solve(cells, [(TOTAL, [c for c in cells if c != TOTAL])], k, premasked=pre,
                   frozen=[] if total_masked or is_small(cells[TOTAL], k) else [TOTAL])
    return {c[1] for c in result.masked if c != TOTAL}


def _mask_rate_trace(trace, bars: dict, k: int, label: str) -> None:
    """A rate drawn over bars of the same categories (its denominator split into the bars): masked where the
    bars are masked or the rate's numerator / denominator / complement is below k; all of it without bars."""
    cats = [str(c) for c in _as_list(trace.x)]
    y = _as_list(trace.y)
    scales = (100,) if any(_is_number(v) and v > 1.5 for v in y) else (1, 100)  # a share, or a percentage
    by_cat: dict = {}
    for masked_cats in bars.values():
        for cat, (den, masked) in masked_cats.items():
            old = by_cat.get(cat, (0, False))
            by_cat[cat] = (max(old[0], den), old[1] or masked)
    for i, (cat, v) in enumerate(zip(cats, y)):
        if v is None:
            continue
        den, masked = by_cat.get(cat, (None, True))
        if masked or den is None or any(rate_masked(round(v / s * den), den, k) for s in scales):
            _set_point(trace, i, label, "y")
            text = _as_list(trace.text)
            if i < len(text):
                text[i] = ""
                trace.text = text


def _mask_count_series(trace, k: int, label: str, total_masked: bool) -> None:
    """A line of counts (the monthly caseload): a 1-D table whose total (the average) is shown."""
    y = _as_list(trace.y)
    for i in _mask_series(y, k, total_masked):
        _set_point(trace, i, label, "y")


def _mask_sankey(trace, k: int, label: str) -> None:
    link = trace.link
    values = [v if _is_number(v) else 0 for v in _as_list(link.value)]
    sources, targets = _as_list(link.source), _as_list(link.target)
    n_nodes = len(_as_list(trace.node.label))
    cells = {("link", i): v for i, v in enumerate(values)}
    constraints: list[Constraint] = []
    node_total = {}
    for node in range(n_nodes):
        inflow = [("link", i) for i, t in enumerate(targets) if t == node]
        outflow = [("link", i) for i, s in enumerate(sources) if s == node]
        total = max(sum(cells[c] for c in inflow), sum(cells[c] for c in outflow))
        node_total[node] = total
        cells[("node", node)] = total
        for parts in (inflow, outflow):
            if parts:
                constraints.append((("node", node), parts))
    frozen = [c for c, v in cells.items() if c[0] == "node" and not is_small(v, k)]
    result = solve(cells, constraints, k, frozen=frozen)
    new_values = list(values)
    for c in result.masked:
        if c[0] == "link":
            new_values[c[1]] = 0
    link.value = new_values
    labels = _as_list(trace.node.label)
    for node in range(n_nodes):
        if ("node", node) in result.masked and node < len(labels):
            labels[node] = _COUNT_IN_TEXT.sub(f"({label})", str(labels[node]))
    trace.node.label = labels


def _mask_box(fig, trace, k: int, label: str) -> None:
    """Individual values: never drawn as points in diffusion mode; a box of fewer than k values is removed."""
    trace.boxpoints = False
    values = _as_list(trace.x if getattr(trace, "orientation", None) == "h" else trace.y)
    if is_small(len(values), k):
        if getattr(trace, "orientation", None) == "h":
            trace.x = []
        else:
            trace.y = []
        for axis in ("yaxis", "xaxis"):
            layout_axis = getattr(fig.layout, axis, None)
            if layout_axis is None or layout_axis.tickvals is None or layout_axis.ticktext is None:
                continue
            tickvals, ticktext = list(layout_axis.tickvals), list(layout_axis.ticktext)
            if trace.name in tickvals:
                j = tickvals.index(trace.name)
                ticktext[j] = f"{trace.name} ({label})"
                layout_axis.ticktext = ticktext


def mask_figure(fig, k: int = DEFAULT_K, masked_totals: Iterable[str] = ()):
    """Mask a Plotly figure of counts in place (and return it): bars, pies, heatmaps, Sankey links, lines of
    counts and the rates drawn over bars. Masked bars and points are absent (value None), their text reads
    « < k ». A value already None counts as masked; `masked_totals` names the traces (or bar categories)
    whose total is masked where it is displayed. Lines named « Objectif… » (the convention's target) are not
    data; boxes lose their points (individual values) and boxes of fewer than k values are removed;
    choropleth values below k are blanked (a rate too: conservative)."""
    label = str(Masked(k))
    masked_totals = {str(t) for t in masked_totals}
    had_data = has_data(fig) or has_points(fig)  # a frame aligned beforehand arrives with its masked values None
    bars = _mask_bars(fig, k, label, masked_totals)
    for trace in fig.data:
        name = str(getattr(trace, "name", "") or "")
        if trace.type == "pie":
            values = _as_list(trace.values)
            masked = _mask_series(values, k, name in masked_totals)
            if masked:
                trace.values = [None if i in masked else v for i, v in enumerate(values)]
                text = _as_list(trace.text)
                if text:
                    trace.text = [label if i in masked else t for i, t in enumerate(text)]
        elif trace.type == "heatmap":
            z = [list(row) for row in _as_list(trace.z)]
            masked = [[is_small(v, k) for v in row] for row in z]
            trace.z = [[None if m else v for v, m in zip(row, mrow)] for row, mrow in zip(z, masked)]
            trace.text = [[label if m else ("" if v is None else str(v)) for v, m in zip(row, mrow)]
                          for row, mrow in zip(z, masked)]
            trace.texttemplate = "%{text}"
        elif trace.type == "sankey":
            _mask_sankey(trace, k, label)
        elif trace.type == "box":
            _mask_box(fig, trace, k, label)
        elif trace.type in ("scatter", "scattergl"):
            if name.startswith("Objectif"):
                continue
            if name.startswith("Taux"):
                _mask_rate_trace(trace, bars, k, label)
            else:
                _mask_count_series(trace, k, label, name in masked_totals)
        elif trace.type == "choropleth":
            z = _as_list(trace.z)
            trace.z = [None if is_small(v, k) else v for v in z]
    if had_data and not has_data(fig):  # never an empty chart without a word: say what is masked and why
        explain_masked(fig, k)
    return fig


_VALUE_ATTRS = {"bar": None, "scatter": "y", "scattergl": "y", "pie": "values", "heatmap": "z", "choropleth": "z", "box": None,
                "sankey": None}


def _values(trace) -> list:
    if trace.type == "bar":
        return _as_list(getattr(trace, _bar_value_attr(trace)))
    if trace.type == "box":
        return _as_list(trace.x if getattr(trace, "orientation", None) == "h" else trace.y)
    if trace.type == "sankey":
        return [v for v in _as_list(trace.link.value) if v]
    if trace.type == "heatmap":
        return [v for row in _as_list(trace.z) for v in _as_list(row)]
    attr = _VALUE_ATTRS.get(trace.type)
    return _as_list(getattr(trace, attr)) if attr else []


def _data_traces(fig) -> list:
    return [t for t in fig.data if not str(getattr(t, "name", "") or "").startswith("Objectif")]


def has_data(fig) -> bool:
    """Whether a chart shows at least one non-zero value (the convention's « Objectif » line is not data)."""
    return any(_is_number(v) and v != 0 for trace in _data_traces(fig) for v in _values(trace))


def has_points(fig) -> bool:
    """Whether a chart has a point already masked (None) among its values."""
    return any(v is None for trace in _data_traces(fig) for v in _values(trace))


def masked_message(k: int) -> str:
    return (f"Graphique masqué (secret statistique) :<br>chacune de ses valeurs concerne moins de {k} personnes<br>"
            "ou protège une petite case voisine.<br>Les totaux de la période restent publiés.")


def explain_masked(fig, k: int):
    """Write over a chart left without any value a message that says what is masked and why (its traces stay, every
    value masked: the legend still names the series)."""
    fig.add_annotation(text=masked_message(k), showarrow=False, font=dict(size=14, color="#5b6472"), x=0.5, y=0.5,
                       xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
