"""The import assistant of the Données page: from any workbook or CSV to a mapping profile (analytics.mapping).

- `suggest(book)`: which sheet holds which table (the sheet whose header best matches the table), and a
  column-to-column mapping suggested from the header names (similarity with the contract's column names, their
  French labels and usual synonyms, by rapidfuzz) and from the values themselves (a column of `Mme`/`M.` is
  `sexe`, a column of dates is a date column, a column of e-mail addresses is dropped);
- `unknown_labels(book, profile)`: the labels of each closed-list column that the contract does not know, each
  with a suggested canonical label when one is similar enough (else the user chooses);
- `preview(path, profile)`: the first mapped rows; the complete validation report comes from
  `analytics.mapping.load_mapped` (nothing is written);
- saved profiles under `data/mappings/` (or `$COACHING_MAPPINGS`): `list_profiles`, `save_profile`,
  `rename_profile`, `delete_profile`, and `recognise(book)`: the saved profile whose headers are all found in
  the file, proposed again next month.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

from analytics import schema as S
from analytics.mapping import Profile, Sheet, TableMapping, apply, find_header_row, find_sheet, is_total, serial_date
from analytics.privacy import ANY, identifying_column
from analytics.problems import Problem

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "mappings"
NAME_THRESHOLD = 80  # header similarity (0–100) from which a column is suggested
LABEL_THRESHOLD = 80  # label similarity from which a canonical label is suggested
VALUE_SHARE = 0.8  # share of a column's values that must fit a contract column for a suggestion from values

# Usual names of the contract's columns in associations' tables (compared after norm_key, by similarity).
SYNONYMS: dict[str, list[str]] = {
    "id_participant": ["n dossier", "numero dossier", "n° dossier", "dossier", "identifiant", "id", "code", "ref", "reference"],
    "date_prescription": ["date orientation", "date d orientation", "orientation le", "date prescription", "prescrit le"],
    "prescripteur": ["oriente par", "orienteur", "prescripteur", "origine", "orientation"],
    "commune": ["ville", "commune de residence", "lieu de residence", "residence"],
    "sexe": ["genre", "civilite", "sexe", "h f"],
    "age": ["age", "age a l orientation", "ans"],
    "niveau_formation": ["niveau", "niveau d etudes", "niveau scolaire", "diplome", "formation"],
    "statut": ["public", "statut", "allocation", "type de public"],
    "situation_familiale": ["situation familiale", "famille", "composition familiale", "foyer"],
    "frein_principal": ["frein", "frein 1", "frein n 1", "frein principal", "difficulte principale", "probleme principal"],
    "freins_secondaires": ["autres freins", "freins secondaires", "frein 2", "autres difficultes"],
    "date_premier_rdv": ["1er rdv", "premier rdv", "date 1er rdv", "diagnostic", "date diagnostic"],
    "date_entree": ["entree", "date entree", "debut accompagnement", "date debut"],
    "motif_non_entree": ["si pas d entree", "motif non entree", "non entree", "pourquoi pas entre"],
    "date_fin_prevue": ["fin prevue", "date fin prevue", "echeance"],
    "date_sortie": ["sortie", "date sortie", "fin accompagnement", "date fin"],
    "motif_sortie": ["type de sortie", "motif sortie", "sortie vers", "motif de fin"],
    "detail_sortie": ["precision", "detail sortie", "type de contrat", "precision sortie"],
    "rqth": ["rqth", "travailleur handicape"],
    "date": ["date rdv", "date du rdv", "jour", "date"],
    "modalite": ["type", "modalite", "mode", "type de rdv"],
    "presence": ["presence", "present", "emargement", "venu"],
    "date_debut": ["du", "debut", "date debut"],
    "date_fin": ["au", "fin", "date fin"],
    "secteur": ["metier", "secteur", "code rome", "entreprise secteur"],
    "debouche_contrat": ["embauche", "contrat", "debouche", "suite contrat"],
}
SHEET_NAMES = {"participants": ["suivi", "participants", "beneficiaires", "personnes", "tableau de suivi"],
               "rendez_vous": ["emargement", "rendez vous", "rdv", "presences", "agenda"],
               "immersions": ["pmsmp", "immersions", "stages", "immersion"]}
# Usual labels of the closed lists (norm_key → canonical), beyond the contract's aliases.
LABEL_SYNONYMS: dict[str, dict[str, str]] = {
    "sexe": {"mme": "Femme", "madame": "Femme", "mlle": "Femme", "m": "Homme", "mr": "Homme", "monsieur": "Homme"},
    "frein_principal": {"transport": "Mobilité", "permis": "Mobilité", "vehicule": "Mobilité", "garde": "Garde d'enfants",
                        "cld": "Chômage longue durée", "sante": "Santé", "informatique": "Numérique", "langue": "Maîtrise du français",
                        "fle": "Maîtrise du français", "hebergement": "Logement"},
    "presence": {"p": "Présent", "present e": "Présent", "ae": "Absent excusé", "ane": "Absent non excusé",
                 "absent": "Absent non excusé", "excuse": "Absent excusé"},
    "modalite": {"presentiel": "Physique", "tel": "Téléphone", "visioconference": "Visio", "atelier": "Collectif"},
    "motif_sortie": {"sortie emploi": "Emploi", "sortie formation": "Formation", "fin d accompagnement": "Fin de suivi",
                     "demenage": "Déménagement"},
}
LABEL_SYNONYMS["freins_secondaires"] = LABEL_SYNONYMS["frein_principal"]
DROP, IGNORE = "__drop__", None  # column choices: drop (null in the profile) / not listed (ignored unless v1 matches)


def mappings_dir() -> Path:
    return Path(os.environ.get("COACHING_MAPPINGS") or DEFAULT_DIR)


# ---------------------------------------------------------------- reading the sheets' headers and values

@dataclass
class Column:
    header: str
    values: list[str]  # non-empty cells below the header (total and empty lines left out)


def guess_header_row(sheet: Sheet, scan: int = 30) -> int | None:
    """The header line: the first contract-like line when there is one, else the fullest text line of the first lines."""
    for table in S.TABLES.values():
        found = find_header_row(Sheet(sheet.name, sheet.rows[:scan]), table, {})
        if found is not None:
            return found
    best, best_n = None, 0
    for line, cells in sheet.rows[:scan]:
        n = sum(1 for c in cells if c and not _looks_number_or_date(c))
        if n > best_n:
            best, best_n = line, n
    return best


def _looks_number_or_date(value: str) -> bool:
    return bool(re.match(r"^[\d\s/.,:-]+$", value.strip()))


def columns_of(sheet: Sheet, header_row: int) -> list[Column]:
    by_line = dict(sheet.rows)
    header = by_line.get(header_row, [])
    out = []
    for i, raw in enumerate(header):
        if not raw or not raw.strip():
            continue
        values = []
        for line, cells in sheet.rows:
            if line <= header_row or is_total(cells):
                continue
            v = cells[i] if i < len(cells) else None
            if v is not None and v.strip():
                values.append(v.strip())
        out.append(Column(raw.strip(), values))
    return out


# ---------------------------------------------------------------- suggestions

def _name_score(header: str, column: S.Col) -> float:
    key = S.norm_key(header).replace("°", "")
    names = [S.norm_key(column.name), S.norm_key(column.label)] + [S.norm_key(s) for s in SYNONYMS.get(column.name, [])]
    return max(fuzz.ratio(key, n) for n in names)


def _canonical(column: str, value: str, values: list[str]) -> str | None:
    key = S.norm_key(value)
    known = S.value_lookup(column, values)
    return known.get(key) or LABEL_SYNONYMS.get(column, {}).get(key)


def _value_score(col: Column, c: S.Col) -> float:
    """0–100: how well the column's distinct values fit the contract column."""
    distinct = list(dict.fromkeys(col.values))[:200]
    if not distinct:
        return 0.0
    if c.kind == "date":
        from analytics.extract import _parse_dates  # the reader's own date formats

        frame = pl.DataFrame({"v": [serial_date(v) for v in distinct]})
        ok = frame.select(_parse_dates(pl.col("v")).is_not_null().mean()).item()
        return 100.0 * ok * 0.9  # dates are many columns: the name decides between them
    if c.kind in ("enum", "list") and c.values:
        parts = [p for v in distinct for p in (v.split("|") if c.kind == "list" else [v])]
        fit = sum(1 for p in parts if _canonical(c.name, p, c.values)) / len(parts)
        return 100.0 * fit
    if c.kind == "bool":
        fit = sum(1 for v in distinct if S.norm_key(v) in S.BOOL_VALUES) / len(distinct)
        return 80.0 * fit
    if c.name in ("age", "niveau_formation"):
        low, high = (16, 99) if c.name == "age" else (1, 8)
        nums = [v for v in distinct if re.match(r"^\d+$", v)]
        return 70.0 * (len(nums) / len(distinct)) * all(low <= int(v) <= high for v in nums) if nums else 0.0
    return 0.0


