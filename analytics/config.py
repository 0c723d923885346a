"""Configuration: the caseload ("file active") agreed in each convention.

Read from `data/conventions.toml` (or the file named by $COACHING_CONVENTIONS). The target shown
for a selection is the sum of the targets of the conventions whose territoire and action match
the territory/action filters (all conventions when those filters are empty). Commune and
prescriber filters do not prorate it: the target belongs to the convention, not to a commune.
"""

from __future__ import annotations

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
