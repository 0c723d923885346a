"""Configuration: the caseload ("file active") agreed in each convention.

Read from `data/conventions.toml` (or the file named by $COACHING_CONVENTIONS), one `[[convention]]` per
action × territory, several allowed. The target of a selection (`caseload_target_for`, the figure
`caseload_target` of the contract) is the sum of the targets of the conventions whose territoire and action
match the territory/action filters (all conventions when those filters are empty): a territory with its own
convention shows its own target.

Where it applies (`objective_for`): a filter on commune, EPCI or prescriber cuts across the conventions (the
target belongs to a convention, it is not shared out among communes or prescribers), so the objective is
then neither drawn nor compared; one line says why. The figure itself stays the convention's (contract v1).
"""

from __future__ import annotations

from dataclasses import dataclass

import os
import tomllib
from pathlib import Path

DEFAULT_CONVENTIONS = Path(__file__).resolve().parent.parent / "data" / "conventions.toml"
BUILTIN = [{"territoire": "5 vallées", "action": "Coaching emploi", "file_active": 40}]


def conventions() -> list[dict]:
    path = Path(os.environ.get("COACHING_CONVENTIONS") or DEFAULT_CONVENTIONS)
    if path.exists():
        with open(path, "rb") as fh:
            return tomllib.load(fh).get("convention", [])
    return BUILTIN


def caseload_target_for(filters) -> int | None:
    chosen = [c for c in conventions()
              if (not filters.territory or c["territoire"] in filters.territory)
              and (not filters.action or c["action"] in filters.action)]
    return sum(int(c["file_active"]) for c in chosen) if chosen else None


# filters that select part of a convention's persons: its target does not apply to them
CROSS_CUTTING = (("commune", "commune"), ("epci", "EPCI"), ("prescriber", "prescripteur"))


def cuts_across(filters) -> list[str]:
    """The French names of the set filters that cut across the conventions (commune, EPCI, prescripteur)."""
    return [name for attr, name in CROSS_CUTTING if getattr(filters, attr, ())]


@dataclass(frozen=True)
class Objective:
    """The objective of a selection: `target` to draw and compare (None when it does not apply), `convention_target`
    the conventions' own (the figure), `note` one French line for the screen and the reports (None when it applies
    plainly)."""

    target: int | None
    convention_target: int | None
    note: str | None


def objective_for(filters) -> Objective:
    chosen = [c for c in conventions()
              if (not filters.territory or c["territoire"] in filters.territory)
              and (not filters.action or c["action"] in filters.action)]
    total = sum(int(c["file_active"]) for c in chosen) if chosen else None
    if total is None:
        return Objective(None, None, "Aucune convention ne correspond aux filtres territoire / action : pas d'objectif de file active.")
    names = ", ".join(f"{c['action']} – {c['territoire']} ({c['file_active']})" for c in chosen)
    cut = cuts_across(filters)
    if cut:
        whose = f"de la convention {names}" if len(chosen) == 1 else f"des conventions {names}, soit {total}"
        return Objective(None, total, f"Objectif non comparé : l'objectif de file active {whose} porte sur toute la "
                                      f"convention ; il ne se répartit pas par {' ni par '.join(cut)}.")
    note = f"Objectif : somme des conventions {names}." if len(chosen) > 1 else None
    return Objective(total, total, note)