def _identifying(col: Column) -> bool:
    return identifying_column(col.header) or any(re.search(ANY, v) for v in col.values[:200])


def suggest_columns(columns: list[Column], table: S.Table) -> dict[str, str | None]:
    """The file's header → the contract column (or DROP for an identifying column, None when nothing fits)."""
    choice: dict[str, str | None] = {}
    candidates = []
    for col in columns:
        if _identifying(col):
            choice[col.header] = DROP
            continue
        choice[col.header] = None
        for c in table.columns:
            name, values = _name_score(col.header, c), _value_score(col, c)
            score = max(name, values) + min(name, values) / 10  # both agree: a little more sure
            if name >= NAME_THRESHOLD or values >= 100 * VALUE_SHARE * (0.9 if c.kind == "date" else 1):
                candidates.append((score, col.header, c.name))
    taken: set[str] = set()
    for _score, header, target in sorted(candidates, key=lambda t: -t[0]):
        if choice[header] is None and target not in taken:
            choice[header] = target
            taken.add(target)
    return choice


@dataclass
class Suggestion:
    sheet: str | None
    header_row: int | None
    columns: list[Column]
    mapping: dict[str, str | None]  # header → contract column, DROP, or None
    score: float


def suggest(book: dict[str, Sheet]) -> dict[str, Suggestion]:
    """A suggestion for each table: its sheet (None when no sheet fits), header line, and column mapping."""
    analysed = {}
    for name, sheet in book.items():
        row = guess_header_row(sheet)
        analysed[name] = (row, columns_of(sheet, row) if row else [])
    out: dict[str, Suggestion] = {}
    used: set[str] = set()
    for table in S.TABLES.values():
        best = None
        for name, (row, columns) in analysed.items():
            if name in used or not columns:
                continue
            mapping = suggest_columns(columns, table)
            matched = [t for t in mapping.values() if t not in (None, DROP)]
            required = sum(1 for t in matched if table.col(t).required)
            name_bonus = max(fuzz.ratio(S.norm_key(name), S.norm_key(s)) for s in SHEET_NAMES[table.name]) / 100
            score = required + len(matched) / 10 + name_bonus
            if required >= min(3, sum(c.required for c in table.columns)) and (best is None or score > best.score):
                best = Suggestion(name, row, columns, mapping, score)
        if best is not None:
            used.add(best.sheet)
            out[table.name] = best
        else:
            out[table.name] = Suggestion(None, None, [], {}, 0.0)
    return out


