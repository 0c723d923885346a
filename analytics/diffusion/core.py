"""The suppression machinery: the threshold, the masked value, the solver over additive constraints, 1-D and 2-D
tables, frames and rates (see the package docstring for the rules)."""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

DEFAULT_K = 11
ENV_K = "COACHING_DIFFUSION_K"
PRIMARY, SECONDARY = "primaire", "secondaire"
RESIDUAL = "__reste__"
TOTAL = "__total__"


def threshold(k: int | None = None) -> int:
    """The threshold in force: `k` if given, else `$COACHING_DIFFUSION_K`, else 11."""
    if k is None:
        raw = os.environ.get(ENV_K, "").strip()
        k = int(raw) if raw.isdigit() else DEFAULT_K
    if int(k) < 1:
        raise ValueError("le seuil de diffusion doit être un entier positif")
    return int(k)


SECONDARY_TEXT = "masqué"


def legend(k: int, secondary: bool = True) -> str:
    """The one line that says what the marks mean, under every table and chart that shows one."""
    text = f"« < {k} » : moins de {k} personnes (secret statistique)"
    if secondary:
        text += (f" ; « {SECONDARY_TEXT} » : chiffre caché pour protéger une petite case voisine, qu'on retrouverait "
                 "sinon par différence avec le total (secret secondaire)")
    return text + "."


class Masked(str):
    """A masked value: reads « < k » (in JSON too: it is a `str`), carries no number. A secondary suppression (a
    count that is not small, masked to protect a small neighbour) reads « masqué » (`secondary=True`): « < 11 »
    would be false for 22 exits.

    Arithmetic with a masked value gives a masked value (`masked / n`, `n - masked`, `round(masked)`…), so
    that a share or a change computed from a masked count stays masked instead of failing; it sorts before
    every number (the largest *shown* category stays the largest). `analytics.fmt` prints it as is.
    """

    k: int
    secondary: bool

    def __new__(cls, k: int = DEFAULT_K, secondary: bool = False) -> "Masked":
        obj = super().__new__(cls, SECONDARY_TEXT if secondary else f"< {k}")
        obj.k = k
        obj.secondary = secondary
        return obj

    def _absorb(self, *_args) -> "Masked":
        return self

    __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _absorb
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = _absorb
    __neg__ = __pos__ = __abs__ = __round__ = _absorb

    def __add__(self, other):
        return str(self) + other if isinstance(other, str) else self

    def __radd__(self, other):
        return other + str(self) if isinstance(other, str) else self

    def __lt__(self, other):
        return True if _is_number(other) else str.__lt__(self, other)

    def __le__(self, other):
        return True if _is_number(other) else str.__le__(self, other)

    def __gt__(self, other):
        return False if _is_number(other) else str.__gt__(self, other)

    def __ge__(self, other):
        return False if _is_number(other) else str.__ge__(self, other)

    __hash__ = str.__hash__

    def __reduce__(self):  # pickling (st.cache_data) keeps the type
        return (Masked, (self.k, self.secondary))

    def __deepcopy__(self, memo):
        return self


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_masked(value) -> bool:
    return isinstance(value, Masked)


# ---------------------------------------------------------------- the solver


Constraint = tuple[Hashable, Sequence[Hashable]]  # (total, parts): total = sum(parts)


@dataclass
class Suppression:
    """The result of `solve`: which cells are masked and why."""

    masked: dict = field(default_factory=dict)     # cell → PRIMARY | SECONDARY | "déjà masqué"
    reasons: dict = field(default_factory=dict)    # secondary cell → index of the constraint that needed it
    unresolved: list = field(default_factory=list)  # constraints left with one masked member (no candidate)

    def __contains__(self, cell) -> bool:
        return cell in self.masked


def is_small(value, k: int) -> bool:
    """Primary suppression: a count strictly between 0 and k."""
    return _is_number(value) and 0 < value < k


