"""Statistical confidentiality (« secret statistique ») of the figures that leave the association.

One module, no Streamlit: the dashboard's diffusion mode, the reports and `coaching indicators --suppress K`
all mask through the functions below.

Threshold. A count of persons strictly between 0 and k is masked (primary suppression), k = 11 by default
(`DEFAULT_K`, overridden by `$COACHING_DIFFUSION_K` or by the caller). Why 11: it is the rule INSEE applies
to the diffusion of tables built from individual data (no cell of fewer than 11 persons — « règle des
11 » of the secret statistique, loi n° 51-711 du 7 juin 1951), the threshold the CNIL and the health data
platforms (SNDS, « effectifs inférieurs à 11 ») use for aggregates of pseudonymised personal data. The
extracts here are pseudonymised data about RSA recipients, with health and disability barriers: a
commune filter on a village of a few hundred inhabitants must not single anyone out.

What is shown for a masked cell: `None` plus a flag in the low-level results (`Counts`, `Table`,
`mask_frame(..., flags=True)`), the string « < k » (`Masked`) in the figures of `suppress_figures`, the
JSON of `coaching indicators --suppress K`, the pages and the exports.

Secondary suppression. A masked cell must not be recoverable from the totals shown beside it. Every
published table is a set of additive constraints « total = part₁ + … + partₙ » (a 1-D table and its
total; each row and each column of a 2-D table with its margin; across the figures of the contract, e.g.
positive exits = Emploi + Formation, participants = présents en fin de période + sorties, the ESF+
indicators against the exits by reason…). `solve` iterates until no constraint has **exactly one**
masked member (a single unknown in a linear equation is recovered by difference); when a constraint has
one, it masks one more of its members: first an undisplayed residual (the « others » of a table whose
parts do not add up to its total: masking it costs nothing on screen), then the smallest non-zero
count, the total last (it is the largest); zeros only if nothing else is left. The same figures and
constraints always give the same masks (ties broken by the order of the cells): deterministic. Every
masked cell ≥ k is so masked because a constraint needed it (`Suppression.reasons`).

The difference between two filtered views shown on the same page is the same problem: the views that a
page shows together are published together and their relations are constraints (the period and the
previous period are two populations, not nested ones; the communes and their EPCI are nested: the
commune table is suppressed within each EPCI whose total is shown). Across pages and across separate
queries (« commune A » then « communes A et B ») the differencing attack remains possible in principle,
as for any interactive query system: the mitigations are the threshold applied to the whole selection
(a selection of fewer than k persons shows no count at all), the territory lock of the roles, and the
audit log of who asked for what.

Zeros. A 0 is published: it is not a small count of persons (no one to single out), masking every zero
would mask the structural zeros that everyone knows (nobody under 18 on an RSA action), and a masked 0
that an outsider knows to be structural protects nothing. Hence zeros are never primary-suppressed, and
are chosen for secondary suppression only when no non-zero cell is left. The known limit is « group
disclosure »: a row whose only non-zero cell holds everybody tells that all of them share the attribute;
the tables here are about an action's participants as a whole, where this is accepted (as at INSEE).

Rates. A rate is masked when its numerator, its denominator or its complement (denominator − numerator)
is strictly between 0 and k, or when its numerator or denominator is masked by the constraints (the rate
and its denominator give the numerator back). A median is masked when its population is below k.

Appointments and immersions are counts of events, not of persons. Decision: the same threshold applies
to them (a small number of appointments concerns at most that many persons, so it is at least as
revealing), and, as everywhere, nothing at all of a selection of fewer than k participants is shown.
The monthly caseload is a count of persons (months below k are masked) and the average caseload is
their total divided by the number of months: a constraint with the months.
"""

from __future__ import annotations

import copy
import os
import re
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


