"""Months → quarters before suppressing: what statisticians publish instead of a monthly table full of « < 11 ».

`coarsen_monthly` is the one function that decides and does it, for every monthly table of diffusion mode (the
File active page's « Mois par mois », the PDF's and the XLSX's monthly caseload, the monthly tracking table of the
XLSX and the CSV): when the monthly table, as it may be published, would mask any cell, its months are grouped into
quarters (`2023-T1`, read « T1 2023 ») and only what is still protected after grouping is masked; a note says so.

Two kinds of columns (decision, docs/diffusion.md):
- flows (entries, exits, exits by reason, appointments) are additive: a quarter is the sum of its months, masked by
  the table's own constraint system (`align`: each column adds up to the period's figure, …), as the months were;
- stocks (the caseload: persons present in a month) are not: a quarter's caseload is the **mean** of its months
  (« file active moyenne du trimestre »), as the period's average caseload is the mean of all its months. It is
  masked when that mean is below k, and — because the monthly caseload is itself a published figure of diffusion
  mode (charts, JSON, the caseload sheet) — when it would give back a month masked there: the quarter's
  person-months are the sum of its months' caseloads and the period's person-months are the average × the number
  of months, two more additive constraints solved together with the monthly masks (`solve`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from analytics.diffusion.core import _is_number, is_masked, solve


def quarter_key(month: pl.Expr = pl.col("month")) -> pl.Expr:
    """`2023-05` → `2023-T2`."""
    return month.str.slice(0, 4) + pl.lit("-T") + ((month.str.slice(5, 2).cast(pl.Int32) - 1) // 3 + 1).cast(pl.String)


def to_quarters(frame: pl.DataFrame, flows: Sequence[str], stocks: Sequence[str] = (), key: str = "month") -> pl.DataFrame:
    """The months of `frame` grouped by quarter: the sum of the months for a flow, their mean for a stock."""
    return (frame.group_by(quarter_key(pl.col(key)).alias(key), maintain_order=True)
            .agg([pl.col(c).sum().cast(frame.schema[c]) for c in flows] + [pl.col(c).mean().cast(pl.Float64) for c in stocks])
            .select([key, *[c for c in frame.columns if c in (*flows, *stocks)]]))


def grouped_note(k: int, still_masked: bool) -> str:
    text = (f"Regroupé par trimestre pour respecter le secret statistique : mois par mois, des effectifs inférieurs à {k} "
            "auraient été masqués.")
    if still_masked:
        text += f" Les trimestres encore inférieurs à {k} (ou qui permettraient de les retrouver) restent masqués."
    return text


@dataclass(frozen=True)
class Coarsened:
    frame: pl.DataFrame  # one row per month, or per quarter; a masked cell is null
    totals: dict = field(default_factory=dict)  # what `align` returned beside the frame (the published column totals)
    note: str | None = None  # the French line to show under the table; None when the months were kept

    @property
    def quarterly(self) -> bool:
        return self.note is not None


def _masks_any(raw: pl.DataFrame, shown: pl.DataFrame, columns: Sequence[str]) -> bool:
    return any(r is not None and s is None for c in columns if c in raw.columns
               for r, s in zip(raw[c].to_list(), shown[c].to_list()))


def _mask_stock(monthly: pl.DataFrame, quarters: pl.DataFrame, column: str, k: int, months_shown: Mapping | None,
                average, key: str) -> pl.DataFrame:
    """Null the quarters of a stock (`column`, the mean of its months in `quarters`) whose mean is below k, or which
    would give back a month masked in the published monthly figure `months_shown` ({month: value or Masked}), or a
    masked quarter through the period's average (`average`, shown or masked)."""
    months = monthly[key].to_list()
    of = dict(zip(months, monthly.select(quarter_key(pl.col(key))).to_series().to_list()))
    values: dict = {("m", m): (v or 0) for m, v in zip(months, monthly[column].to_list())}
    for q in quarters[key].to_list():
        values[("q", q)] = sum(values[("m", m)] for m in months if of[m] == q)
    values[("total",)] = sum(values[("m", m)] for m in months)
    constraints = [(("q", q), [("m", m) for m in months if of[m] == q]) for q in quarters[key].to_list()]
    constraints += [(("total",), [("q", q) for q in quarters[key].to_list()]), (("total",), [("m", m) for m in months])]
    primary = [("q", q) for q, mean in zip(quarters[key].to_list(), quarters[column].to_list())
               if mean is not None and 0 < mean < k]
    premasked, frozen = [], []
    for m in months:  # the months as the figures publish them: masked there, or shown (never chosen here)
        v = (months_shown or {}).get(m)
        (premasked if is_masked(v) else frozen).append(("m", m))
    # a quarter whose months are all published is known anyway: shown, never chosen to protect another cell
    frozen += [("q", q) for q in quarters[key].to_list()
               if ("q", q) not in primary and all(("m", m) in frozen for m in months if of[m] == q)]
    if is_masked(average):
        premasked.append(("total",))
    elif _is_number(average):
        frozen.append(("total",))
    result = solve(values, constraints, k, primary=primary, premasked=premasked, frozen=frozen)
    return quarters.with_columns(pl.Series(column, [None if ("q", q) in result.masked else v
                                                    for q, v in zip(quarters[key].to_list(), quarters[column].to_list())],
                                           dtype=pl.Float64))


def coarsen_monthly(frame: pl.DataFrame, k: int | None, align: Callable[[pl.DataFrame], tuple[pl.DataFrame, dict]], *,
                    flows: Sequence[str], stocks: Mapping[str, tuple[Mapping | None, object]] | None = None,
                    key: str = "month") -> Coarsened:
    """A monthly table as diffusion mode publishes it.

    frame: one row per month (`key` `YYYY-MM`), raw counts; k: the threshold (None: raw figures, returned as they
    are); align: the table's own masking of a frame of months or quarters (flows; returns the masked frame and its
    published totals); flows: the additive columns; stocks: {column: (its published monthly figure {month: value or
    Masked}, the published average over the period)} — the caseload. When `align` masks nothing in the months (and no
    month of a stock is masked), the months are kept; otherwise the quarters are returned with the note."""
    stocks = stocks or {}
    if k is None:
        return Coarsened(frame)
    shown, totals = align(frame)
    for column, (months_shown, _) in stocks.items():
        shown = shown.with_columns(pl.Series(column, [None if is_masked((months_shown or {}).get(m)) else v
                                                      for m, v in zip(frame[key].to_list(), frame[column].to_list())],
                                             dtype=frame.schema[column]))
    if frame.is_empty() or not _masks_any(frame, shown, [*flows, *stocks]):
        return Coarsened(shown, totals)
    quarters = to_quarters(frame, flows, list(stocks), key)
    shown_q, totals_q = align(quarters)
    for column, (months_shown, average) in stocks.items():
        shown_q = _mask_stock(frame, shown_q, column, k, months_shown, average, key)
    return Coarsened(shown_q, totals_q, grouped_note(k, _masks_any(quarters, shown_q, [*flows, *stocks])))