def solve(values: Mapping, constraints: Sequence[Constraint], k: int = DEFAULT_K, *, primary: Iterable | None = None,
          hidden: Iterable = (), frozen: Iterable = (), premasked: Iterable = (), costly: Iterable = ()) -> Suppression:
    """Primary then secondary suppression over additive constraints.

    values: cell → count (the value used to order the candidates); constraints: (total, parts), cells absent
    from `values` are ignored; primary: the cells to protect (default: 0 < value < k); hidden: cells not
    displayed (a residual), the cheapest candidates; frozen: cells displayed elsewhere that must not be chosen
    (a margin shown by another table); premasked: cells already masked elsewhere; costly: the headline figures,
    chosen last (the first of them the dearest).

    The cost of a secondary candidate, cheapest first: an undisplayed residual; then anything before a headline
    figure (`costly`), and before a cell whose masking would leave a headline figure as the only choice of another
    constraint (one step of look-ahead); an ordinary cell before the total of some constraint (a table's total is
    read more than its parts); among equals, the cell that closes the most exposed constraints at once (fewer masks),
    then the smallest; a zero only when nothing else is left.
    """
    order = {cell: i for i, cell in enumerate(values)}
    hidden, frozen = set(hidden), set(frozen)
    costly = list(costly)
    rank = {c: len(costly) - i for i, c in enumerate(costly)}  # the first the dearest
    totals = {total for total, _ in constraints if total in values}
    out = Suppression()
    for cell in premasked:
        if cell in values:
            out.masked[cell] = "déjà masqué"
    for cell in (primary if primary is not None else (c for c, v in values.items() if is_small(v, k))):
        if cell in values and cell not in out.masked:
            out.masked[cell] = PRIMARY
    lines = [[c for c in (total, *parts) if c in values] for total, parts in constraints]
    lines = [list(dict.fromkeys(line)) for line in lines]
    lines_of: dict = {}
    for i, members in enumerate(lines):
        for c in members:
            lines_of.setdefault(c, []).append(i)

    def tier(c) -> int:
        return 2 if c in costly else 1 if c in totals else 0

    def closes(c) -> int:  # the exposed constraints (one masked member) that masking c closes
        return sum(1 for j in lines_of.get(c, ()) if sum(m in out.masked for m in lines[j]) == 1)

    def forces(c) -> int:
        """The constraints that masking c would open (c their only masked member) with nothing left to choose but
        headline figures: c would drag a headline figure after it."""
        n = 0
        for j in lines_of.get(c, ()):
            if any(m in out.masked for m in lines[j]):
                continue
            rest = [m for m in lines[j] if m != c and m not in frozen]
            if rest and all(m in costly for m in rest):
                n += 1
        return n

    changed = True
    while changed:
        changed = False
        out.unresolved = []
        for i, members in enumerate(lines):
            if sum(c in out.masked for c in members) != 1:
                continue
            candidates = [c for c in members if c not in out.masked and c not in frozen]
            if not candidates:
                out.unresolved.append(i)
                continue
            pick = min(candidates, key=lambda c: (values[c] == 0, c not in hidden, rank.get(c, 0), forces(c), tier(c) == 1,
                                                  -closes(c), values[c], order[c]))
            out.masked[pick] = SECONDARY
            out.reasons[pick] = i
            changed = True
    return out


def exposed(values: Mapping, constraints: Sequence[Constraint], masked: Iterable) -> list[int]:
    """The constraints with exactly one masked member (for tests and audits): each one gives it back."""
    masked = set(masked)
    bad = []
    for i, (total, parts) in enumerate(constraints):
        members = {c for c in (total, *parts) if c in values}
        if len(members & masked) == 1:
            bad.append(i)
    return bad


# ---------------------------------------------------------------- 1-D: {label: count} and its total


@dataclass
class Counts:
    """A suppressed {label: count}: masked values are None, `masked` flags them (label → reason)."""

    values: dict
    masked: dict
    total: int | None
    total_masked: bool
    k: int

    def shown(self, marker=None) -> dict:
        """The table as published: masked counts replaced by `marker` (default `Masked(k)`)."""
        mark = Masked(self.k) if marker is None else marker
        return {label: (mark if label in self.masked else v) for label, v in self.values.items()}