class Masked(str):
    """A masked value: reads « < k » (in JSON too: it is a `str`), carries no number.

    Arithmetic with a masked value gives a masked value (`masked / n`, `n - masked`, `round(masked)`…), so
    that a share or a change computed from a masked count stays masked instead of failing; it sorts before
    every number (the largest *shown* category stays the largest). `analytics.fmt` prints it as is.
    """

    k: int

    def __new__(cls, k: int = DEFAULT_K) -> "Masked":
        obj = super().__new__(cls, f"< {k}")
        obj.k = k
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
        return (Masked, (self.k,))

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
          hidden: Iterable = (), frozen: Iterable = (), premasked: Iterable = ()) -> Suppression:
    """Primary then secondary suppression over additive constraints.

    values: cell → count (the value used to order the candidates); constraints: (total, parts), cells absent
    from `values` are ignored; primary: the cells to protect (default: 0 < value < k); hidden: cells not
    displayed (a residual), the cheapest candidates; frozen: cells displayed elsewhere that must not be chosen
    (a margin shown by another table); premasked: cells already masked elsewhere.
    """
    order = {cell: i for i, cell in enumerate(values)}
    hidden, frozen = set(hidden), set(frozen)
    out = Suppression()
    for cell in premasked:
        if cell in values:
            out.masked[cell] = "déjà masqué"
    for cell in (primary if primary is not None else (c for c, v in values.items() if is_small(v, k))):
        if cell in values and cell not in out.masked:
            out.masked[cell] = PRIMARY
    lines = [[c for c in (total, *parts) if c in values] for total, parts in constraints]
    lines = [list(dict.fromkeys(line)) for line in lines]
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
            pick = min(candidates, key=lambda c: (values[c] == 0, c not in hidden, values[c], order[c]))
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


# ---------------------------------------------------------------- the figures of the contract


KNOWN_KEYS = {
    "positioned", "participants", "entries", "exits", "active_at_end", "positive_exits", "not_entered", "prescriber",
    "sex", "age_band", "education_level", "status", "household", "primary_barrier", "barrier_any", "commune", "epci",
    "exit_reason", "exit_detail", "positive_exit_rate", "monthly_caseload", "average_caseload", "caseload_target",
    "exits_with_immersion", "exits_with_two_or_more_immersions", "immersions", "first_appointment_delay_days",
    "appointments", "post_exit_follow_up_rate", "esf", "exit_category", "time_to_exit",
}
PASS_THROUGH = {"period", "filters", "caseload_target", "diffusion"}  # not data about persons
PARTICIPANT_MAPS = ["sex", "age_band", "education_level", "status", "household", "primary_barrier", "commune", "epci"]
ESF_JOB_SEARCH = ["S'engager vers l'emploi", "Action vers ma route", "Contrats aidés", "Création d'entreprise"]
FIRST_APPOINTMENT = "first_appointment_delay_days"


class _System:
    """The cells of a figures dict (path tuples → counts) and the constraints between them."""

    def __init__(self, fig: dict):
        self.fig = fig
        self.values: dict = {}
        self.hidden: list = []
        self.primary: set = set()
        self.constraints: list[Constraint] = []

    def get(self, *path):
        node = self.fig
        for p in path:
            if not isinstance(node, dict) or p not in node:
                return None
            node = node[p]
        return node

    def cell(self, path: tuple, value=None, hidden: bool = False) -> None:
        value = self.get(*path) if value is None else value
        if _is_number(value):
            self.values[path] = value
            if hidden:
                self.hidden.append(path)

    def map_cells(self, *path) -> list[tuple]:
        """The cells of a {label: count} map (added), as paths."""
        mapping = self.get(*path)
        if not isinstance(mapping, dict):
            return []
        out = []
        for label, v in mapping.items():
            if _is_number(v):
                self.cell((*path, label))
                out.append((*path, label))
        return out

    def add(self, total: tuple, parts: list[tuple], exact: bool = False) -> None:
        """total = Σ parts (+ an undisplayed residual when the parts fall short). Skipped when a member is
        unknown (« non collecté ») or the parts exceed the total (not an additive relation after all)."""
        if total not in self.values or any(p not in self.values for p in parts):
            return
        residual = self.values[total] - sum(self.values[p] for p in parts)
        if residual < 0 or (exact and residual):
            return
        members = list(parts)
        if residual > 0:
            key = (*total, RESIDUAL, len(self.constraints))
            self.cell(key, residual, hidden=True)
            members.append(key)
        self.constraints.append((total, members))


