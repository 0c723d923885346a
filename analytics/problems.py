"""A validation problem and the refusal that carries them: shared by the extract reader, the privacy guard and
the mapping layer (its own module so that none of them imports another to name a problem)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def as_row(self) -> dict:
        return {"fichier": self.file, "ligne": self.line, "colonne": self.column, "valeur": self.value, "problème": self.message}

    def __str__(self) -> str:
        where = self.file + (f", ligne {self.line}" if self.line else "") + (f", colonne « {self.column} »" if self.column else "")
        val = f" (valeur « {self.value} »)" if self.value not in (None, "") else ""
        return f"{where} : {self.message}{val}"


class ExtractError(Exception):
    """The extract is refused; `problems` lists every reason."""

    def __init__(self, problems: list[Problem], content_hash: str | None = None, source: str = ""):
        self.problems = problems
        self.content_hash = content_hash
        self.source = source
        super().__init__(f"{len(problems)} problème(s) dans l'extrait")
