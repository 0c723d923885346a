"""The one import path shared by the command line and the Données page.

Validate the extract completely, journal a refusal (without any value of the file), or apply it
to the store all-or-nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from analytics.extract import ExtractError, load_extract
from analytics.store import ImportResult, import_extract, record_refused


def run_import(path: str | os.PathLike, db: str | os.PathLike | None = None, drop_identifying_columns: bool = False,
               progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Import an extract; raises ExtractError (journaled as refused) when any problem is found."""
    step = progress or (lambda _share, _text: None)
    step(0.05, "Lecture et contrôle de l'extrait…")
    try:
        extract = load_extract(path, drop_identifying_columns=drop_identifying_columns)
    except ExtractError as exc:
        record_refused(db, Path(path).name, exc.content_hash, len(exc.problems))
        raise
    step(0.6, "Enregistrement dans la base (tout ou rien)…")
    result = import_extract(extract, db)
    step(1.0, "Import terminé.")
    return result
