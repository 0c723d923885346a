"""Mapping profiles: the association's own files in the contract's shape (SPEC-extract v2, "Mapping profile").

A layer **before** the validation: `read_book` reads the user's workbook or CSV as it is (every sheet, every
line, typed cells turned into text: an Excel date cell or a date serial number becomes an ISO date), `apply`
finds each table's header row (below title lines), renames, drops (`null`) and relabels the columns, skips the
empty and total lines, and hands the extract reader contract-shaped raw tables that remember where each row
and column came from. The reader then applies every rule of the contract (`analytics.extract.load_extract`,
through its `reader` hook), and a refusal is translated back into the user's terms: their sheet, their line,
their header (`translate`).

Decisions where the contract is silent:
- a total line is one whose first non-empty cell is « Total », « Totaux » or starts with « Total » followed by a
  space (« Total 2023 », « TOTAL GÉNÉRAL »), whatever the case;
- a serial number is read as a date only in a date column, between 1 (01/01/1900) and 2 958 465 (31/12/9999),
  in Excel's 1900 date system; a date cell with a time keeps its date;
- a profile's column names and labels compare like the contract's headers (case, accents, spaces, hyphens and
  underscores ignored), so « N° dossier » and « n° Dossier » are one column;
- a mapped import's content fingerprint covers the files *and* the profile: the same file read with a corrected
  profile is a new import, the same file with the same profile changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from analytics import schema as S
from analytics.privacy import identifying_column
from analytics.problems import ExtractError, Problem

EXCEL_EPOCH = date(1899, 12, 30)
MIN_HEADER_MATCHES = 3
_SERIAL = re.compile(r"^\d{1,7}(?:\.\d+)?$")
HOW_TO_MAP = ("Pour importer un fichier à votre format, utilisez l'assistant de la page Données (il propose la "
              "correspondance des feuilles, colonnes et libellés, puis l'enregistre), ou « coaching import FICHIER "
              "--mapping profil.json » (format : SPEC-extract, « Mapping profile »).")


# ---------------------------------------------------------------- the profile

@dataclass
class TableMapping:
    sheet: str | None = None
    header_row: int | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out: dict = {}
        if self.sheet is not None:
            out["sheet"] = self.sheet
        if self.header_row is not None:
            out["header_row"] = self.header_row
        if self.columns:
            out["columns"] = dict(self.columns)
        if self.values:
            out["values"] = {k: dict(v) for k, v in self.values.items() if v}
        return out


@dataclass
class Profile:
    name: str
    tables: dict[str, TableMapping] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "tables": {t: m.to_dict() for t, m in self.tables.items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        """A profile from its JSON form; raises ValueError (in French) on a malformed one."""
        if not isinstance(data, dict) or not isinstance(data.get("tables", {}), dict):
            raise ValueError("profil invalide : un objet JSON avec « name » et « tables » est attendu")
        tables = {}
        for name, spec in data.get("tables", {}).items():
            if name not in S.TABLES:
                raise ValueError(f"profil invalide : table « {name} » inconnue (attendu : {', '.join(S.TABLES)})")
            spec = spec or {}
            if not isinstance(spec, dict):
                raise ValueError(f"profil invalide : « {name} » doit être un objet JSON")
            header_row = spec.get("header_row")
            if header_row is not None and (not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1):
                raise ValueError(f"profil invalide : « header_row » de « {name} » doit être un numéro de ligne (1, 2, …)")
            columns = spec.get("columns") or {}
            known = set(S.TABLES[name].names)
            for header, target in columns.items():
                if target is not None and target not in known:
                    raise ValueError(f"profil invalide : « {header} » → « {target} » : colonne inconnue de la table {name}")
            values = spec.get("values") or {}
            for column, labels in values.items():
                if column not in known or not isinstance(labels, dict):
                    raise ValueError(f"profil invalide : libellés de « {column} » : colonne inconnue de la table {name}")
            tables[name] = TableMapping(spec.get("sheet"), header_row, dict(columns),
                                        {c: {str(k): str(v) for k, v in labels.items()} for c, labels in values.items()})
        return cls(str(data.get("name") or "Profil sans nom"), tables)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"profil illisible : JSON invalide (ligne {exc.lineno}, colonne {exc.colno})") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    def fingerprint(self) -> str:
        """The profile's effect (not its name): what the content hash of a mapped import also covers."""
        return json.dumps(self.to_dict()["tables"], ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- reading the user's file as it is

@dataclass
class Sheet:
    """A sheet (or CSV file) as the user keeps it: every line's cells as text, with its 1-based line number."""

    name: str
    rows: list[tuple[int, list[str | None]]]
    single_file: bool = False  # one CSV file on its own: it holds the participants, whatever its name

    @property
    def width(self) -> int:
        return max((len(cells) for _, cells in self.rows), default=0)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _read_xlsx(path: Path) -> dict[str, Sheet]:
    import openpyxl  # typed cells and true line numbers (calamine trims the empty lines above a table)

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = {}
        for ws in book.worksheets:
            rows = [(i, [_cell_text(v) for v in row]) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)]
            sheets[ws.title] = Sheet(ws.title, rows)
        return sheets
    finally:
        book.close()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_csv(path: Path) -> Sheet:
    text = _decode(path.read_bytes())
    try:
        sep = csv.Sniffer().sniff("\n".join(text.splitlines()[:50]), delimiters=";,\t").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        sep = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows, last = [], 0
    for cells in reader:
        rows.append((last + 1, [c if c.strip() else None for c in cells]))
        last = reader.line_num
    return Sheet(path.stem, rows)


