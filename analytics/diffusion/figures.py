"""The figures of the contract (`compute` / `coaching indicators --json`) as they may be published: one constraint
system over every count of the contract (see the package docstring)."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from analytics.diffusion.core import (RESIDUAL, SECONDARY, Constraint, Masked, _is_number, is_small, rate_masked, solve,
                                      threshold)

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
# the headline figures: the last chosen for a secondary suppression (`solve(costly=...)`)
# (the first the dearest; measured on the sample's communes, this order masks the fewest headline figures)
HEADLINE = [("positioned",), ("participants",), ("exits",), ("entries",), ("positive_exits",), ("active_at_end",),
            ("average_caseload",)]


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
    result = solve(s.values, s.constraints, k, primary=primary, hidden=s.hidden, costly=HEADLINE)
    masked = {c for c in result.masked if RESIDUAL not in c}

    def put(path: tuple, count: bool = True) -> None:
        node = fig
        for p in path[:-1]:
            node = node[p]
        # a count masked only to protect a neighbour reads « masqué », not « < k » (false for 22 exits); a rate
        # keeps « < k » in the JSON (the pages print « masqué » for any masked rate)
        node[path[-1]] = Masked(k, secondary=count and result.masked.get(path) == SECONDARY)

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
            put(path, count=False)
            masked.add(path)
    delay = figures.get(FIRST_APPOINTMENT)
    if isinstance(delay, dict):
        n = (denominators or {}).get(FIRST_APPOINTMENT)
        for sub in ("median", "within_7_days_rate"):
            if delay.get(sub) is None:
                continue
            if n is None or tiny or is_small(n, k):
                put((FIRST_APPOINTMENT, sub), count=False)
                masked.add((FIRST_APPOINTMENT, sub))
            elif sub == "within_7_days_rate" and rate_masked(round(delay[sub] * n), n, k):
                put((FIRST_APPOINTMENT, sub), count=False)
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