def suggest_for(book: dict[str, Sheet], sheet: str, table: str) -> Suggestion:
    """The suggestion for `table` read from the sheet the user chose."""
    found = find_sheet(book, sheet, table)
    if found is None:
        return Suggestion(None, None, [], {}, 0.0)
    row = guess_header_row(found)
    columns = columns_of(found, row) if row else []
    return Suggestion(found.name, row, columns, suggest_columns(columns, S.TABLES[table]), 0.0)


def choices_from_profile(book: dict[str, Sheet], profile: Profile) -> tuple[dict[str, Suggestion], dict[str, dict[str, str]]]:
    """A saved profile as the assistant's starting choices (sheets, column mapping, labels)."""
    out: dict[str, Suggestion] = {}
    labels: dict[str, dict[str, str]] = {}
    for table in S.TABLES.values():
        tm = profile.tables.get(table.name)
        sheet = find_sheet(book, tm.sheet or table.name, table.name) if tm else None
        if tm is None or sheet is None:
            out[table.name] = Suggestion(None, None, [], {}, 0.0)
            continue
        row = tm.header_row or find_header_row(sheet, table, tm.columns)
        columns = columns_of(sheet, row) if row else []
        listed = {S.norm_key(h): t for h, t in tm.columns.items()}
        v1 = S.header_lookup(table)
        mapping = {}
        for col in columns:
            key = S.norm_key(col.header)
            mapping[col.header] = (DROP if listed[key] is None else listed[key]) if key in listed else v1.get(key)
        out[table.name] = Suggestion(sheet.name, row, columns, mapping, 0.0)
        for column, m in tm.values.items():
            labels.setdefault(column, {}).update(m)
    return out, labels


