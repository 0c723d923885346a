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
from analytics.mapping import Profile, load_mapped, refuse_if_not_contract_shape
from analytics.store import ImportResult, import_extract, record_refused


def run_import(path: str | os.PathLike, db: str | os.PathLike | None = None, drop_identifying_columns: bool = False,
               progress: Callable[[float, str], None] | None = None, mapping: Profile | None = None) -> ImportResult:
    """Import an extract; raises ExtractError (journaled as refused) when any problem is found.

    `mapping`: a profile (analytics.mapping) through which a file in the association's own shape is read; without
    one, a file whose sheets or header are not the contract's is refused with a report saying how to map it."""
    step = progress or (lambda _share, _text: None)
    step(0.05, "Lecture et contrôle de l'extrait…")
    notes: list[str] = []
    checks = lambda share, text: step(0.05 + 0.55 * share, text)  # the checks take the first 60 % of the bar
    try:
        if mapping is None:
            try:
                extract = load_extract(path, drop_identifying_columns=drop_identifying_columns, progress=checks)
            except ExtractError as exc:  # not the contract's shape at all: say how to map it, rather than every missing column
                refuse_if_not_contract_shape(path, exc.content_hash)
                raise
        else:
            extract, info = load_mapped(path, mapping, drop_identifying_columns=drop_identifying_columns, progress=checks)
            notes = info.notes()
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
    result.notes = notes + result.notes
    step(1.0, "Import terminé.")
    return result