def suppress_counts(mapping: Mapping, k: int = DEFAULT_K, total: int | None = None, *, total_shown: bool = True) -> Counts:
    """Suppress a 1-D table. `total` is the total shown with it (default: the sum of the cells); when it is
    larger than the sum, the difference is an undisplayed « others » cell, protected like any other.
    With `total_shown=False` (no total published anywhere) only the primary suppression applies."""
    labels = list(mapping)
    values = {("cell", label): v for label, v in mapping.items()}
    real_total = sum(v for v in mapping.values() if _is_number(v)) if total is None else total
    values[TOTAL] = real_total
    hidden = []
    residual = real_total - sum(v for v in mapping.values() if _is_number(v))
    if residual > 0:
        values[RESIDUAL] = residual
        hidden.append(RESIDUAL)
    constraints = [(TOTAL, [("cell", label) for label in labels] + hidden)] if total_shown else []
    if not total_shown:
        values.pop(TOTAL)
    result = solve(values, constraints, k, hidden=hidden)
    masked = {label: result.masked[("cell", label)] for label in labels if ("cell", label) in result.masked}
    total_masked = TOTAL in result.masked
    return Counts({label: (None if label in masked else mapping[label]) for label in labels}, masked,
                  None if total_masked or not total_shown else real_total, total_masked, k)


# ---------------------------------------------------------------- 2-D tables with margins


@dataclass
class Table:
    """A suppressed 2-D table: `frame` with masked cells null, `masked` {(row label, column): reason},
    `totals` the margins as published ({("row", r) | ("col", c) | ("all",): value or None})."""

    frame: pl.DataFrame
    masked: dict
    totals: dict
    k: int
    unresolved: list = field(default_factory=list)

    @property
    def masked_totals(self) -> set:
        return {key for key, v in self.totals.items() if v is None}


def table_system(frame: pl.DataFrame, index: str, columns: Sequence[str], margins: bool = True):
    """(values, constraints) of a 2-D table: cells ("cell", row label, column), margins ("row", r), ("col", c),
    ("all",); a missing count is 0."""
    rows = frame[index].to_list()
    values: dict = {}
    for r, row in zip(rows, frame.select(columns).iter_rows()):
        for c, v in zip(columns, row):
            values[("cell", r, c)] = 0 if v is None else v
    constraints: list[Constraint] = []
    if margins:
        for r in rows:
            values[("row", r)] = sum(values[("cell", r, c)] for c in columns)
        for c in columns:
            values[("col", c)] = sum(values[("cell", r, c)] for r in rows)
        values[("all",)] = sum(values[("row", r)] for r in rows)
        constraints += [(("row", r), [("cell", r, c) for c in columns]) for r in rows]
        constraints += [(("col", c), [("cell", r, c) for r in rows]) for c in columns]
        constraints += [(("all",), [("row", r) for r in rows]), (("all",), [("col", c) for c in columns])]
    return values, constraints


def suppress_table(frame: pl.DataFrame, k: int = DEFAULT_K, *, index: str | None = None, columns: Sequence[str] | None = None,
                   margins: bool = True, frozen: Iterable = (), premasked: Iterable = ()) -> Table:
    """Suppress a 2-D table (one row per `index` label, default the first column; one count per column of
    `columns`, default all the others).

    With `margins` (row totals, column totals and grand total shown or derivable), iterate on rows and columns
    until no row or column, margin included, holds exactly one masked cell: every row and column with a
    masked cell has at least two, or one and its masked total (plus another cell: a masked total alone would
    be the sum of the shown cells). `frozen` margins (("row", r), ("col", c), ("all",)) are displayed
    elsewhere and are never chosen; `premasked` ones are already masked where they are displayed.
    Row labels must be unique."""
    index = index or frame.columns[0]
    columns = list(columns or [c for c in frame.columns if c != index])
    if frame[index].n_unique() != frame.height:
        raise ValueError("suppress_table: row labels must be unique")
    values, constraints = table_system(frame, index, columns, margins)
    result = solve(values, constraints, k, frozen=frozen, premasked=premasked)
    masked = {(key[1], key[2]): reason for key, reason in result.masked.items() if key[0] == "cell"}
    labels = frame[index].to_list()
    out = frame.with_columns([
        pl.Series(c, [None if (r, c) in masked else v for r, v in zip(labels, frame[c].to_list())], dtype=frame.schema[c])
        for c in columns])
    totals = {key: (None if key in result.masked else v) for key, v in values.items() if key[0] != "cell"}
    return Table(out, masked, totals, k, result.unresolved)


