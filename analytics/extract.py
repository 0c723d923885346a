"""Read and validate a tracking extract (SPEC-extract v1).

`load_extract(path)` returns an `Extract` holding typed, canonical Polars frames, or raises
`ExtractError` carrying **every** problem found (file, line, column, value, reason, in French).

Reading relies on the libraries: the CSV dialect is sniffed by `csv.Sniffer`, rows are parsed
by DuckDB's `read_csv` (whose reject table reports broken rows with their line numbers),
workbooks by calamine (fastexcel), and the schema rules are a pandera `DataFrameSchema`
validated lazily so that all failures come back at once.

Decisions where the contract is silent (also in the README):
- columns that are not in the contract are ignored (listed in the summary), after the privacy scan;
- a line number is the record number as a spreadsheet shows it (the header is line 1): it is the file line
  unless a quoted cell spans several lines; for a workbook, the sheet row;
- an empty workbook sheet counts as an absent optional table.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from analytics import geo
from analytics import schema as S
from analytics.privacy import identifying_column, scan_cells

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y")
MIN_DATE = date(2000, 1, 1)


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


@dataclass
class Extract:
    tables: dict[str, pl.DataFrame]
    columns_present: dict[str, list[str]]
    source: str
    content_hash: str
    dropped_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {name: df.height for name, df in self.tables.items()}


@dataclass
class _Raw:
    table: S.Table
    label: str  # file or "classeur.xlsx › feuille"
    frame: pl.DataFrame  # all strings, original headers
    lines: pl.Series  # file line of each row


# ---------------------------------------------------------------- reading

CHUNK = 1 << 24  # 16 MiB: files are checked and transcoded in chunks, never held whole in memory


def _encoding(path: Path) -> str:
    """`utf-8` when the whole file decodes as UTF-8 (BOM or not), else `cp1252` (French office
    software), else `latin-1` (every byte sequence decodes)."""
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _transcode(path: Path, encoding: str, out: Path) -> None:
    with open(path, "r", encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192] or data[:4] in (b"PK\x03\x04", b"%PDF")


def _sniff_separator(head: str) -> str:
    """The separator of the first lines, by `csv.Sniffer` (`;`, `,` or tab)."""
    sample = "\n".join(head.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        first = head.splitlines()[0] if head else ""
        return ";" if first.count(";") >= first.count(",") else ","


def _duckdb_read(source: Path, sep: str) -> tuple[pl.DataFrame, pl.DataFrame] | str:
    """All cells as strings, and DuckDB's reject table (line, error_type, csv_line); or the error's first line."""
    cur = duckdb.connect().cursor()
    try:
        rel = cur.read_csv(str(source), sep=sep, header=True, all_varchar=True, store_rejects=True,
                           ignore_errors=True, auto_detect=True, quotechar='"', null_padding=False)
        frame = rel.pl()
        rejects = cur.sql("SELECT line, error_type, csv_line FROM reject_errors ORDER BY line").pl()
        return frame, rejects
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    finally:
        cur.close()


def _read_csv(path: Path, table: S.Table, problems: list[Problem]) -> _Raw | None:
    label = path.name
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        problems.append(Problem(label, None, None, None, "fichier vide : il doit contenir au moins la ligne d'en-tête"))
        return None
    if _looks_binary(head):
        problems.append(Problem(label, None, None, None, "fichier illisible : ce n'est pas un fichier texte CSV"))
        return None
    sep = _sniff_separator(head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore"))
    # DuckDB reads UTF-8 only. Most extracts are UTF-8: read them directly, and check the whole file's
    # encoding (a second pass over it) only when DuckDB meets bytes that are not UTF-8.
    read = _duckdb_read(path, sep)
    if isinstance(read, str) or read[1]["error_type"].cast(pl.String).is_in(["INVALID ENCODING", "INVALID UNICODE"]).any():
        encoding = _encoding(path)
        if encoding != "utf-8":
            sep = _sniff_separator(head.decode(encoding, errors="ignore"))
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / "extract.csv"
                _transcode(path, encoding, source)
                read = _duckdb_read(source, sep)
    if isinstance(read, str):
        problems.append(Problem(label, None, None, None, f"fichier illisible : {read}"))
        return None
    frame, rejects = read
    reject_lines = sorted(set(rejects["line"].to_list()))
    for row in rejects.unique("line", keep="first").iter_rows(named=True):
        kind = {"MISSING COLUMNS": "ligne tronquée : il manque des colonnes",
                "TOO MANY COLUMNS": "ligne avec trop de colonnes",
                "UNQUOTED VALUE": "guillemets mal fermés",
                "INVALID UNICODE": "caractères illisibles", "INVALID ENCODING": "caractères illisibles"}.get(str(row["error_type"]), f"ligne illisible ({row['error_type']})")
        problems.append(Problem(label, int(row["line"]), None, row["csv_line"] or "", kind))
    # File line of each kept row: header is line 1, then skip the rejected lines.
    lines, line, ri = [], 1, 0
    if reject_lines:
        for _ in range(frame.height):
            line += 1
            while ri < len(reject_lines) and reject_lines[ri] == line:
                line += 1
                ri += 1
            lines.append(line)
        line_series = pl.Series("__line", lines, dtype=pl.Int64)
    else:
        line_series = pl.int_range(2, frame.height + 2, eager=True, dtype=pl.Int64).alias("__line")
    return _Raw(table, label, frame, line_series)


def _read_xlsx(path: Path, problems: list[Problem]) -> list[_Raw]:
    try:
        import fastexcel

        book = fastexcel.read_excel(path)
        sheets = {S.norm_key(n): n for n in book.sheet_names}
    except Exception as exc:  # calamine reports corrupt workbooks with many exception types
        problems.append(Problem(path.name, None, None, None, f"classeur illisible : {str(exc).splitlines()[0]}"))
        return []
    out = []
    for table in S.TABLES.values():
        sheet = sheets.get(S.norm_key(table.name))
        label = f"{path.name} › {table.name}"
        if sheet is None:
            if table.required_file:
                problems.append(Problem(path.name, None, None, None, f"feuille « {table.name} » absente du classeur (feuilles trouvées : {', '.join(book.sheet_names)})"))
            continue
        try:
            frame = pl.read_excel(path, sheet_name=sheet, engine="calamine", infer_schema_length=0)
        except Exception as exc:
            problems.append(Problem(label, None, None, None, f"feuille illisible : {str(exc).splitlines()[0]}"))
            continue
        frame = frame.select(pl.all().cast(pl.String))
        if frame.width == 0:
            if table.required_file:
                problems.append(Problem(label, None, None, None, "feuille vide : elle doit contenir au moins la ligne d'en-tête"))
            continue
        out.append(_Raw(table, label, frame, pl.int_range(2, frame.height + 2, eager=True, dtype=pl.Int64).alias("__line")))
    return out


def _locate(path: Path, problems: list[Problem]) -> tuple[list[_Raw], list[Path]]:
    """Find the extract's tables at `path`; returns the raw tables and the files read."""
    if not path.exists():
        problems.append(Problem(str(path), None, None, None, "chemin introuvable"))
        return [], []
    if path.is_dir():
        found = {S.norm_key(p.stem): p for p in sorted(path.iterdir()) if p.suffix.lower() == ".csv"}
        raws, files = [], []
        for table in S.TABLES.values():
            p = found.get(S.norm_key(table.name))
            if p is None:
                if table.required_file:
                    problems.append(Problem(path.name, None, None, None, f"fichier « {table.name}.csv » absent du dossier"))
                continue
            files.append(p)
            raw = _read_csv(p, table, problems)
            if raw is not None:
                raws.append(raw)
        return raws, files
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, problems), [path]
    if suffix in (".csv", ".txt"):
        raw = _read_csv(path, S.PARTICIPANTS, problems)
        return ([raw] if raw else []), [path]
    problems.append(Problem(path.name, None, None, None, "format non reconnu : attendu un dossier de CSV, un fichier .csv ou un classeur .xlsx"))
    return [], []


