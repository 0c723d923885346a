"""The tracking-table template (SPEC-extract v2, "The tracking-table template").

`write_template(target)` writes the workbook the association can keep month after month so that its file *is*
an extract: one sheet per contract table with its columns in order and a frozen header, a drop-down list on every
closed-list column (canonical labels), on `commune` (the official communes of the configured départements,
`analytics.geo`) and on the booleans (`oui`/`non`), a date validation on every date column, a « Mode d'emploi »
sheet (what each column means, the privacy rule) and a « Listes » sheet holding the lists.

Decisions where the contract is silent: the validations cover the first `ROWS` lines (10 000 persons, 100 000
appointments); `id_participant` and `code_insee` are text cells (leading zeros kept); `age` and
`niveau_formation` get a whole-number validation with their ranges; `freins_secondaires` (several barriers
separated by `|`) has no drop-down (Excel lists take one value) but its accepted values are on « Listes ».
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from analytics import geo
from analytics import schema as S
from analytics.quality import data_dictionary

ROWS = {"participants": 10_000, "rendez_vous": 100_000, "immersions": 10_000}
BOOL_LIST = ["oui", "non"]
LISTS_SHEET = "Listes"
GUIDE_SHEET = "Mode d'emploi"
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2099, 12, 31)


def closed_lists(departements: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """The drop-down lists by column name (the same list for a column of several tables)."""
    lists: dict[str, list[str]] = {}
    for table in S.TABLES.values():
        for c in table.columns:
            if c.kind in ("enum", "list") and c.values:
                lists[c.name] = list(c.values)
            elif c.kind == "bool":
                lists[c.name] = BOOL_LIST
    lists["commune"] = geo.communes_ref(departements)["nom"].sort().to_list()
    return lists


def write_template(target: str | Path | io.BytesIO, departements: tuple[str, ...] | None = None) -> None:
    """Write the template workbook to a path or a binary buffer."""
    lists = closed_lists(departements)
    book = xlsxwriter.Workbook(target, {"in_memory": True} if isinstance(target, io.BytesIO) else {})
    header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    text_fmt = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    guide = book.add_worksheet(GUIDE_SHEET)
    sheets = {name: book.add_worksheet(name) for name in S.TABLES}
    listes = book.add_worksheet(LISTS_SHEET)

    # « Listes »: one column per list, its name in the header; the validations point at these ranges
    ranges: dict[str, str] = {}
    for i, (name, values) in enumerate(lists.items()):
        listes.write(0, i, name, header)
        for r, v in enumerate(values, start=1):
            listes.write_string(r, i, str(v))
        col = xl_col_to_name(i)
        ranges[name] = f"='{LISTS_SHEET}'!${col}$2:${col}${len(values) + 1}"
        listes.set_column(i, i, max(14, min(40, max(len(str(v)) for v in values) + 2)))
    listes.freeze_panes(1, 0)

    for name, table in S.TABLES.items():
        ws = sheets[name]
        last = ROWS[name]
        ws.freeze_panes(1, 0)
        for i, c in enumerate(table.columns):
            ws.write_string(0, i, c.name, header)
            ws.write_comment(0, i, f"{c.label}{' (obligatoire)' if c.required else ''}")
            width = max(14, len(c.name) + 2)
            if c.kind == "date":
                ws.set_column(i, i, width, date_fmt)
                ws.data_validation(1, i, last, i, {
                    "validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX,
                    "input_title": c.label[:32], "input_message": "Date au format JJ/MM/AAAA",
                    "error_title": "Date attendue", "error_message": "Saisissez une date JJ/MM/AAAA (entre 2000 et 2099)."})
            elif c.name in ("age", "niveau_formation"):
                low, high = (16, 99) if c.name == "age" else (1, 8)
                ws.set_column(i, i, width)
                ws.data_validation(1, i, last, i, {
                    "validate": "integer", "criteria": "between", "minimum": low, "maximum": high,
                    "error_title": "Nombre entier attendu", "error_message": f"Saisissez un nombre entier de {low} à {high}."})
            elif c.name in lists and c.kind != "list":
                ws.set_column(i, i, max(width, 22))
                ws.data_validation(1, i, last, i, {
                    "validate": "list", "source": ranges[c.name],
                    "error_title": "Valeur hors liste",
                    "error_message": "Choisissez une valeur de la liste (feuille « Listes »)."})
            elif c.name in ("id_participant", "code_insee"):
                ws.set_column(i, i, width, text_fmt)
            else:
                ws.set_column(i, i, width)

    # « Mode d'emploi »: how to use the workbook, the privacy rule, then the data dictionary
    guide.set_column(0, 0, 16)
    guide.set_column(1, 1, 26)
    guide.set_column(2, 2, 34)
    guide.set_column(3, 5, 50)
    intro = [
        ("Tableau de suivi « Coaching Emploi » — mode d'emploi", bold),
        ("Une ligne par personne orientée dans la feuille « participants », une ligne par rendez-vous prévu dans "
         "« rendez_vous », une ligne par immersion (PMSMP) dans « immersions ». Ne renommez ni les feuilles ni les "
         "colonnes : ce classeur s'importe tel quel dans le tableau de bord (page Données, ou « coaching import »).", wrap),
        ("Les colonnes à liste déroulante n'acceptent que les libellés de la feuille « Listes » ; les dates se saisissent "
         "JJ/MM/AAAA ; oui/non pour les colonnes RQTH, qualification obtenue et débouché sur un contrat. Plusieurs freins "
         "secondaires se séparent par « | » (ex. Mobilité|Santé).", wrap),
        ("Anonymisation : ce tableau ne doit contenir aucun nom, prénom, téléphone, courriel, adresse, date de naissance "
         "ni numéro de sécurité sociale ou CAF. L'identifiant de chaque personne est un code pseudonyme (ex. P0001) dont "
         "la correspondance reste dans le dossier de l'association. Un fichier qui en contient est refusé à l'import.", wrap),
    ]
    for r, (text, fmt) in enumerate(intro):
        guide.merge_range(r, 0, r, 5, text, fmt)
        if r:
            guide.set_row(r, 48)
    dictionary = data_dictionary()
    top = len(intro) + 1
    titles = ["Feuille", "Colonne", "Signification", "Type", "Obligatoire", "Valeurs acceptées"]
    for i, t in enumerate(titles):
        guide.write(top, i, t, header)
    for r, row in enumerate(dictionary.iter_rows(), start=top + 1):
        for i, v in enumerate(row):
            guide.write_string(r, i, str(v), wrap)
    book.close()


def template_bytes(departements: tuple[str, ...] | None = None) -> bytes:
    """The template as bytes (download button of the Données page)."""
    buffer = io.BytesIO()
    write_template(buffer, departements)
    return buffer.getvalue()