# ---------------------------------------------------------------- frames drawn by the pages


def mask_frame(frame: pl.DataFrame, count_cols: Sequence[str], k: int = DEFAULT_K, *, by: Sequence[str] | str | None = None,
               totals: bool = True, rows_add: bool = False, flags: bool = False, premasked: Mapping | None = None,
               frozen_totals: Iterable = (), masked_totals: Iterable = ()) -> pl.DataFrame:
    """Mask the count columns of a frame (null where masked).

    Each count column is a 1-D table whose total is shown (`totals`), within each group of `by` if given (the
    group's total shown: e.g. the communes of each EPCI); with `rows_add`, the counts of a row add up to a
    shown row total too (a wide 2-D table). `premasked` {column: set of row indexes} marks cells already
    masked elsewhere; `frozen_totals` [(column, group)] the totals displayed elsewhere, `masked_totals` those
    masked where they are displayed (group: the tuple of the `by` values, () without `by`). `flags` adds a boolean
    column `<col>__masque` per count column (None alone cannot tell a masked cell from a missing one)."""
    count_cols = list(count_cols)
    by = [by] if isinstance(by, str) else list(by or [])
    groups = list(zip(*[frame[b].to_list() for b in by])) if by else [()] * frame.height
    values: dict = {}
    for c in count_cols:
        for i, v in enumerate(frame[c].to_list()):
            values[(i, c)] = 0 if v is None else v
    constraints: list[Constraint] = []
    if totals:
        for c in count_cols:
            members: dict = {}
            for i, g in enumerate(groups):
                members.setdefault(g, []).append((i, c))
            for g, parts in members.items():
                values[("total", c, g)] = sum(values[p] for p in parts)
                constraints.append((("total", c, g), parts))
    if rows_add and len(count_cols) > 1:
        for i in range(frame.height):
            values[("row", i)] = sum(values[(i, c)] for c in count_cols)
            constraints.append((("row", i), [(i, c) for c in count_cols]))
    pre = [(i, c) for c, rows in (premasked or {}).items() for i in rows] + [("total", c, g) for c, g in masked_totals]
    frozen = [("total", c, g) for c, g in frozen_totals]
    result = solve(values, constraints, k, premasked=pre, frozen=frozen)
    out = frame.with_columns([
        pl.Series(c, [None if (i, c) in result.masked else v for i, v in enumerate(frame[c].to_list())], dtype=frame.schema[c])
        for c in count_cols])
    if flags:
        out = out.with_columns([pl.Series(f"{c}__masque", [(i, c) in result.masked for i in range(frame.height)], pl.Boolean)
                                for c in count_cols])
    return out


# ---------------------------------------------------------------- rates


def rate_masked(num, den, k: int = DEFAULT_K) -> bool:
    """A rate num/den is masked when num, den or den − num is strictly between 0 and k, or unknown."""
    if not (_is_number(num) and _is_number(den)):
        return True
    return is_small(den, k) or is_small(num, k) or is_small(den - num, k)


def suppress_rate(num, den, k: int = DEFAULT_K, decimals: int = 4):
    """The rate num/den rounded, `Masked(k)` when `rate_masked`, None when den is 0."""
    if _is_number(den) and den == 0:
        return None
    if rate_masked(num, den, k):
        return Masked(k)
    return round(num / den, decimals)
