"""Frames and charts aligned on suppressed figures: what a page or a report draws next to the figures of the contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl

from analytics.diffusion.core import (Constraint, Masked, Table, _is_number, is_masked, is_small, mask_frame, rate_masked,
                                      solve, suppress_table)

# ---------------------------------------------------------------- frames aligned on suppressed figures
#
# A page (or a report) draws frames computed from the dataset next to the figures of the contract: the
# sex × household grid next to `sex` and `household`, the Sankey next to `exit_reason`... Their margins are
# figures: a margin masked in the figures is masked in the frame's constraints, a margin shown there is
# never chosen for the frame's secondary suppression. Each helper is a no-op when `fig` was not suppressed.


def suppressed_k(fig: Mapping | None) -> int | None:
    """The threshold `fig` was suppressed with (`suppress_figures`), None for raw figures."""
    info = (fig or {}).get("diffusion")
    return info.get("k") if isinstance(info, dict) else None


def _margin(value) -> str:
    return "masked" if is_masked(value) else ("shown" if _is_number(value) else "unknown")


def align_grid(frame: pl.DataFrame, row: str, col: str, fig: Mapping | None, *, value: str = "n",
               row_margins: Mapping | None = None, col_margins: Mapping | None = None, grand_total=None) -> Table | None:
    """Suppress a long (row, col, value) frame as the 2-D table it is, its margins taken from the figures
    (`row_margins` {row label: figure value}, `col_margins`, `grand_total`). Returns the `Table` (wide, one row
    per `row` label in the frame's order) or None when `fig` is not suppressed."""
    k = suppressed_k(fig)
    if k is None:
        return None
    rows = list(dict.fromkeys(frame[row].to_list()))
    cols = [str(c) for c in dict.fromkeys(frame[col].to_list())]
    found = {(r, str(c)): v for r, c, v in frame.select(row, col, value).iter_rows()}
    wide = pl.DataFrame({row: rows, **{c: [found.get((r, c), 0) for r in rows] for c in cols}},
                        schema={row: frame.schema[row], **{c: pl.Int64 for c in cols}})
    frozen, premasked = [], []
    for kind, margins in (("row", row_margins or {}), ("col", col_margins or {})):
        for label, v in margins.items():
            (premasked if _margin(v) == "masked" else frozen if _margin(v) == "shown" else []).append((kind, str(label) if kind == "col" else label))
    if grand_total is not None:
        (premasked if is_masked(grand_total) else frozen).append(("all",))
    return suppress_table(wide, k, index=row, columns=cols, frozen=frozen, premasked=premasked)


def grid_long(table: Table | None, frame: pl.DataFrame, row: str, col: str, value: str = "n") -> pl.DataFrame:
    """The long frame back, masked cells null (the frame itself when `table` is None)."""
    if table is None:
        return frame
    masked = set(table.masked)
    return frame.with_columns(pl.Series(value, [None if (r, str(c)) in masked else v
                                                for r, c, v in frame.select(row, col, value).iter_rows()],
                                        dtype=frame.schema[value]))


def align_pathways(frame: pl.DataFrame, fig: Mapping | None) -> pl.DataFrame:
    """The Sankey links (stage, source, target, n) with the masks of `exit_reason`, `active_at_end` (« En
    cours ») and `exit_detail` (a link masked in the figures is null)."""
    k = suppressed_k(fig)
    if k is None:
        return frame

    def figure_of(stage, source, target):
        if stage == 1:
            return fig.get("active_at_end") if target not in (fig.get("exit_reason") or {}) else fig["exit_reason"][target]
        return ((fig.get("exit_detail") or {}).get(source) or {}).get(target)

    values = [None if is_masked(figure_of(*row[:3])) or is_small(row[3], k) else row[3]
              for row in frame.select("stage", "source", "target", "n").iter_rows()]
    return frame.with_columns(pl.Series("n", values, dtype=frame.schema["n"]))


def align_series(frame: pl.DataFrame, column: str, key: str, figure: Mapping | None, fig: Mapping | None) -> pl.DataFrame:
    """Null the rows of `column` whose `key` is masked in `figure` ({key: value}, e.g. `monthly_caseload`)."""
    if suppressed_k(fig) is None or not figure:
        return frame
    return frame.with_columns(pl.Series(column, [None if is_masked(figure.get(str(kv))) else v
                                                 for kv, v in frame.select(key, column).iter_rows()],
                                        dtype=frame.schema[column]))


def align_counts(frame: pl.DataFrame, count_cols: Sequence[str], fig: Mapping | None, totals: Mapping | None = None) -> pl.DataFrame:
    """`mask_frame` of a series of counts whose column totals are figures (`totals` {column: figure value}): a
    total masked in the figures is a masked member, a shown one is never chosen. No-op for raw figures."""
    k = suppressed_k(fig)
    if k is None:
        return frame
    totals = totals or {}
    return mask_frame(frame, count_cols, k, masked_totals=[(c, ()) for c, v in totals.items() if is_masked(v)],
                      frozen_totals=[(c, ()) for c, v in totals.items() if _is_number(v)])


def masked_share(raw: pl.DataFrame, shown: pl.DataFrame, count_cols: Sequence[str]) -> float:
    """The share of the non-zero cells of `raw` that `shown` masks (null)."""
    cells = [(r is not None and r > 0, s is None) for c in count_cols for r, s in zip(raw[c].to_list(), shown[c].to_list())]
    nonzero = [m for nz, m in cells if nz]
    return sum(nonzero) / len(nonzero) if nonzero else 0.0


def align_flows(frame: pl.DataFrame, count_cols: Sequence[str], fig: Mapping | None, totals: Mapping | None = None,
                key: str = "month") -> tuple[pl.DataFrame, str | None]:
    """A monthly series of counts (a chart's) as it may be published: `coarsen_monthly` over `align_counts` — grouped
    by quarter (`2023-T1`) as soon as a month would be masked, as the monthly tables beside it are. Returns the frame
    and the French line that says so (None when the months were kept). No-op for raw figures."""
    from analytics.diffusion.coarsen import coarsen_monthly

    done = coarsen_monthly(frame, suppressed_k(fig), lambda f: (align_counts(f, count_cols, fig, totals), {}),
                           flows=count_cols, key=key)
    return done.frame, done.note


def rows_of(frame: pl.DataFrame, fig: Mapping | None) -> list[tuple]:
    """The rows of a frame as tuples, a null read as `Masked(k)` when `fig` was suppressed (for French formatting:
    `fmt.number` prints « < k », arithmetic stays masked)."""
    k = suppressed_k(fig)
    if k is None:
        return list(frame.iter_rows())
    mark = Masked(k)
    return [tuple(mark if v is None else v for v in row) for row in frame.iter_rows()]


def sum_or_masked(values: pl.Series, fig: Mapping | None):
    """The sum of a (masked) series: `Masked(k)` if any of it is masked."""
    k = suppressed_k(fig)
    if k is not None and values.null_count():
        return Masked(k)
    return int(values.sum())


TERRITORY_COUNTS = ["positioned", "participants", "exits", "positive_exits"]


def _territory_rates(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """per_1000 and positive_exit_rate nulled where their counts are masked or the rate would reveal a small cell."""
    per = [None if p is None else r for p, r in zip(frame["participants"], frame["per_1000"])]
    rate = [None if pos is None or ex is None or r is None or rate_masked(pos, ex, k) else r
            for pos, ex, r in zip(frame["positive_exits"], frame["exits"], frame["positive_exit_rate"])]
    return frame.with_columns(pl.Series("per_1000", per, dtype=frame.schema["per_1000"]),
                              pl.Series("positive_exit_rate", rate, dtype=frame.schema["positive_exit_rate"]))


def _nested_premasks(frame: pl.DataFrame, k: int) -> dict:
    """Cells whose difference with their parent count is a small cell: participants ⊂ positioned (the
    non-entrants), positive exits ⊂ exits (the other exits)."""
    return {"participants": {i for i, (p, q) in enumerate(zip(frame["positioned"], frame["participants"])) if is_small(p - q, k)},
            "positive_exits": {i for i, (e, q) in enumerate(zip(frame["exits"], frame["positive_exits"])) if is_small(e - q, k)}}


def align_territory(communes: pl.DataFrame, epcis: pl.DataFrame, fig: Mapping | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The commune and EPCI tables (`analytics.indicators.territory`) as they may be published with `fig`: the
    EPCI table first (its column totals are the figures; participants masked as in `fig["epci"]`), then the
    communes of each EPCI with the EPCI's counts as the group totals; rates nulled with their counts."""
    k = suppressed_k(fig)
    if k is None:
        return communes, epcis
    by_epci = fig.get("epci") or {}
    pre = _nested_premasks(epcis, k)
    pre["participants"] |= {i for i, e in enumerate(epcis["epci"]) if is_masked(by_epci.get(e))}
    epcis_m = mask_frame(epcis, TERRITORY_COUNTS, k, premasked=pre,
                         masked_totals=[(c, ()) for c in TERRITORY_COUNTS if is_masked(fig.get(c))],
                         frozen_totals=[(c, ()) for c in TERRITORY_COUNTS if _is_number(fig.get(c))])
    rows = {e: row for e, row in zip(epcis_m["epci"], epcis_m.select(TERRITORY_COUNTS).iter_rows())}
    masked_totals, frozen_totals = [], []
    for e, row in rows.items():
        for c, v in zip(TERRITORY_COUNTS, row):
            (masked_totals if v is None else frozen_totals).append((c, (e,)))
    communes_m = mask_frame(communes, TERRITORY_COUNTS, k, by="epci", premasked=_nested_premasks(communes, k),
                            masked_totals=masked_totals, frozen_totals=frozen_totals)
    return _territory_rates(communes_m, k), _territory_rates(epcis_m, k)


def communes_coarsened(raw: pl.DataFrame, shown: pl.DataFrame, fig: Mapping | None) -> str | None:
    """Coarsen communes → EPCI: when most non-zero cells of the published commune table (`align_territory`) would be
    masked, the table is not shown and this French line says so (its EPCI table groups the same persons); None when
    the commune table is worth publishing (or for raw figures)."""
    k = suppressed_k(fig)
    if k is None or masked_share(raw, shown, TERRITORY_COUNTS) <= 0.5:
        return None
    return (f"Tableau par commune regroupé par EPCI : commune par commune, la plupart des effectifs sont inférieurs à {k} "
            "et seraient masqués (secret statistique) ; le tableau par EPCI ci-dessus donne les mêmes personnes.")


def align_map(frame: pl.DataFrame, communes: pl.DataFrame, fig: Mapping | None) -> pl.DataFrame:
    """The map frame (every commune of the EPCIs, zeros included) with the masks of the published commune table."""
    k = suppressed_k(fig)
    if k is None:
        return frame
    shown = {code: row for code, row in zip(communes["code"], communes.select(*TERRITORY_COUNTS, "per_1000",
                                                                                 "positive_exit_rate").iter_rows())}
    cols = [*TERRITORY_COUNTS, "per_1000", "positive_exit_rate"]
    out = {c: [] for c in cols}
    for code, row in zip(frame["code"], frame.select(cols).iter_rows()):
        source = shown.get(code, row)
        for c, v in zip(cols, source):
            out[c].append(v)
    return frame.with_columns([pl.Series(c, out[c], dtype=frame.schema[c]) for c in cols])


def align_positive_rate(frame: pl.DataFrame, fig: Mapping | None) -> pl.DataFrame:
    """(month, exits, positive_exits, rate) by month as published: the months × {positive, other} table with its
    margins (the month's exits; `positive_exits` and the other exits of the figures), the rate nulled with its
    counts or when it would give a small cell back."""
    k = suppressed_k(fig)
    if k is None:
        return frame
    wide = frame.select("month", pl.col("positive_exits").alias("pos"), (pl.col("exits") - pl.col("positive_exits")).alias("other"))
    pos_total, exits_total = fig.get("positive_exits"), fig.get("exits")
    margins = {"pos": pos_total, "other": exits_total - pos_total if _is_number(pos_total) and _is_number(exits_total)
               else Masked(k)}
    table = suppress_table(wide, k, index="month", columns=["pos", "other"],
                           premasked=[("col", c) for c, v in margins.items() if is_masked(v)] + ([("all",)] if is_masked(exits_total) else []),
                           frozen=[("col", c) for c, v in margins.items() if not is_masked(v)] + ([] if is_masked(exits_total) else [("all",)]))
    exits = [table.totals[("row", m)] for m in frame["month"]]
    pos = table.frame["pos"].to_list()
    rate = [None if e is None or p is None or r is None or rate_masked(p, e, k) else r
            for e, p, r in zip(exits, pos, frame["rate"].to_list())]
    return frame.with_columns(pl.Series("exits", exits, dtype=frame.schema["exits"]),
                              pl.Series("positive_exits", pos, dtype=frame.schema["positive_exits"]),
                              pl.Series("rate", rate, dtype=frame.schema["rate"]))


MONTHLY_APPOINTMENTS = ["held", "missed", "excused", "unexcused"]


def align_monthly(frame: pl.DataFrame, fig: Mapping | None) -> tuple[pl.DataFrame, dict]:
    """The monthly tracking table (`analytics.reports.common.monthly_tracking`) as published, with the totals of its
    last row ({column: value or Masked}). One constraint system: each column adds up to its total (the figures'
    entries, exits, exits by reason, appointments attended), each month's exits to its exits by reason, each
    month's missed appointments to the excused and unexcused ones; the caseload keeps the figures' masks."""
    k = suppressed_k(fig)
    if k is None:
        return frame, {}
    reasons = [c for c in frame.columns if c.startswith("exit:")]
    counts = [c for c in ["entries", "exits", *reasons, *MONTHLY_APPOINTMENTS] if c in frame.columns]
    months = frame["month"].to_list()
    values: dict = {(m, c): (v or 0) for c in counts for m, v in zip(months, frame[c].to_list())}
    constraints: list[Constraint] = []
    figure_totals = {"entries": fig.get("entries"), "exits": fig.get("exits"),
                     "held": (fig.get("appointments") or {}).get("attended")}
    figure_totals |= {c: (fig.get("exit_reason") or {}).get(c.split(":", 1)[1], 0) for c in reasons}
    premasked, frozen = [], []
    for c in counts:
        values[("total", c)] = sum(values[(m, c)] for m in months)
        constraints.append((("total", c), [(m, c) for m in months]))
        v = figure_totals.get(c)
        if is_masked(v):
            premasked.append(("total", c))
        elif v is not None:
            frozen.append(("total", c))
    for m in months:
        if "exits" in counts and reasons:
            constraints.append(((m, "exits"), [(m, c) for c in reasons]))
        if {"missed", "excused", "unexcused"} <= set(counts):
            constraints.append(((m, "missed"), [(m, "excused"), (m, "unexcused")]))
    if "exits" in counts and reasons:
        constraints.append((("total", "exits"), [("total", c) for c in reasons]))
    result = solve(values, constraints, k, premasked=premasked, frozen=frozen)
    out = frame.with_columns([pl.Series(c, [None if (m, c) in result.masked else v for m, v in zip(months, frame[c].to_list())],
                                        dtype=frame.schema[c]) for c in counts])
    out = align_series(out, "caseload", "month", fig.get("monthly_caseload"), fig) if "caseload" in out.columns else out
    totals = {c: (Masked(k) if ("total", c) in result.masked else values[("total", c)]) for c in counts}
    return out, totals


# the name a figure takes in the charts (trace names, bar categories) when it is a chart's total
FIGURE_NAMES = {"entries": "Entrées", "exits": "Sorties", "positive_exits": "Sorties positives",
                "average_caseload": "File active", "exits_with_immersion": "Avec immersion",
                "immersions.led_to_contract": "À débouché sur un contrat"}


def all_masked_labels(fig: Mapping | None) -> set[str]:
    """Every label (category, trace name) of a masked figure: the charts treat these totals as masked. Broader than
    needed (a label shared by two maps is masked in both senses), hence never less safe."""
    info = (fig or {}).get("diffusion") or {}
    out = set()
    for path in info.get("masked", []):
        parts = path.split(".")
        out.add(parts[-1])
        out.add(FIGURE_NAMES.get(path, FIGURE_NAMES.get(parts[0], parts[-1])))
    return out


def masked_names(named: Mapping) -> list[str]:
    """The names (trace names, bar categories) whose figure is masked, for `mask_figure(..., masked_totals=)`:
    `masked_names({"Entrées": fig["entries"], "Sorties": fig["exits"]})`."""
    return [str(name) for name, v in named.items() if is_masked(v)]


def mask_if(fig_plotly, fig: Mapping | None, masked_totals: Iterable[str] = ()):
    """`mask_figure` with the threshold of the suppressed figures `fig`; the figure unchanged otherwise."""
    from analytics.diffusion.charts import mask_figure

    k = suppressed_k(fig)
    return fig_plotly if k is None else mask_figure(fig_plotly, k, masked_totals)


def _caseload_stock(fig: Mapping | None) -> dict:
    """The caseload as a stock for `coarsen_monthly`: its published months and its published average."""
    fig = fig or {}
    return {"caseload": (fig.get("monthly_caseload"), fig.get("average_caseload"))}


def coarsen_caseload(frame: pl.DataFrame, fig: Mapping | None, flows: Sequence[str] = (), totals: Mapping | None = None):
    """A month-by-month caseload table (`month`, `caseload`, and optional flows such as entries and exits whose
    column totals are the figures `totals`) as diffusion mode publishes it: `coarsen_monthly`. No-op for raw figures."""
    from analytics.diffusion.coarsen import coarsen_monthly

    def align(f: pl.DataFrame):
        return (align_counts(f, flows, fig, totals) if flows else f), {}

    return coarsen_monthly(frame, suppressed_k(fig), align, flows=list(flows), stocks=_caseload_stock(fig))


def coarsen_tracking(frame: pl.DataFrame, fig: Mapping | None):
    """The monthly tracking table (`analytics.reports.common.monthly_tracking`) as diffusion mode publishes it:
    `coarsen_monthly` over `align_monthly` (its `totals` are the published column totals). No-op for raw figures."""
    from analytics.diffusion.coarsen import coarsen_monthly

    flows = [c for c in frame.columns if c not in ("month", "caseload")]
    return coarsen_monthly(frame, suppressed_k(fig), lambda f: align_monthly(f, fig), flows=flows,
                           stocks=_caseload_stock(fig) if "caseload" in frame.columns else {})