def read_book(path: str | Path) -> dict[str, Sheet]:
    """Every sheet of a workbook, the CSV files of a folder (by file stem), or one CSV file; raises ValueError."""
    path = Path(path)
    if path.is_dir():
        return {p.stem: _read_csv(p) for p in sorted(path.iterdir()) if p.suffix.lower() == ".csv"}
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        try:
            return _read_xlsx(path)
        except Exception as exc:  # openpyxl reports corrupt workbooks with many exception types
            raise ValueError(f"classeur illisible : {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if suffix in (".csv", ".txt"):
        sheet = _read_csv(path)
        sheet.single_file = True
        return {path.stem: sheet}
    raise ValueError("format non reconnu : attendu un dossier de CSV, un fichier .csv ou un classeur .xlsx")


# ---------------------------------------------------------------- applying a profile

def is_total(cells: list[str | None]) -> bool:
    first = next((c for c in cells if c is not None and c.strip()), None)
    if first is None:
        return False
    key = S.norm_key(first)
    return key in ("total", "totaux") or key.startswith("total ") or key.startswith("totaux ")


def _lookup(mapping: dict[str, str | None]) -> dict[str, str | None]:
    return {S.norm_key(k): v for k, v in mapping.items()}


def target_of(header: str, table: S.Table, columns: dict[str, str | None]) -> tuple[bool, str | None]:
    """(listed in the profile, contract column or None): the profile's rename, else the v1 header match."""
    key = S.norm_key(header)
    listed = _lookup(columns)
    if key in listed:
        return True, listed[key]
    return False, S.header_lookup(table).get(key)


def find_header_row(sheet: Sheet, table: S.Table, columns: dict[str, str | None]) -> int | None:
    """The first line matching at least three contract columns (renames of the profile included)."""
    need = min(MIN_HEADER_MATCHES, len(table.columns))
    for line, cells in sheet.rows:
        targets = {target_of(c, table, columns)[1] for c in cells if c}
        targets.discard(None)
        if len(targets) >= need:
            return line
    return None


def find_sheet(book: dict[str, Sheet], name: str, table: str | None = None) -> Sheet | None:
    """The sheet of that name (compared like headers); for the participants of a single CSV file, that file
    whatever its name (next month's file is named differently)."""
    if name in book:
        return book[name]
    key = S.norm_key(name)
    found = next((s for n, s in book.items() if S.norm_key(n) == key), None)
    if found is None and table == "participants" and len(book) == 1:
        only = next(iter(book.values()))
        return only if only.single_file else None
    return found


def relabel(value: str | None, labels: dict[str, str], kind: str) -> str | None:
    if value is None or not labels:
        return value
    lookup = {S.norm_key(k): v for k, v in labels.items()}
    if kind == "list":
        return "|".join(lookup.get(S.norm_key(part), part) for part in value.split("|"))
    return lookup.get(S.norm_key(value), value)


def serial_date(value: str | None) -> str | None:
    """An Excel serial number (1900 system) as an ISO date; anything else unchanged."""
    if value is None or not _SERIAL.match(value.strip()):
        return value
    number = float(value)
    if not 1 <= number <= 2_958_465:
        return value
    return (EXCEL_EPOCH + timedelta(days=int(number))).isoformat()


@dataclass
class Origin:
    """Where a mapped table came from: its label, header line and the user's header of each contract column."""

    label: str
    header_row: int
    headers: dict[str, str]  # contract column (or kept header) → the user's header


@dataclass
class Mapped:
    """A table in contract shape (all text), with the user's line of each row."""

    table: S.Table
    frame: pl.DataFrame
    lines: list[int]
    origin: Origin
    skipped_empty: int = 0
    skipped_total: int = 0
    dropped: list[str] = field(default_factory=list)


def sheet_label(path: Path, sheet: str) -> str:
    """How a problem names the sheet: `classeur.xlsx › Suivi`, `suivi.csv`, or `Suivi.csv` of a folder."""
    if path.suffix.lower() == ".xlsx":
        return f"{path.name} › {sheet}"
    return path.name if path.is_file() else f"{sheet}.csv"


def map_table(sheet: Sheet, table: S.Table, tm: TableMapping, label: str, problems: list[Problem]) -> Mapped | None:
    header_row = tm.header_row or find_header_row(sheet, table, tm.columns)
    if header_row is None:
        problems.append(Problem(label, None, None, None,
                                f"ligne d'en-tête introuvable : aucune ligne ne contient au moins {min(MIN_HEADER_MATCHES, len(table.columns))} "
                                f"colonnes de la table {table.name} (indiquez « header_row » et les colonnes dans le profil)"))
        return None
    by_line = dict(sheet.rows)
    header = by_line.get(header_row, [])
    width = sheet.width
    names: list[str | None] = []  # output column of each position, None = dropped / empty
    headers: dict[str, str] = {}
    dropped: list[str] = []
    for i in range(width):
        raw = header[i] if i < len(header) else None
        if raw is None or not raw.strip():
            names.append(None)
            continue
        listed, target = target_of(raw, table, tm.columns)
        if listed and target is not None and identifying_column(raw):
            # a rename never gets a direct identifier past the privacy rule: only `null` does
            problems.append(Problem(label, header_row, raw.strip(), None,
                                    f"colonne d'identification directe : elle ne peut pas devenir « {target} » ; "
                                    "écartez-la dans le profil (null) et gardez un identifiant pseudonyme"))
            names.append(None)
            continue
        if listed and target is None:
            dropped.append(f"{label} › {raw.strip()}")
            names.append(None)
            continue
        out = target or raw.strip()
        if out in headers:  # the same column twice: keep it under the user's header, the reader reports the double
            out = raw.strip() if raw.strip() not in headers else f"{raw.strip()} ({i + 1})"
        headers[out] = raw.strip()
        names.append(out)
    kinds = {c.name: c.kind for c in table.columns}
    columns: dict[str, list[str | None]] = {n: [] for n in names if n is not None}
    lines: list[int] = []
    empty = total = 0
    for line, cells in sheet.rows:
        if line <= header_row:
            continue
        kept = [cells[i] if i < len(cells) else None for i, n in enumerate(names) if n is not None]
        if all(c is None or not c.strip() for c in cells):
            empty += 1
            continue
        if is_total(cells):
            total += 1
            continue
        if all(c is None or not c.strip() for c in kept):  # only dropped columns are filled: an empty line of the table
            empty += 1
            continue
        lines.append(line)
        for i, n in enumerate(names):
            if n is None:
                continue
            value = cells[i] if i < len(cells) else None
            kind = kinds.get(n)
            if kind is not None:
                value = relabel(value, tm.values.get(n, {}), kind)
                if kind == "date":
                    value = serial_date(value)
            columns[n].append(value)
    frame = pl.DataFrame({n: pl.Series(n, v, pl.String) for n, v in columns.items()}) if columns else pl.DataFrame()
    return Mapped(table, frame, lines, Origin(label, header_row, headers), empty, total, dropped)


def apply(path: str | Path, profile: Profile, problems: list[Problem]) -> list[Mapped]:
    """The user's file in contract shape, table by table (problems of shape appended)."""
    path = Path(path)
    try:
        book = read_book(path)
    except ValueError as exc:
        problems.append(Problem(path.name, None, None, None, str(exc)))
        return []
    out = []
    for table in S.TABLES.values():
        tm = profile.tables.get(table.name)
        explicit = tm is not None and tm.sheet is not None
        tm = tm or TableMapping()
        sheet = find_sheet(book, tm.sheet or table.name, table.name)
        if sheet is None:
            if table.required_file or explicit:
                problems.append(Problem(path.name, None, None, None,
                                        f"feuille « {tm.sheet or table.name} » (table {table.name}) absente "
                                        f"(feuilles trouvées : {', '.join(book) or 'aucune'})"))
            continue
        mapped = map_table(sheet, table, tm, sheet_label(path, sheet.name), problems)
        if mapped is not None:
            out.append(mapped)
    return out


def translate(problems: list[Problem], origins: dict[str, Origin]) -> list[Problem]:
    """The reader's problems in the user's terms: their header for the contract's column, their header line."""
    out = []
    for p in problems:
        origin = origins.get(p.file)
        if origin is None:
            out.append(p)
            continue
        column, message, line = p.column, p.message, p.line
        if column is not None:
            user = origin.headers.get(column)
            if user is not None and user != column:  # their header, with the contract's name when it differs
                column = user if S.norm_key(user) == S.norm_key(column) else f"{user} ({column})"
            elif user is None and message.startswith("colonne obligatoire"):
                message += " : indiquez dans le profil quelle colonne du fichier la contient"
        if line == 1 and origin.header_row != 1:
            line = origin.header_row
        out.append(Problem(p.file, line, column, p.value, message))
    return out


@dataclass
class MappedRead:
    """What `load_mapped` learnt besides the extract: lines skipped and columns dropped by the profile."""

    skipped_empty: int = 0
    skipped_total: int = 0
    dropped: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        notes = []
        if self.skipped_empty or self.skipped_total:
            notes.append(f"  Lignes ignorées : {self.skipped_empty} vide(s), {self.skipped_total} ligne(s) de total.")
        return notes


def load_mapped(path: str | Path, profile: Profile, drop_identifying_columns: bool = False, progress=None):
    """`load_extract` of a file read through `profile`: returns (Extract, MappedRead); raises ExtractError whose
    problems name the user's sheet, line and header."""
    from analytics.extract import _Raw, content_hash, load_extract

    path = Path(path)
    origins: dict[str, Origin] = {}
    info = MappedRead()

    def reader(_path: Path, problems: list[Problem]):
        raws = []
        for m in apply(path, profile, problems):
            origins[m.origin.label] = m.origin
            info.skipped_empty += m.skipped_empty
            info.skipped_total += m.skipped_total
            info.dropped += m.dropped
            raws.append(_Raw(m.table, m.origin.label, m.frame, pl.Series("__line", m.lines, dtype=pl.Int64)))
        return raws, []  # the fingerprint is computed below (files and profile)

    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv") if path.is_dir() else ([path] if path.is_file() else [])
    digest = hashlib.sha256(((content_hash(files) if files else "") + profile.fingerprint()).encode()).hexdigest()
    try:
        extract = load_extract(path, drop_identifying_columns, progress=progress, reader=reader)
    except ExtractError as exc:
        raise ExtractError(translate(exc.problems, origins), digest, path.name) from None
    extract.content_hash = digest
    extract.profile = profile.name
    extract.dropped_columns = info.dropped + extract.dropped_columns
    return extract, info


# ---------------------------------------------------------------- a file not in the contract's shape, without a profile

def _first_lines(path: Path, n: int = 30) -> dict[str, list[list[str | None]]]:
    """The first lines of each sheet (or CSV file), cheaply: enough to tell the shape."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return {ws.title: [[_cell_text(v) for v in row] for row in ws.iter_rows(max_row=n, values_only=True)]
                    for ws in book.worksheets}
        finally:
            book.close()
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv") if path.is_dir() else [path]
    out = {}
    for p in files:
        with open(p, "rb") as fh:
            head = fh.read(1 << 16)
        if not head.strip(b"\xef\xbb\xbf \r\n\t") or b"\x00" in head[:8192] or head[:4] in (b"PK\x03\x04", b"%PDF"):
            raise ValueError("empty or binary: the reader's own message says it")
        text = _decode(head)
        lines = text.splitlines()[:n]
        try:
            sep = csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t").delimiter
        except csv.Error:
            sep = ";" if lines and lines[0].count(";") >= lines[0].count(",") else ","
        out[p.stem] = [[c if c.strip() else None for c in row] for row in csv.reader(lines, delimiter=sep)]
    return out


def shape_problems(path: str | Path) -> list[Problem]:
    """Without a profile: when the file's sheets or header are not the contract's, one problem per sheet found,
    naming the columns that match no contract column, and how to map them. Empty when the shape is the contract's
    (the reader's own checks then apply)."""
    path = Path(path)
    if not path.exists() or (path.is_file() and path.suffix.lower() not in (".xlsx", ".csv", ".txt")):
        return []
    try:
        sheets = _first_lines(path)
    except Exception:  # unreadable: the reader reports it in its own words
        return []
    if not sheets:
        return []
    single_csv = path.is_file() and path.suffix.lower() != ".xlsx"
    participants = next(iter(sheets.values())) if single_csv else next(
        (rows for name, rows in sheets.items() if S.norm_key(name) == S.norm_key("participants")), None)
    lookup = S.header_lookup(S.PARTICIPANTS)
    if participants:
        first = next((row for row in participants if any(row)), [])
        if sum(1 for c in first if c and S.norm_key(c) in lookup) >= MIN_HEADER_MATCHES:
            return []
    known = {S.norm_key(c) for t in S.TABLES.values() for c in t.names}
    found = ", ".join(f"« {n} »" for n in sheets)
    problems = [Problem(path.name, None, None, None,
                        f"le fichier n'a pas la forme d'un extrait (feuille ou en-tête « participants » introuvable) ; "
                        f"feuilles trouvées : {found}. {HOW_TO_MAP}")]
    for name, rows in sheets.items():
        header = max(rows, key=lambda r: sum(1 for c in r if c), default=[])  # the fullest of the first lines
        line = rows.index(header) + 1 if header else None
        unmatched = [c.strip() for c in header if c and S.norm_key(c) not in known]
        label = path.name if single_csv else f"{path.name} › {name}"
        if unmatched:
            problems.append(Problem(label, line, None, None,
                                    "colonnes qui ne correspondent à aucune colonne du contrat : "
                                    + ", ".join(f"« {c} »" for c in unmatched)
                                    + " ; indiquez leur correspondance (ou null pour les écarter) dans un profil"))
        elif not any(header):
            problems.append(Problem(label, None, None, None, "feuille vide"))
    return problems


def refuse_if_not_contract_shape(path: str | Path, content_hash: str | None = None) -> None:
    problems = shape_problems(path)
    if problems:
        raise ExtractError(problems, content_hash, Path(path).name)