def profile_from(name: str, choices: dict[str, Suggestion], labels: dict[str, dict[str, str]] | None = None,
                 book: dict[str, Sheet] | None = None) -> Profile:
    """The profile of the user's choices: for each table its sheet, header line, every column listed (renamed,
    dropped with null), and the label mapping of each closed-list column. With `book`, the header line is left out
    when the automatic detection finds it anyway (next month's file may have one title line more)."""
    tables = {}
    for table, s in choices.items():
        if s.sheet is None:
            continue
        columns = {}
        for header, target in s.mapping.items():
            if target == DROP:
                columns[header] = None
            elif target is not None:
                columns[header] = target
        known = set(S.TABLES[table].names)
        values = {c: dict(m) for c, m in (labels or {}).items() if c in known and m and c in columns.values()}
        header_row = s.header_row
        sheet = find_sheet(book, s.sheet, table) if book is not None else None
        if sheet is not None and find_header_row(sheet, S.TABLES[table], columns) == header_row:
            header_row = None
        tables[table] = TableMapping(s.sheet, header_row, columns, values)
    return Profile(name, tables)


# ---------------------------------------------------------------- unknown labels

@dataclass
class UnknownLabel:
    table: str
    column: str
    label: str
    count: int
    suggestion: str | None
    score: float


def unknown_labels(book: dict[str, Sheet], profile: Profile) -> list[UnknownLabel]:
    """Each label of a mapped closed-list column that neither the contract nor the profile knows."""
    out = []
    for table_name, tm in profile.tables.items():
        table = S.TABLES[table_name]
        sheet = find_sheet(book, tm.sheet or table_name, table_name)
        if sheet is None:
            continue
        row = tm.header_row or find_header_row(sheet, table, tm.columns)
        if row is None:
            continue
        for col in columns_of(sheet, row):
            target = tm.columns.get(col.header)
            if target is None:
                target = S.header_lookup(table).get(S.norm_key(col.header)) if col.header not in tm.columns else None
            if target is None:
                continue
            c = table.col(target)
            choices = c.values if c.kind in ("enum", "list") else (["oui", "non"] if c.kind == "bool" else None)
            if not choices:
                continue
            mapped = {S.norm_key(k) for k in tm.values.get(target, {})}
            parts = [p.strip() for v in col.values for p in (v.split("|") if c.kind == "list" else [v]) if p.strip()]
            counts: dict[str, int] = {}
            for p in parts:
                counts[p] = counts.get(p, 0) + 1
            for label, n in counts.items():
                key = S.norm_key(label)
                if key in mapped or (c.kind == "bool" and key in S.BOOL_VALUES) or (c.kind != "bool" and S.value_lookup(target, choices).get(key)):
                    continue
                suggestion, score = suggest_label(target, label, choices)
                out.append(UnknownLabel(table_name, target, label, n, suggestion, score))
    return out


def suggest_label(column: str, label: str, choices: list[str]) -> tuple[str | None, float]:
    """The canonical label a user's label most likely means: a usual synonym, else the most similar label when
    similar enough (rapidfuzz), else None (the user chooses)."""
    key = S.norm_key(label)
    synonym = LABEL_SYNONYMS.get(column, {}).get(key)
    if synonym in choices:
        return synonym, 100.0
    best = process.extractOne(key, {c: S.norm_key(c) for c in choices}, scorer=fuzz.WRatio)
    if best is not None and best[1] >= LABEL_THRESHOLD:
        return best[2], float(best[1])
    return None, float(best[1]) if best else 0.0