def content_hash(files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(files, key=lambda p: p.name):
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- normalising

def _map_headers(raw: _Raw, problems: list[Problem], drop_identifying: bool, dropped: list[str], ignored: list[str]) -> pl.DataFrame:
    lookup = S.header_lookup(raw.table)
    rename, seen = {}, {}
    keep = []
    for name in raw.frame.columns:
        key = S.norm_key(name)
        canonical = lookup.get(key)
        if canonical is None and identifying_column(name):
            if drop_identifying:
                dropped.append(f"{raw.label} › {name.strip()}")
            else:
                problems.append(Problem(raw.label, 1, name.strip(), None,
                                        "colonne d'identification directe interdite dans un extrait anonymisé "
                                        "(supprimez-la, ou importez avec l'option de suppression des colonnes identifiantes)"))
            continue
        if canonical is None:
            ignored.append(f"{raw.label} › {name.strip()}")
            keep.append(name)  # still scanned for identifiers, then dropped
            continue
        if canonical in seen:
            problems.append(Problem(raw.label, 1, name.strip(), None, f"colonne en double (déjà lue sous « {seen[canonical]} »)"))
            continue
        seen[canonical] = name.strip()
        rename[name] = canonical
        keep.append(name)
    frame = raw.frame.select(keep).rename(rename)
    missing = [c.name for c in raw.table.columns if c.required and c.name not in frame.columns]
    for col in missing:
        problems.append(Problem(raw.label, 1, col, None, "colonne obligatoire absente"))
    return frame


def _parse_dates(expr: pl.Expr) -> pl.Expr:
    return pl.coalesce([expr.str.strptime(pl.Date, fmt, strict=False, exact=True) for fmt in DATE_FORMATS[:2]]
                       + [expr.str.strptime(pl.Datetime, fmt, strict=False, exact=True).dt.date() for fmt in DATE_FORMATS[2:5]]
                       + [expr.str.strptime(pl.Date, DATE_FORMATS[5], strict=False, exact=True)])


_DATE_SHAPES = (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?$"), re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"))


