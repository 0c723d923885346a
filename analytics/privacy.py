"""Direct identifiers must never enter the store (SPEC-extract "Privacy").

Two guards: column names that suggest an identifier, and cell values that look like an
e-mail address, a French phone number or a NIR (social security number). Cell scans run on
the distinct values of each text column, so they stay cheap on millions of rows.
Messages name the column or the cell, never echo the value itself.
"""

from __future__ import annotations

import polars as pl

from analytics.problems import Problem
from analytics.schema import norm_key

# Header keys (after norm_key) that name a direct identifier, as whole key or as first word(s).
IDENTIFYING_NAMES = {
    "nom", "prenom", "prenoms", "nir", "numero securite sociale", "num securite sociale", "securite sociale",
    "numero secu", "num secu", "secu", "email", "e mail", "mail", "courriel", "adresse mail", "telephone", "tel",
    "portable", "mobile", "adresse", "adresse postale", "date naissance", "date de naissance", "numero caf",
    "num caf", "n caf", "caf", "matricule", "nom naissance", "nom de naissance", "nom usage", "nom d usage",
    "nom de famille", "lieu de naissance", "ine", "numero pole emploi", "identifiant france travail", "iban",
}
_FIRST_WORDS = {"nom", "prenom", "prenoms", "email", "mail", "courriel", "telephone", "tel", "adresse", "matricule", "nir", "portable"}

EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
PHONE = r"(?:^|[^0-9])(?:(?:\+|00)33[ .\-]?|0)[1-9](?:[ .\-]?[0-9]{2}){4}(?:[^0-9]|$)"
NIR = r"(?:^|[^0-9])[12][ .]?[0-9]{2}[ .]?(?:0[1-9]|1[0-2]|[2-9][0-9])[ .]?(?:2[AB]|[0-9]{2})[ .]?[0-9]{3}[ .]?[0-9]{3}(?:[ .]?[0-9]{2})?(?:[^0-9]|$)"
PATTERNS = {"adresse e-mail": EMAIL, "numéro de téléphone": PHONE, "numéro de sécurité sociale (NIR)": NIR}
ANY = "|".join(f"(?:{p})" for p in PATTERNS.values())


def identifying_column(header: str) -> bool:
    key = norm_key(header)
    if key in IDENTIFYING_NAMES:
        return True
    words = key.split(" ")
    return words[0] in _FIRST_WORDS or " ".join(words[:3]) in IDENTIFYING_NAMES or " ".join(words[:2]) in IDENTIFYING_NAMES


def scan_cells(label: str, frame: pl.DataFrame, lines: pl.Series, distinct: dict[str, pl.Series] | None = None) -> list:
    """Problems for every cell that looks like a direct identifier (value not repeated in the message).
    `distinct`: the distinct non-null values of the text columns, when the caller already has them."""
    problems = []
    for name in frame.columns:
        if frame.schema[name] != pl.String:
            continue
        values = (distinct or {}).get(name)
        if values is None:
            values = frame.get_column(name).drop_nulls().unique()
        values = values.filter(values.str.contains(ANY))  # one pass over the distinct values, then each kind on the few hits
        for kind, pattern in PATTERNS.items():
            hits = values.filter(values.str.contains(pattern))
            if hits.len() == 0:
                continue
            rows = frame.with_columns(lines).filter(pl.col(name).is_in(hits.implode()))["__line"].to_list()
            for line in rows:
                problems.append(Problem(label, line, name, "(masquée)",
                                        f"la cellule ressemble à une donnée identifiante ({kind}) : un extrait anonymisé ne doit pas en contenir"))
    return problems