def _build_system(fig: dict, k: int, denominators: Mapping | None) -> _System:
    s = _System(fig)
    for key in ("positioned", "participants", "entries", "exits", "active_at_end", "positive_exits",
                "exits_with_immersion", "exits_with_two_or_more_immersions"):
        s.cell((key,))
    # populations
    s.add(("positioned",), [("participants",)] + s.map_cells("not_entered"))
    s.add(("positioned",), s.map_cells("prescriber"))
    for key in PARTICIPANT_MAPS:
        s.add(("participants",), s.map_cells(key))
    s.add(("participants",), [("active_at_end",), ("exits",)])
    s.add(("participants",), [("entries",)])
    # barriers: « Aucun » is the same persons in both maps; any − primary = persons with it as secondary only
    any_cells = s.map_cells("barrier_any")
    primary_barrier = s.get("primary_barrier") or {}
    for cell in any_cells:
        label = cell[1]
        if label in primary_barrier and _is_number(primary_barrier[label]):
            s.add(cell, [("primary_barrier", label)])
    # exits
    reasons = s.map_cells("exit_reason")
    s.add(("exits",), reasons)
    for reason in (s.get("exit_detail") or {}):
        s.cell(("exit_reason", reason), s.get("exit_reason", reason) or 0)
        s.add(("exit_reason", reason), s.map_cells("exit_detail", reason))
    positive = [("exit_reason", r) for r in ("Emploi", "Formation") if ("exit_reason", r) in s.values]
    s.add(("positive_exits",), positive)
    s.add(("exits",), [("positive_exits",)])
    s.add(("exits",), [("exits_with_immersion",)])
    s.add(("exits_with_immersion",), [("exits_with_two_or_more_immersions",)])
    # exit categories (v2): they add up to the exits; Emploi = the three job categories, Formation = « Sortie positive »
    categories = s.map_cells("exit_category")
    s.add(("exits",), categories, exact=True)
    s.add(("exit_reason", "Emploi"), [c for c in categories if c[1].startswith("Emploi")], exact=True)
    s.add(("exit_reason", "Formation"), [c for c in categories if c[1] == "Sortie positive"], exact=True)
    # time in the programme (v2): its cohort is the entries, its events a part of it
    s.cell(("time_to_exit", "cohort"))
    s.cell(("time_to_exit", "events"))
    s.add(("entries",), [("time_to_exit", "cohort")], exact=True)
    s.add(("time_to_exit", "cohort"), [("time_to_exit", "events")])
    follow = s.get("post_exit_follow_up_rate")
    if _is_number(follow) and _is_number(s.get("exits")):
        s.cell(("post_exit_follow_up_rate",), round(follow * s.get("exits")))
        s.add(("exits",), [("post_exit_follow_up_rate",)])
    # caseload: the average is the months' total over their number
    months = s.map_cells("monthly_caseload")
    average = s.get("average_caseload")
    if months and _is_number(average):
        s.cell(("average_caseload",), sum(s.values[m] for m in months))
        if is_small(average, k):
            s.primary.add(("average_caseload",))
        s.add(("average_caseload",), months)
    # immersions and appointments (events: same threshold)
    s.cell(("immersions", "count"))
    s.cell(("immersions", "led_to_contract"))
    s.add(("immersions", "count"), [("immersions", "led_to_contract")])
    s.cell(("appointments", "planned"))
    s.cell(("appointments", "attended"))
    s.add(("appointments", "planned"), s.map_cells("appointments", "by_modality"))
    s.add(("appointments", "planned"), [("appointments", "attended")])
    # ESF+: each indicator by sex, and its ties with the other figures
    esf = s.get("esf") or {}
    for code, value in esf.items():
        if isinstance(value, dict):
            for part in value:
                s.cell(("esf", code, part))
            s.add(("esf", code, "total"), [("esf", code, p) for p in value if p != "total"])
    sexes = ["total", "Femme", "Homme"]
    s.add(("entries",), [("esf", "EECO01", "total")])
    for x in sexes:
        e = lambda code: ("esf", code, x)  # noqa: E731
        s.add(e("EECO01"), [e("EECO09"), e("EECO10"), e("EECO11")])
        s.add(e("EECO01"), [e("EECO02"), e("EECO04"), e("EECO05")])
        s.add(e("EECO01"), [e("EECO06"), e("EECO07"), e("EECO08")])
        s.add(e("EECO02"), [e("EECO03")])
        s.add(e("EECO01"), [e("EECO12")])
    s.add(("exit_reason", "Formation"), [("esf", "EECR02", "total")])
    s.add(("exit_reason", "Emploi"), [("esf", "EECR04", "total")])
    s.add(("esf", "EECR01", "total"), [("exit_detail", "Fin de suivi", d) for d in ESF_JOB_SEARCH
                                       if ("exit_detail", "Fin de suivi", d) in s.values], exact=True)
    for code in ("EECR03", "EECR05"):
        s.add(("exits",), [("esf", code, "total")])
    # anything else of the contract that is a count (a figure added later): primary suppression at least
    for key, value in fig.items():
        if key in PASS_THROUGH or key in KNOWN_KEYS:
            continue
        if _is_number(value) and isinstance(value, int):
            s.cell((key,))
        elif isinstance(value, dict):
            s.map_cells(key)
    return s


