"""What the Données page shows about the data: completeness, dictionary, import journal, uploads.

Pure functions (no Streamlit): the page only lays out their frames.
- `completeness(con)`: share of filled values of each participants column of the store, counted in SQL;
- `data_dictionary()`: every column of every table of the extract contract (analytics.schema);
- `import_journal(con)`: the import history with French column names and dates;
- `report_csv(problems)`: the validation report as a downloadable CSV;
- `stage_upload(files, folder)`: writes uploaded files under their names and returns the path to give
  to `load_extract`, exactly as the command line would receive it (one .xlsx, one .csv or a folder of .csv).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl

from analytics import schema as S
from analytics.extract import ExtractError, Problem
from analytics.indicators.base import rate
from analytics.store import collected_columns, import_history, query

c = pl.col

KIND_LABELS = {"text": "texte", "date": "date", "int": "nombre entier", "enum": "liste fermée", "bool": "oui / non",
               "list": "liste de valeurs séparées par |"}
# Rules of the contract that are not a closed list (SPEC-extract), in French.
RULES = {
    ("participants", "id_participant"): "identifiant pseudonyme, unique dans le fichier (aucun nom)",
    ("participants", "territoire"): f"texte libre ; « {S.DEFAULT_TERRITORY} » si vide",
    ("participants", "action"): f"texte libre ; « {S.DEFAULT_ACTION} » si vide",
    ("participants", "code_insee"): "5 caractères (ex. 80630)",
    ("participants", "age"): "16 à 99 ans",
    ("participants", "niveau_formation"): ", ".join(S.EDUCATION_LABELS.values()),
    ("participants", "date_premier_rdv"): "postérieure ou égale à la date de prescription",
    ("participants", "date_entree"): "postérieure ou égale à la date de prescription ; vide = jamais entré",
    ("participants", "date_sortie"): "postérieure ou égale à la date d'entrée ; vide = toujours dans l'action",
    ("participants", "detail_sortie"): " ; ".join(f"{motif} : {', '.join(values)}" for motif, values in S.EXIT_DETAILS.items()),
    ("rendez_vous", "id_participant"): "doit exister dans participants",
    ("immersions", "id_participant"): "doit exister dans participants",
    ("immersions", "date_fin"): "postérieure ou égale au début",
    ("immersions", "secteur"): "métier ou code ROME, texte libre",
}
CONDITIONAL = {
    ("participants", "motif_non_entree"): "si la date d'entrée est vide",
    ("participants", "motif_sortie"): "si la date de sortie est renseignée",
}
DATE_RULE = "JJ/MM/AAAA ou AAAA-MM-JJ, entre le 01/01/2000 et dans un an"
BOOL_RULE = "oui / non, 1 / 0, vrai / faux"


def data_dictionary() -> pl.DataFrame:
    """table, colonne, libellé, type, obligatoire, valeurs acceptées: every column of the extract contract."""
    rows = []
    for table in S.TABLES.values():
        for col in table.columns:
            key = (table.name, col.name)
            values = [RULES[key]] if key in RULES else []
            if col.values and col.name != "detail_sortie":
                values.insert(0, ", ".join(col.values))
            if col.kind == "date":
                values.append(DATE_RULE)
            if col.kind == "bool":
                values.append(BOOL_RULE)
            if col.kind == "text" and not values:
                values.append("texte libre")
            required = "oui" if col.required else (f"oui, {CONDITIONAL[key]}" if key in CONDITIONAL else "non")
            rows.append({"table": table.name, "colonne": col.name, "libellé": col.label, "type": KIND_LABELS[col.kind],
                         "obligatoire": required, "valeurs acceptées": " ; ".join(values)})
    return pl.DataFrame(rows)


def completeness(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """column, label, required, collected, filled, total, share: for each participants column of the store.

    The columns are those of the extract contract, in its order. `filled` (non-null values) and `total`
    (rows) are counted by DuckDB; `share` = filled / total (4 decimals, None for an empty table);
    `collected` tells whether the column was in at least one imported file (a column never collected
    and empty is "non collecté", not badly filled; one derived at import may be filled all the same).
    """
    names = S.PARTICIPANTS.names
    counts = ", ".join(f'count("{n}")::BIGINT AS "{n}"' for n in names)
    df = query(con, f"""
        WITH c AS (SELECT count(*)::BIGINT AS __total, {counts} FROM participants)
        SELECT name AS "column", filled, __total AS total FROM c
        UNPIVOT (filled FOR name IN ({', '.join(f'"{n}"' for n in names)}))""")
    got = {r["column"]: r for r in df.iter_rows(named=True)}
    seen = collected_columns(con).get("participants", set())
    rows = []
    for col in S.PARTICIPANTS.columns:
        r = got[col.name]
        rows.append({"column": col.name, "label": col.label, "required": col.required, "collected": col.name in seen,
                     "filled": r["filled"], "total": r["total"], "share": rate(r["filled"], r["total"])})
    return pl.DataFrame(rows, schema={"column": pl.String, "label": pl.String, "required": pl.Boolean, "collected": pl.Boolean,
                                      "filled": pl.Int64, "total": pl.Int64, "share": pl.Float64})


def import_journal(con: duckdb.DuckDBPyConnection, refused: pl.DataFrame | None = None) -> pl.DataFrame:
    """The import history, latest first, with French column names and dates as JJ/MM/AAAA HH:MM.

    `refused` (`store.refused_imports`) adds the refused attempts, journaled beside the store.
    """
    h = import_history(con)
    if refused is not None and refused.height:
        h = pl.concat([h, refused.select(
            pl.lit(None, pl.Int64).alias("import_id"), c("imported_at").str.to_datetime("%Y-%m-%dT%H:%M:%S"),
            "file_name", "content_hash", "status", "n_problems")], how="diagonal_relaxed").sort("imported_at", descending=True)
    dropped = [", ".join(json.loads(v or "[]")) for v in h["dropped_columns"].fill_null("[]")] if "dropped_columns" in h.columns else []
    return h.select(
        c("import_id").alias("N°"),
        c("imported_at").dt.strftime("%d/%m/%Y %H:%M").alias("Date"),
        c("file_name").alias("Fichier"),
        c("status").alias("Statut"),
        c("n_participants").alias("Personnes"),
        c("n_rendez_vous").alias("Rendez-vous"),
        c("n_immersions").alias("Immersions"),
        c("n_new").alias("Nouvelles personnes"),
        c("n_updated").alias("Mises à jour"),
        c("n_unchanged").alias("Inchangées"),
        c("new_entries").alias("Nouvelles entrées"),
        c("new_exits").alias("Nouvelles sorties"),
        pl.Series("Colonnes supprimées", dropped, pl.String),
        *([c("profile").alias("Profil de correspondance")] if "profile" in h.columns else []),
        *([c("n_problems").alias("Problèmes")] if "n_problems" in h.columns else []),
        c("content_hash").str.slice(0, 12).alias("Empreinte"),
    )


def report_csv(problems: pl.DataFrame) -> bytes:
    """The validation report (`extract.problems_frame`) as French office software opens it: UTF-8 with BOM, `;`."""
    return ("\ufeff" + problems.write_csv(separator=";")).encode("utf-8")


def stage_upload(files: list[tuple[str, bytes]], folder: Path) -> Path:
    """Write uploaded (name, content) pairs into `folder` and return the path to import.

    Accepts one .xlsx workbook, or one or several .csv files (one file: the participants table, as
    `coaching import participants.csv`; several: a folder, as `coaching import DOSSIER`). Raises
    `ExtractError` for any other set of files, before anything is read.
    """
    problems = []
    names = [Path(name.replace("\\", "/")).name for name, _ in files]
    if not files:
        problems.append(Problem("", None, None, None, "aucun fichier déposé"))
    for name in names:
        if Path(name).suffix.lower() not in (".csv", ".xlsx"):
            problems.append(Problem(name, None, None, None, "format non reconnu : attendu des fichiers .csv ou un classeur .xlsx"))
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(name, None, None, None, "fichier déposé deux fois"))
    workbooks = [n for n in names if n.lower().endswith(".xlsx")]
    if workbooks and len(files) > 1:
        problems.append(Problem(", ".join(workbooks), None, None, None,
                                "un classeur .xlsx s'importe seul : déposez soit un classeur, soit des fichiers CSV"))
    if problems:
        raise ExtractError(problems, None, ", ".join(names))
    if len(files) == 1:
        target = Path(folder) / names[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[0][1])
        return target
    target = Path(folder) / ", ".join(sorted(names))[:200]
    target.mkdir(parents=True, exist_ok=True)
    for name, (_, content) in zip(names, files):
        (target / name).write_bytes(content)
    return target


__all__ = ["completeness", "data_dictionary", "import_journal", "report_csv", "stage_upload"]