def _date_message(value: str) -> str:
    """Why a date cell was refused: a date written in an accepted shape that is not in the calendar (« 31/02/2023 »)
    is nonexistent, not unreadable."""
    for shape, order in zip(_DATE_SHAPES, ((3, 2, 1), (1, 2, 3))):
        m = shape.match(value)
        if m:
            y, mo, d = (int(m.group(i)) for i in order)
            try:
                date(y, mo, d)
            except ValueError:
                return ("date inexistante : ce jour n'existe pas au calendrier" if 1 <= mo <= 12
                        else "date inexistante : mois hors de 01 à 12")
    return "date illisible : attendu JJ/MM/AAAA ou AAAA-MM-JJ"


def _distinct(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """The distinct non-null values of each text column, computed once for the privacy scan, the conversions
    and the reference check (on millions of appointments, these `unique()` are most of their cost)."""
    return {name: frame.get_column(name).drop_nulls().unique() for name, dtype in frame.schema.items() if dtype == pl.String}


def _on_distinct(series: pl.Series, convert: pl.Expr, dtype: pl.DataType, distinct: pl.Series | None = None) -> tuple[pl.Series, pl.Series]:
    """Trim the cells, turn blanks into nulls and apply `convert` (an expression on `pl.col("v")`), on the
    distinct raw values only (`distinct`, or computed here), then map back: a column of millions of rows holds a
    few hundred distinct dates or labels. Returns the typed column and the distinct raw values that are filled but
    could not be converted."""
    if distinct is None:
        distinct = series.drop_nulls().unique()
    values = pl.DataFrame({"raw": distinct}).with_columns(pl.col("raw").str.strip_chars().replace("", None).alias("v"))
    values = values.with_columns(convert.alias("out"))
    typed = series.replace_strict(values["raw"], values["out"], default=None, return_dtype=dtype).alias(series.name)
    return typed, values.filter(pl.col("v").is_not_null() & pl.col("out").is_null())["raw"]


def _normalise(raw: _Raw, frame: pl.DataFrame, problems: list[Problem], distinct: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """Typed canonical frame; values that cannot be read are reported and left null. Cells are trimmed and
    blanks are nulls."""
    table = raw.table
    v = pl.col("v")
    typed = {}
    for c in table.columns:
        if c.name not in frame.columns:
            continue
        col, message = frame.get_column(c.name), None
        if c.kind == "date":
            convert, dtype, message = _parse_dates(v), pl.Date, "date illisible : attendu JJ/MM/AAAA ou AAAA-MM-JJ"
        elif c.kind == "int":
            convert, dtype, message = v.str.replace(r"[.,]0+$", "").cast(pl.Int64, strict=False), pl.Int64, "nombre entier attendu"
        elif c.kind == "bool":
            convert, dtype = S.norm_key_expr(v).replace_strict(S.BOOL_VALUES, default=None, return_dtype=pl.Boolean), pl.Boolean
            message = "valeur oui/non attendue (oui, non, 1, 0, vrai, faux)"
        elif c.kind == "enum":
            lookup = S.value_lookup(c.name, c.values or [])
            # unknown values stay as typed so that pandera reports them with the accepted list
            convert, dtype = pl.coalesce(S.norm_key_expr(v).replace_strict(lookup, default=None, return_dtype=pl.String), v), pl.String
        elif c.kind == "list":
            lookup = S.value_lookup(c.name, c.values or [])
            convert, dtype = v.str.split("|").list.eval(
                pl.coalesce(S.norm_key_expr(pl.element()).replace_strict(lookup, default=None, return_dtype=pl.String),
                            pl.element().str.strip_chars())).list.join("|"), pl.String
        else:  # free text and identifiers: millions of distinct values, trimmed in one vectorised pass
            typed[c.name] = col.str.strip_chars().replace("", None)
            continue
        typed[c.name], unreadable = _on_distinct(col, convert, dtype, (distinct or {}).get(c.name))
        if message and unreadable.len():
            bad = pl.DataFrame([raw.lines, col]).filter(col.is_in(unreadable.implode()))
            for line, value in bad.iter_rows():
                problems.append(Problem(raw.label, line, c.name, value.strip(),
                                        _date_message(value.strip()) if c.kind == "date" else message))
    typed = pl.DataFrame([raw.lines, *typed.values()])
    if "freins_secondaires" in typed.columns:
        accepted = set(S.BARRIERS)
        typed = typed.with_columns(pl.col("freins_secondaires").str.split("|"))
        exploded = typed.select("__line", "freins_secondaires").explode("freins_secondaires").drop_nulls()
        for line, value in exploded.filter(~pl.col("freins_secondaires").is_in(accepted) & (pl.col("freins_secondaires") != "")).iter_rows():
            problems.append(Problem(raw.label, line, "freins_secondaires", value,
                                    f"frein inconnu ; valeurs acceptées : {', '.join(S.BARRIERS)}"))
        typed = typed.with_columns(pl.col("freins_secondaires").list.eval(pl.element().filter(pl.element() != "")).list.unique(maintain_order=True).list.join("|").replace("", None))
    return typed


# ---------------------------------------------------------------- validating

def _pandera_schema(table: S.Table, columns: list[str]) -> pa.DataFrameSchema:
    cols = {}
    for c in table.columns:
        if c.name not in columns:
            continue
        checks = []
        if c.kind == "enum":
            checks.append(pa.Check.isin(c.values))
        if c.name == "age":
            checks.append(pa.Check.in_range(16, 99))
        if c.name == "niveau_formation":
            checks.append(pa.Check.in_range(1, 8))
        if c.name == "code_insee":
            checks.append(pa.Check.str_matches(r"^[0-9][0-9AB][0-9]{3}$"))
        if c.kind == "date":
            checks.append(pa.Check.in_range(MIN_DATE, date.today() + timedelta(days=366)))
        cols[c.name] = pa.Column(S.POLARS_TYPES[c.kind], checks=checks, nullable=not c.required,
                                 unique=(c.name == "id_participant" and table is S.PARTICIPANTS))
    return pa.DataFrameSchema(cols, strict=False)


def _check_message(check: str, column: str, table: S.Table) -> str:
    """French reason for a pandera failure (built-in checks report their own names, e.g. `in_range(16, 99)`)."""
    kind = table.col(column).kind if column in table.names else ""
    if check == "not_nullable":
        return "valeur obligatoire manquante"
    if check == "field_uniqueness":
        return "identifiant en double dans le fichier"
    if check.startswith("isin"):
        return f"valeur inconnue ; valeurs acceptées : {', '.join(table.col(column).values or [])}"
    if check.startswith("in_range") and column == "age":
        return "âge hors de la plage 16–99 ans"
    if check.startswith("in_range") and column == "niveau_formation":
        return "niveau de formation hors de la plage 1–8"
    if check.startswith("in_range") and kind == "date":
        return f"date hors de la plage admise (du 01/01/2000 au {(date.today() + timedelta(days=366)).strftime('%d/%m/%Y')})"
    if check.startswith("str_matches") and column == "code_insee":
        return "code INSEE invalide : 5 caractères attendus (ex. 80253)"
    return f"contrôle « {check} » non respecté"


def _validate_schema(raw: _Raw, typed: pl.DataFrame, problems: list[Problem]) -> None:
    # Rows whose value could not be read are already reported: pandera sees them as null.
    sch = _pandera_schema(raw.table, typed.columns)
    try:
        sch.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        lines = typed["__line"]
        already = {(p.line, p.column) for p in problems if p.file == raw.label}
        for row in fc.iter_rows(named=True):
            if row["column"] is None or row["index"] is None:
                continue
            line = int(lines[int(row["index"])])
            if row["check"] == "not_nullable" and (line, row["column"]) in already:
                continue
            problems.append(Problem(raw.label, line, row["column"], None if row["failure_case"] is None else str(row["failure_case"]),
                                    _check_message(row["check"], row["column"], raw.table)))


def _rule(typed: pl.DataFrame, raw: _Raw, problems: list[Problem], mask: pl.Expr, column: str, message: str) -> None:
    """Report the rows where `mask` holds — except a row whose cells used by the rule were already refused (an
    unreadable or nonexistent date is null here: one bad cell must not cascade into other errors)."""
    if column not in typed.columns:
        return
    used = set(mask.meta.root_names()) | {column}
    refused = {p.line for p in problems if p.file == raw.label and p.column in used and p.line is not None}
    rows = typed.filter(mask.fill_null(False))
    if refused:
        rows = rows.filter(~pl.col("__line").is_in(list(refused)))
    for line, value in rows.select("__line", pl.col(column).cast(pl.String)).iter_rows():
        problems.append(Problem(raw.label, line, column, value, message))


def _consistency(raw: _Raw, typed: pl.DataFrame, problems: list[Problem]) -> None:
    cols = set(typed.columns)
    c = pl.col
    if raw.table is S.PARTICIPANTS:
        for col in ("date_premier_rdv", "date_entree"):
            if col in cols and "date_prescription" in cols:
                _rule(typed, raw, problems, c(col) < c("date_prescription"), col, "date antérieure à la date de prescription")
        if {"date_entree", "date_sortie"} <= cols:
            _rule(typed, raw, problems, c("date_sortie") < c("date_entree"), "date_sortie", "date de sortie antérieure à la date d'entrée")
            _rule(typed, raw, problems, c("date_sortie").is_not_null() & c("date_entree").is_null(), "date_sortie", "date de sortie sans date d'entrée")
        if "date_entree" in cols:
            motif = c("motif_non_entree") if "motif_non_entree" in cols else pl.lit(None, pl.String)
            if "motif_non_entree" in cols:
                _rule(typed, raw, problems, c("date_entree").is_null() & motif.is_null(), "motif_non_entree",
                      "motif de non-entrée obligatoire quand la date d'entrée est vide (Non adhésion ou En attente)")
            else:
                problems.append(Problem(raw.label, 1, "motif_non_entree", None, "colonne obligatoire quand des personnes n'ont pas de date d'entrée"))
        if "date_sortie" in cols:
            if "motif_sortie" in cols:
                _rule(typed, raw, problems, c("date_sortie").is_not_null() & c("motif_sortie").is_null(), "motif_sortie",
                      "motif de sortie obligatoire quand la date de sortie est renseignée")
            elif typed["date_sortie"].is_not_null().any():
                problems.append(Problem(raw.label, 1, "motif_sortie", None, "colonne obligatoire quand des sorties sont renseignées"))
        if {"motif_sortie", "detail_sortie"} <= cols:
            for motif in S.EXIT_REASONS:
                allowed = S.EXIT_DETAILS.get(motif, [])
                _rule(typed, raw, problems,
                      (c("motif_sortie") == motif) & c("detail_sortie").is_not_null() & ~c("detail_sortie").is_in(allowed), "detail_sortie",
                      f"détail incompatible avec le motif « {motif} »" + (f" ; valeurs acceptées : {', '.join(allowed)}" if allowed else " (aucun détail attendu)"))
    if raw.table is S.IMMERSIONS and {"date_debut", "date_fin"} <= cols:
        _rule(typed, raw, problems, c("date_fin") < c("date_debut"), "date_fin", "date de fin antérieure à la date de début")


def _check_references(raws: dict[str, _Raw], typed: dict[str, pl.DataFrame], problems: list[Problem],
                      distinct: dict[str, dict[str, pl.Series]] | None = None) -> None:
    if "participants" not in typed or "id_participant" not in typed["participants"].columns:
        return
    known = typed["participants"]["id_participant"].drop_nulls().unique()
    for name in ("rendez_vous", "immersions"):
        df = typed.get(name)
        if df is None or "id_participant" not in df.columns:
            continue
        # the identifiers used, from the distinct raw values when known (trimmed as the cells were)
        raw_ids = (distinct or {}).get(name, {}).get("id_participant")
        used = raw_ids.str.strip_chars().replace("", None).drop_nulls().unique() if raw_ids is not None else df["id_participant"].drop_nulls().unique()
        unknown = used.filter(~used.is_in(known.implode()))
        if unknown.len() == 0:
            continue
        bad = df.filter(pl.col("id_participant").is_in(unknown.implode()))
        for line, value in bad.select("__line", "id_participant").iter_rows():
            problems.append(Problem(raws[name].label, line, "id_participant", value, "personne inconnue : cet identifiant n'est pas dans participants"))


# ---------------------------------------------------------------- entry point

def load_extract(path: str | Path, drop_identifying_columns: bool = False) -> Extract:
    """Read, normalise and validate an extract; raise `ExtractError` with every problem found."""
    path = Path(path)
    problems: list[Problem] = []
    raws_list, files = _locate(path, problems)
    # the hash reads every file once more: in a thread, while the tables are checked (hashlib releases the GIL)
    hashing = None
    if files and all(f.is_file() for f in files):
        pool = ThreadPoolExecutor(1)
        hashing = pool.submit(content_hash, files)
        pool.shutdown(wait=False)  # the submitted hash still runs to its end
    raws = {r.table.name: r for r in raws_list}
    dropped: list[str] = []
    ignored: list[str] = []
    typed: dict[str, pl.DataFrame] = {}
    columns: dict[str, list[str]] = {}  # as read from the file (code_insee may then be derived)
    distinct: dict[str, dict[str, pl.Series]] = {}
    for name, raw in raws.items():
        mapped = _map_headers(raw, problems, drop_identifying_columns, dropped, ignored)
        distinct[name] = _distinct(mapped)
        problems.extend(scan_cells(raw.label, mapped, raw.lines, distinct[name]))
        t = _normalise(raw, mapped, problems, distinct[name])
        _validate_schema(raw, t, problems)
        _consistency(raw, t, problems)
        columns[name] = t.columns
        if raw.table is S.PARTICIPANTS:  # official commune, INSEE code and EPCI (analytics.geo)
            t, issues = geo.resolve_communes(t)
            problems.extend(Problem(raw.label, *issue) for issue in issues)
        typed[name] = t
    _check_references(raws, typed, problems, distinct)
    if "participants" in typed and typed["participants"].height == 0 and not problems:
        problems.append(Problem(raws["participants"].label, None, None, None,
                                "aucune personne dans l'extrait : seule la ligne d'en-tête est présente"))
    digest = hashing.result() if hashing else None
    if problems:
        problems.sort(key=lambda p: (p.file, p.line or 0, p.column or ""))
        raise ExtractError(problems, digest, path.name)
    tables, present = {}, {}
    for name, df in typed.items():
        table = S.TABLES[name]
        present[name] = [c for c in table.names if c in columns[name]]
        df = df.drop("__line")
        for c in table.columns:
            if c.name not in df.columns:
                df = df.with_columns(pl.lit(None, S.POLARS_TYPES[c.kind]).alias(c.name))
        if table is S.PARTICIPANTS:
            df = df.with_columns(pl.col("territoire").fill_null(S.DEFAULT_TERRITORY), pl.col("action").fill_null(S.DEFAULT_ACTION))
        tables[name] = df.select(table.names + (["epci"] if table is S.PARTICIPANTS else []))
    return Extract(tables, present, path.name, digest or "", dropped, ignored)


def problems_frame(problems: list[Problem]) -> pl.DataFrame:
    """The validation report as a table (Données page, CSV download)."""
    return pl.DataFrame([p.as_row() for p in problems],
                        schema={"fichier": pl.String, "ligne": pl.Int64, "colonne": pl.String, "valeur": pl.String, "problème": pl.String})


__all__ = ["Extract", "ExtractError", "Problem", "load_extract", "problems_frame", "content_hash"]