# ---------------------------------------------------------------- preview

def preview(path: str | Path, profile: Profile, n: int = 10) -> dict[str, pl.DataFrame]:
    """The first `n` rows of each table as mapped (contract column names, the user's line in « ligne »)."""
    problems: list[Problem] = []
    out = {}
    for m in apply(path, profile, problems):
        frame = m.frame.head(n)
        for c in m.table.columns:  # the contract's own spellings (« M. », « f ») shown as their canonical label
            if c.kind == "enum" and c.values and c.name in frame.columns:
                lookup = S.value_lookup(c.name, c.values)
                v = pl.col(c.name)
                frame = frame.with_columns(pl.coalesce(S.norm_key_expr(v).replace_strict(lookup, default=None, return_dtype=pl.String), v))
        frame = frame.with_columns(pl.Series("ligne", m.lines[:n], pl.Int64))
        out[m.table.name] = frame.select(["ligne"] + [c for c in m.frame.columns])
    return out


# ---------------------------------------------------------------- saved profiles

def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", S.norm_key(name)).strip("-")
    return slug or "profil"


def list_profiles(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(name, file) of the saved profiles, by name; unreadable files are left out."""
    folder = folder or mappings_dir()
    out = []
    for p in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            out.append((Profile.load(p).name, p))
        except (ValueError, OSError):
            continue
    return sorted(out, key=lambda t: S.norm_key(t[0]))


def save_profile(profile: Profile, folder: Path | None = None) -> Path:
    """Save under its name (a profile of the same name is replaced)."""
    folder = folder or mappings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, p in list_profiles(folder):
        if S.norm_key(name) == S.norm_key(profile.name):
            p.unlink()
    path = folder / f"{_slug(profile.name)}.json"
    i = 2
    while path.exists():
        path = folder / f"{_slug(profile.name)}-{i}.json"
        i += 1
    tmp = path.with_suffix(".tmp")
    tmp.write_text(profile.to_json() + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_profile(name: str, folder: Path | None = None) -> Profile:
    for n, p in list_profiles(folder):
        if n == name:
            return Profile.load(p)
    raise ValueError(f"profil « {name} » introuvable")


def rename_profile(old: str, new: str, folder: Path | None = None) -> Path:
    new = new.strip()
    if not new:
        raise ValueError("le nouveau nom est vide")
    if any(S.norm_key(n) == S.norm_key(new) and n != old for n, _ in list_profiles(folder)):
        raise ValueError(f"un profil « {new} » existe déjà")
    profile = load_profile(old, folder)
    delete_profile(old, folder)
    profile.name = new
    return save_profile(profile, folder)


def delete_profile(name: str, folder: Path | None = None) -> None:
    for n, p in list_profiles(folder):
        if n == name:
            p.unlink()
            return
    raise ValueError(f"profil « {name} » introuvable")


def recognise(book: dict[str, Sheet], folder: Path | None = None) -> Profile | None:
    """The saved profile made for files of this shape: each of its tables' sheet is there and holds, on its
    header line, every header the profile lists. The one listing the most headers wins."""
    best, best_n = None, 0
    for _name, p in list_profiles(folder):
        profile = Profile.load(p)
        n, fits = 0, bool(profile.tables)
        for table_name, tm in profile.tables.items():
            sheet = find_sheet(book, tm.sheet or table_name, table_name)
            if sheet is None:
                fits = False
                break
            row = tm.header_row or find_header_row(sheet, S.TABLES[table_name], tm.columns)
            header = {S.norm_key(c) for c in dict(sheet.rows).get(row, []) if c} if row else set()
            wanted = {S.norm_key(h) for h in tm.columns}
            if not wanted <= header:
                fits = False
                break
            n += len(wanted)
        if fits and n > best_n:
            best, best_n = profile, n
    return best


def profile_json(profile: Profile) -> bytes:
    return (profile.to_json() + "\n").encode("utf-8")


__all__ = ["DROP", "Suggestion", "UnknownLabel", "suggest", "suggest_for", "choices_from_profile", "profile_from", "unknown_labels", "suggest_label", "preview",
           "list_profiles", "save_profile", "load_profile", "rename_profile", "delete_profile", "recognise", "mappings_dir"]