def denominators(ds) -> dict:
    """The populations behind figures whose denominator the contract does not publish (for `suppress_figures`):
    the persons with a first appointment in the period."""
    from analytics.indicators.activity import first_appointment_delays

    return {FIRST_APPOINTMENT: int(first_appointment_delays(ds).len())}


def suppress_figures(figures: dict, k: int | None = None, *, denominators: Mapping | None = None,
                     small_selection: bool = True) -> dict:
    """The figures of the contract (`compute` / `coaching indicators --json`) as they may be published:
    every masked value replaced by `Masked(k)` (« < k »), plus a key `diffusion` = {"k", "masked": [paths]}.

    Counts, {label: count} maps, `exit_detail`, `monthly_caseload`, the `esf` block, appointments and
    immersions go through one constraint system (see the module docstring); rates are masked by
    `rate_masked` and when their numerator or denominator is masked; the first-appointment median and
    within-7-days rate need `denominators` (see `denominators(ds)`) and are masked without them.
    With `small_selection`, a selection of fewer than k positioned persons has every figure masked.
    """
    k = threshold(k)
    fig = copy.deepcopy(figures)
    s = _build_system(fig, k, denominators)
    tiny = small_selection and _is_number(fig.get("positioned")) and is_small(fig["positioned"], k)
    primary = set(c for c, v in s.values.items() if is_small(v, k) and c != ("average_caseload",)) | s.primary
    if tiny:
        primary |= {c for c, v in s.values.items() if v != 0 or c[0] in ("positioned", "participants")}
    result = solve(s.values, s.constraints, k, primary=primary, hidden=s.hidden)
    masked = {c for c in result.masked if RESIDUAL not in c}
    mark = Masked(k)

    def put(path: tuple) -> None:
        node = fig
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = mark

    for path in masked:
        if path == ("post_exit_follow_up_rate",):
            continue  # a numerator cell, handled with the rate below
        put(path)
    # rates
    rates = [(("positive_exit_rate",), s.get("positive_exits"), s.get("exits"), [("positive_exits",), ("exits",)]),
             (("appointments", "attendance_rate"), s.get("appointments", "attended"), s.get("appointments", "planned"),
              [("appointments", "attended"), ("appointments", "planned")]),
             (("post_exit_follow_up_rate",), s.values.get(("post_exit_follow_up_rate",)), s.get("exits"),
              [("post_exit_follow_up_rate",), ("exits",)])]
    for path, num, den, cells in rates:
        value = figures
        for p in path:
            value = value.get(p) if isinstance(value, dict) else None
        if value is None:
            continue
        if tiny or rate_masked(num, den, k) or any(c in masked for c in cells):
            put(path)
            masked.add(path)
    delay = figures.get(FIRST_APPOINTMENT)
    if isinstance(delay, dict):
        n = (denominators or {}).get(FIRST_APPOINTMENT)
        for sub in ("median", "within_7_days_rate"):
            if delay.get(sub) is None:
                continue
            if n is None or tiny or is_small(n, k):
                put((FIRST_APPOINTMENT, sub))
                masked.add((FIRST_APPOINTMENT, sub))
            elif sub == "within_7_days_rate" and rate_masked(round(delay[sub] * n), n, k):
                put((FIRST_APPOINTMENT, sub))
                masked.add((FIRST_APPOINTMENT, sub))
    survival = figures.get("time_to_exit")
    if isinstance(survival, dict) and (tiny or ("time_to_exit", "cohort") in masked or is_small(survival.get("cohort") or 0, k)):
        # a median or a share built on fewer than k persons is not shown
        for path in [("time_to_exit", "median_days")] + [("time_to_exit", "survival", t) for t in survival.get("survival") or {}]:
            if _path_value(figures, path) is not None:
                put(path)
                masked.add(path)
    fig["diffusion"] = {"k": k, "masked": sorted(".".join(str(p) for p in path) for path in masked)}
    return fig


def _path_value(fig: Mapping, path: tuple):
    node = fig
    for p in path:
        node = node.get(p) if isinstance(node, Mapping) else None
    return node


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
                "immersions.led_to_contract": "A débouché sur un contrat"}


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
    k = suppressed_k(fig)
    return fig_plotly if k is None else mask_figure(fig_plotly, k, masked_totals)


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
    return fig


__all__ = ["DEFAULT_K", "Counts", "Masked", "Suppression", "Table", "denominators", "exposed", "is_masked", "mask_figure",
           "mask_frame", "rate_masked", "solve", "suppress_counts", "suppress_figures", "suppress_rate", "suppress_table",
           "threshold"]
