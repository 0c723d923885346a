"""The one import path shared by the command line and the Données page.

Validate the extract completely, journal a refusal (without any value of the file), or apply it
to the store all-or-nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from analytics import fmt
from analytics.extract import ExtractError, load_extract
from analytics.store import ImportResult, import_extract, record_refused


def run_import(path: str | os.PathLike, db: str | os.PathLike | None = None, drop_identifying_columns: bool = False,
               progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Import an extract; raises ExtractError (journaled as refused) when any problem is found."""
    step = progress or (lambda _share, _text: None)
    step(0.05, "Lecture et contrôle de l'extrait…")
    try:  # the checks take the first 60 % of the bar, the store the rest
        extract = load_extract(path, drop_identifying_columns=drop_identifying_columns,
                               progress=lambda share, text: step(0.05 + 0.55 * share, text))
    except ExtractError as exc:
        record_refused(db, Path(path).name, exc.content_hash, len(exc.problems))
        raise
    try:
        c = extract.counts
        step(0.6, f"Enregistrement dans la base (tout ou rien) : {fmt.number(c.get('participants', 0))} personnes, "
                  f"{fmt.number(c.get('rendez_vous', 0))} rendez-vous, {fmt.number(c.get('immersions', 0))} immersions…")
        result = import_extract(extract, db)
    finally:
        extract.close()  # the staging file
    step(1.0, "Import terminé.")
    return result
