"""Read and validate a tracking extract (SPEC-extract v1).

`load_extract(path)` returns an `Extract` whose typed, canonical tables are staged on disk (Parquet files read back
as Polars frames on demand, imported by the store in SQL), or raises `ExtractError` carrying **every** problem found
(file, line, column, value, reason, in French). `validate_tables(frames, …)` validates raw tables already read by
the caller (e.g. a mapped workbook) the same way.

Bounded memory whatever the size: each CSV file is streamed by DuckDB's `read_csv` and validated `BATCH_ROWS` rows
at a time (privacy scan, conversions on each batch's distinct values, pandera, consistency rules, communes); the
rules that span rows are kept exact across batches: identifiers unique in participants and the persons of
appointments and immersions (from the participants' identifiers, the only column held whole), whole-column
problems reported once, and line numbers corrected for the lines DuckDB rejected (known at the end of the stream).

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

import bisect
import codecs
import csv
import hashlib
import re
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from analytics import fmt, geo
from analytics import schema as S
from analytics.privacy import identifying_column, scan_cells
from analytics.staging import new_folder as new_staging_folder
from analytics.problems import ExtractError, Problem

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y")
MIN_DATE = date(2000, 1, 1)


class StagedTables(Mapping):
    """The typed tables of a validated extract, kept as Parquet files in a staging folder (`Extract.staging`:
    `<table>-<part>.parquet`, rows numbered by `__ord`) rather than in memory; a table read by name comes back as a
    Polars frame (small extracts, tests). The store imports from the files, in SQL."""

    def __init__(self, staging: Path, counts: dict[str, int]):
        self.staging = staging
        self._counts = counts

    def __getitem__(self, name: str) -> pl.DataFrame:
        if name not in self._counts:
            raise KeyError(name)
        df = pl.read_parquet(staged_files(self.staging, name)).sort("__ord")
        return df.drop([c for c in _HIDDEN if c in df.columns])

    def __contains__(self, name: object) -> bool:
        return name in self._counts

    def __iter__(self):
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)


def staged_files(staging: Path, name: str) -> list[str]:
    """The Parquet parts of one staged table, in order (at least one, possibly empty)."""
    return sorted(str(p) for p in Path(staging).glob(f"{name}-*.parquet"))


@dataclass
class Extract:
    tables: Mapping[str, pl.DataFrame]  # StagedTables from load_extract
    columns_present: dict[str, list[str]]
    source: str
    content_hash: str
    dropped_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    staging: Path | None = None  # folder of Parquet files: `participants`, `rendez_vous`, `immersions` (+ `__ord`)
    row_counts: dict[str, int] | None = None
    profile: str | None = None  # the mapping profile it was read through (analytics.mapping), recorded at import

    def __post_init__(self):
        if self.staging is not None:  # the staging folder goes with the extract
            weakref.finalize(self, shutil.rmtree, str(self.staging), True)

    @property
    def counts(self) -> dict[str, int]:
        if self.row_counts is not None:
            return dict(self.row_counts)
        return {name: df.height for name, df in self.tables.items()}

    def close(self) -> None:
        """Remove the staging file now (it is also removed when the extract is garbage-collected)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


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


# rows validated at a time: memory stays that of one batch whatever the extract's size (tests set tiny batches)
BATCH_ROWS = int(os.environ.get("COACHING_IMPORT_BATCH_ROWS") or 500_000)
_MEMORY_LIMIT = "1GB"  # DuckDB's buffers in the import process (it spills to disk beyond)

_REJECT_KINDS = {"MISSING COLUMNS": "ligne tronquée : il manque des colonnes",
                 "TOO MANY COLUMNS": "ligne avec trop de colonnes",
                 "UNQUOTED VALUE": "guillemets mal fermés",
                 "INVALID UNICODE": "caractères illisibles", "INVALID ENCODING": "caractères illisibles"}


class _Unreadable(Exception):
    """DuckDB could not read the file at all (its message's first line)."""


@dataclass
class _CsvSource:
    """A CSV file read by DuckDB's `read_csv` (all cells as strings), streamed in batches of `BATCH_ROWS` rows.
    Rows rejected by DuckDB (broken lines) are known once the stream is exhausted (`rejects`)."""

    path: Path
    sep: str

    def batches(self, state: dict):
        con = duckdb.connect(config={"memory_limit": _MEMORY_LIMIT})
        state["con"] = con
        try:
            con.execute("SET enable_progress_bar = false").fetchall()
            rel = con.read_csv(str(self.path), sep=self.sep, header=True, all_varchar=True, store_rejects=True,
                               ignore_errors=True, auto_detect=True, quotechar='"', null_padding=False)
            # a stream of Arrow batches (`to_arrow_reader` from DuckDB 2.0, `fetch_record_batch` before)
            reader = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
            reader = reader(BATCH_ROWS)
            state["columns"] = list(reader.schema.names)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                yield pl.from_arrow(batch)
            state["rejects"] = con.sql("SELECT line, error_type, csv_line FROM reject_errors ORDER BY line").pl()
        except duckdb.Error as exc:
            raise _Unreadable(str(exc).splitlines()[0]) from None
        finally:
            con.close()


def _reject_problems(label: str, rejects: pl.DataFrame) -> list[Problem]:
    out = []
    for row in rejects.unique("line", keep="first", maintain_order=True).iter_rows(named=True):
        kind = _REJECT_KINDS.get(str(row["error_type"]), f"ligne illisible ({row['error_type']})")
        out.append(Problem(label, int(row["line"]), None, row["csv_line"] or "", kind))
    return out


def _line_mapper(rejects: pl.DataFrame):
    """Row-derived line (row index + 2) → file line: the header is line 1, then the rejected lines are skipped."""
    reject_lines = sorted(set(rejects["line"].to_list())) if rejects.height else []
    if not reject_lines:
        return None

    def actual(provisional: int) -> int:
        line = provisional
        while True:  # the (i+1)-th line from 2 that is not a rejected one
            shifted = provisional + bisect.bisect_right(reject_lines, line)
            if shifted == line:
                return line
            line = shifted

    return actual


def _csv_source(path: Path, problems: list[Problem]) -> _CsvSource | None:
    label = path.name
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        problems.append(Problem(label, None, None, None, "fichier vide : il doit contenir au moins la ligne d'en-tête"))
        return None
    if _looks_binary(head):
        problems.append(Problem(label, None, None, None, "fichier illisible : ce n'est pas un fichier texte CSV"))
        return None
    return _CsvSource(path, _sniff_separator(head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")))


def _read_xlsx(path: Path, problems: list[Problem]) -> list[_Entry]:
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
        out.append(_Entry(table, label, frame=frame))
    return out


@dataclass
class _Entry:
    """One table of the extract as found: a CSV file streamed by DuckDB, or a frame of strings (a workbook's sheet,
    or a raw table already read by the caller)."""

    table: S.Table
    label: str
    csv: _CsvSource | None = None
    frame: pl.DataFrame | None = None
    lines: pl.Series | None = None  # a frame's file line of each row, when not consecutive from 2 (a mapped workbook)


def _locate(path: Path, problems: list[Problem]) -> tuple[list[_Entry], list[Path]]:
    """Find the extract's tables at `path`; returns the tables found and the files read."""
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
            source = _csv_source(p, problems)
            if source is not None:
                raws.append(_Entry(table, p.name, csv=source))
        return raws, files
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, problems), [path]
    if suffix in (".csv", ".txt"):
        source = _csv_source(path, problems)
        return ([_Entry(S.PARTICIPANTS, path.name, csv=source)] if source else []), [path]
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

def _header_plan(table: S.Table, label: str, headers: list[str], problems: list[Problem], drop_identifying: bool,
                 dropped: list[str], ignored: list[str]) -> tuple[list[str], dict[str, str]]:
    """The columns to keep and their canonical names, from the headers (once per table, whatever its size);
    header problems (identifying, duplicated or missing columns) are reported here."""
    lookup = S.header_lookup(table)
    rename, seen = {}, {}
    keep = []
    for name in headers:
        key = S.norm_key(name)
        canonical = lookup.get(key)
        if canonical is None and identifying_column(name):
            if drop_identifying:
                dropped.append(f"{label} › {name.strip()}")
            else:
                problems.append(Problem(label, 1, name.strip(), None,
                                        "colonne d'identification directe interdite dans un extrait anonymisé "
                                        "(supprimez-la, ou importez avec l'option de suppression des colonnes identifiantes)"))
            continue
        if canonical is None:
            ignored.append(f"{label} › {name.strip()}")
            keep.append(name)  # still scanned for identifiers, then dropped
            continue
        if canonical in seen:
            problems.append(Problem(label, 1, name.strip(), None, f"colonne en double (déjà lue sous « {seen[canonical]} »)"))
            continue
        seen[canonical] = name.strip()
        rename[name] = canonical
        keep.append(name)
    present = {rename.get(name, name) for name in keep}
    for col in [c.name for c in table.columns if c.required and c.name not in present]:
        problems.append(Problem(label, 1, col, None, "colonne obligatoire absente"))
    return keep, rename


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

def _pandera_schema(table: S.Table, columns: list[str], unique_ids: bool = True) -> pa.DataFrameSchema:
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
                                 unique=(unique_ids and c.name == "id_participant" and table is S.PARTICIPANTS))
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


def _validate_schema(raw: _Raw, typed: pl.DataFrame, problems: list[Problem], unique_ids: bool = True) -> None:
    # Rows whose value could not be read are already reported: pandera sees them as null.
    sch = _pandera_schema(raw.table, typed.columns, unique_ids)
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


def _check_rule(typed: pl.DataFrame, raw: _Raw, problems: list[Problem], mask: pl.Expr, column: str, message: str,
                prior: list[Problem] = ()) -> None:
    """Report the rows where `mask` holds — except a row whose cells used by the rule were already refused (in
    `problems` or `prior`: an unreadable or nonexistent date is null here, and one bad cell must not cascade into
    other errors)."""
    if column not in typed.columns:
        return
    used = set(mask.meta.root_names()) | {column}
    refused = {p.line for p in (*prior, *problems) if p.file == raw.label and p.column in used and p.line is not None}
    rows = typed.filter(mask.fill_null(False))
    if refused:
        rows = rows.filter(~pl.col("__line").is_in(list(refused)))
    for line, value in rows.select("__line", pl.col(column).cast(pl.String)).iter_rows():
        problems.append(Problem(raw.label, line, column, value, message))


def _consistency(raw: _Raw, typed: pl.DataFrame, problems: list[Problem], prior: list[Problem] = ()) -> None:
    """The consistency rules; `prior`: the problems already found in this table (their cells do not cascade)."""
    def _rule(*args) -> None:
        _check_rule(*args, prior=prior)

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


# ---------------------------------------------------------------- validating in batches

Progress = Callable[[float, str], None]  # (share of the work done, 0–1; what is being done, in French)


@dataclass
class _TableRun:
    """What one table's validation produced; discarded as a whole when the file must be read again (encoding)."""

    problems: list[Problem] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    columns: list[str] | None = None  # as read from the file (code_insee may then be derived)
    rows: int = 0
    known: pl.Series | None = None  # participants: their identifiers (trimmed, non-null, distinct), sorted
    known_ord: pl.Series | None = None  # the row (`__ord`) of each of them in participants, aligned on `known`


class _Context:
    def __init__(self, stage: Path, problems: list[Problem], drop_identifying: bool,
                 progress: Progress | None, total_bytes: int):
        self.stage = stage  # the staging folder
        self.parts: dict[str, int] = {}
        self.problems = problems
        self.drop_identifying = drop_identifying
        self.progress = progress
        self.total_bytes = max(total_bytes, 1)
        self.done_bytes = 0
        self.known: pl.Series | None = None  # the participants' identifiers, once that table is read
        self.known_ord: pl.Series | None = None  # their rows in participants (`__ord`), aligned on `known`
        self.last_report = 0.0

    def report(self, share: float, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress and (force or now - self.last_report >= 0.5):
            self.last_report = now
            self.progress(min(max(share, 0.0), 1.0), text)


def _staging_schema(table: S.Table) -> dict[str, pl.DataType]:
    """The staged columns: the typed table, `__ord` (the row's position in the extract) and, for appointments and
    immersions, `__pord`: their person's row (`__ord`) in participants, so that the store gives them their
    person's key by an integer join (or none, on an empty store) rather than by joining millions of strings."""
    out = dict(S.typed_schema(table))
    if table is S.PARTICIPANTS:
        out["epci"] = pl.String
    out["__ord"] = pl.Int64
    if table is not S.PARTICIPANTS:
        out["__pord"] = pl.Int64
    return out


_HIDDEN = ["__ord", "__pord"]  # staging columns that are not the table's


def _finalise(table: S.Table, typed: pl.DataFrame, first_row: int, person_rows: pl.Series | None = None) -> pl.DataFrame:
    """A typed batch in the store's column order: absent columns null, default territory and action, the row's
    position in the extract (`__ord`) and its person's row in participants (`__pord`, `person_rows`)."""
    df = typed.drop("__line")
    if person_rows is not None:
        df = df.with_columns(person_rows.alias("__pord"))
    schema = _staging_schema(table)
    missing = [pl.lit(None, schema[c]).alias(c) for c in schema if c != "__ord" and c not in df.columns]
    if missing:
        df = df.with_columns(missing)
    if table is S.PARTICIPANTS:
        df = df.with_columns(pl.col("territoire").fill_null(S.DEFAULT_TERRITORY), pl.col("action").fill_null(S.DEFAULT_ACTION))
    df = df.with_columns(pl.int_range(first_row, first_row + df.height, dtype=pl.Int64).alias("__ord"))
    return df.select(list(schema))


def _validate_table(entry: _Entry, batches: Iterator[pl.DataFrame], headers: Callable[[], list[str]],
                    ctx: _Context, share_of: Callable[[int], float]) -> _TableRun:
    """Validate one table batch by batch, staging its typed rows while no problem has been found anywhere."""
    run = _TableRun()
    table, label = entry.table, entry.label
    plan: tuple[list[str], dict[str, str]] | None = None
    header_level: set[tuple] = set()  # consistency problems about a whole column (line 1): once per table
    ids: list[pl.DataFrame] = []
    first_row = 0

    def one(frame: pl.DataFrame) -> None:
        nonlocal plan, first_row
        person_rows = None
        if plan is None:
            plan = _header_plan(table, label, frame.columns, run.problems, ctx.drop_identifying, run.dropped, run.ignored)
        keep, rename = plan
        if entry.lines is not None:  # lines known from the reader (title, empty and total lines removed)
            lines = entry.lines.slice(first_row, frame.height).cast(pl.Int64).alias("__line")
        else:
            lines = pl.int_range(first_row + 2, first_row + 2 + frame.height, eager=True, dtype=pl.Int64).alias("__line")
        raw = _Raw(table, label, frame, lines)
        mapped = frame.select(keep).rename(rename)
        distinct = _distinct(mapped)
        run.problems.extend(scan_cells(label, mapped, lines, distinct))
        t = _normalise(raw, mapped, run.problems, distinct)
        _validate_schema(raw, t, run.problems, unique_ids=False)  # identifiers: unique across batches, below
        consistency: list[Problem] = []
        _consistency(raw, t, consistency, prior=run.problems)
        for p in consistency:
            if p.line == 1:
                key = (p.column, p.message)
                if first_row and key in header_level:
                    continue
                header_level.add(key)
            run.problems.append(p)
        if run.columns is None:
            run.columns = t.columns
        if table is S.PARTICIPANTS:  # official commune, INSEE code and EPCI (analytics.geo)
            t, issues = geo.resolve_communes(t)
            run.problems.extend(Problem(label, *issue) for issue in issues)
            if "id_participant" in t.columns:
                ids.append(t.select("__line", "id_participant", pl.int_range(first_row, first_row + t.height, dtype=pl.Int64).alias("__ord"))
                           .filter(pl.col("id_participant").is_not_null()))
        elif ctx.known is not None and "id_participant" in t.columns:
            person_rows = _check_references(label, t, ctx.known, ctx.known_ord, distinct.get("id_participant"), run.problems)
        if not ctx.problems and not run.problems:
            _stage(ctx, table.name, _finalise(table, t, first_row, person_rows))
        first_row += frame.height
        run.rows = first_row
        ctx.report(share_of(first_row), f"Contrôle de {label} : {fmt.number(first_row)} lignes lues")

    for frame in batches:
        one(frame)
    if plan is None:  # no row at all: the header is still checked
        one(pl.DataFrame(schema={name: pl.String for name in headers()}))
        run.rows = 0
    if table is S.PARTICIPANTS and ids:
        every = pl.concat(ids)
        for line, value in every.filter(pl.col("id_participant").is_duplicated()).select("__line", "id_participant").iter_rows():
            run.problems.append(Problem(label, line, "id_participant", value, _check_message("field_uniqueness", "id_participant", table)))
        known = every.unique("id_participant", keep="first", maintain_order=True).sort("id_participant")
        run.known, run.known_ord = known["id_participant"], known["__ord"]
    elif table is S.PARTICIPANTS and run.columns is not None and "id_participant" in run.columns:
        run.known = pl.Series("id_participant", [], dtype=pl.String)
        run.known_ord = pl.Series("__ord", [], dtype=pl.Int64)
    return run


def _check_references(label: str, typed: pl.DataFrame, known: pl.Series, known_ord: pl.Series | None,
                      raw_ids: pl.Series | None, problems: list[Problem]) -> pl.Series | None:
    """Appointments or immersions whose person is not in participants (`known`: their identifiers, sorted;
    `known_ord`: their rows in participants). Returns each row's person's row in participants (`__pord`; null for
    an unknown person), found for the distinct identifiers used only."""
    # the identifiers used, from the distinct raw values when known (trimmed as the cells were)
    used = raw_ids.str.strip_chars().replace("", None).drop_nulls().unique() if raw_ids is not None else typed["id_participant"].drop_nulls().unique()
    # `known` is sorted: a binary search per identifier used, rather than hashing every known identifier again for
    # each batch (`is_in`: 11 s of CPU over the batches of a million persons' appointments)
    if known.len():
        at = known.search_sorted(used).clip(0, known.len() - 1)
        found = known.gather(at)
        unknown = used.filter(found != used)
    else:
        at, found, unknown = None, None, used
    person_rows = None
    if known_ord is not None and known.len() and used.len():
        ords = pl.select(pl.when(found == used).then(known_ord.gather(at))).to_series()
        person_rows = typed["id_participant"].replace_strict(used, ords, default=None, return_dtype=pl.Int64)
    if unknown.len() == 0:
        return person_rows
    bad = typed.filter(pl.col("id_participant").is_in(unknown.implode()))
    for line, value in bad.select("__line", "id_participant").iter_rows():
        problems.append(Problem(label, line, "id_participant", value, "personne inconnue : cet identifiant n'est pas dans participants"))
    return person_rows


def _stage(ctx: _Context, name: str, frame: pl.DataFrame) -> None:
    """Append a typed batch to the staging folder (lz4 Parquet: quick to write, read back by the store in SQL)."""
    k = ctx.parts.get(name, 0)
    frame.write_parquet(ctx.stage / f"{name}-{k:06d}.parquet", compression="lz4", statistics=False)
    ctx.parts[name] = k + 1


def _discard(ctx: _Context, table: S.Table) -> None:
    for f in staged_files(ctx.stage, table.name):
        Path(f).unlink()
    ctx.parts.pop(table.name, None)


def _csv_table(entry: _Entry, ctx: _Context) -> _TableRun | None:
    """A CSV table: streamed by DuckDB; read again from a UTF-8 copy when DuckDB meets bytes that are not UTF-8
    (the whole file's encoding is only checked then). None when the file cannot be read at all."""
    source = entry.csv
    size = source.path.stat().st_size
    start = ctx.done_bytes
    with open(source.path, "rb") as fh:
        head = fh.read(1 << 16)
    per_row = max(len(head) / max(head.count(b"\n"), 1), 1.0)

    def share_of(rows: int) -> float:
        return (start + min(rows * per_row, size)) / ctx.total_bytes

    def attempt(src: _CsvSource) -> tuple[_TableRun | None, pl.DataFrame | None, str | None]:
        state: dict = {}
        try:
            run = _validate_table(entry, src.batches(state), lambda: state.get("columns", []), ctx, share_of)
        except _Unreadable as exc:
            _discard(ctx, entry.table)
            return None, None, str(exc)
        return run, state.get("rejects"), None

    run, rejects, error = attempt(source)
    bad_bytes = rejects is not None and rejects["error_type"].cast(pl.String).is_in(["INVALID ENCODING", "INVALID UNICODE"]).any()
    if error is not None or bad_bytes:
        encoding = _encoding(source.path)
        if encoding != "utf-8":
            _discard(ctx, entry.table)
            ctx.report(share_of(0), f"Conversion de {entry.label} ({encoding}) en UTF-8…", force=True)
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / "extract.csv"
                _transcode(source.path, encoding, copy)
                run, rejects, error = attempt(_CsvSource(copy, _sniff_separator(head.decode(encoding, errors="ignore"))))
    ctx.done_bytes = start + size
    if error is not None:
        ctx.problems.append(Problem(entry.label, None, None, None, f"fichier illisible : {error}"))
        return None
    mapper = _line_mapper(rejects)
    if mapper is not None:  # rows were numbered as if no line had been rejected
        for p in run.problems:
            if p.line is not None and p.line >= 2:
                p.line = mapper(p.line)
    run.problems[:0] = _reject_problems(entry.label, rejects)
    return run


def _validate_entries(entries: list[_Entry], source: str, problems: list[Problem], drop_identifying: bool,
                      progress: Progress | None, hashing) -> Extract:
    staging = new_staging_folder()  # under a known root, owned by this process (analytics.staging)
    try:
        total = sum(e.csv.path.stat().st_size for e in entries if e.csv is not None)
        ctx = _Context(staging, problems, drop_identifying, progress, total)
        dropped: list[str] = []
        ignored: list[str] = []
        runs: dict[str, _TableRun] = {}
        for entry in entries:
            if entry.csv is not None:
                run = _csv_table(entry, ctx)
            else:
                frame = entry.frame
                run = _validate_table(entry, iter([frame]), lambda f=frame: f.columns, ctx, lambda _rows: ctx.done_bytes / ctx.total_bytes)
            if run is None:
                continue
            problems.extend(run.problems)
            dropped += run.dropped
            ignored += run.ignored
            runs[entry.table.name] = run
            if entry.table is S.PARTICIPANTS:
                ctx.known, ctx.known_ord = run.known, run.known_ord
        if "participants" in runs and runs["participants"].rows == 0 and not problems:
            label = next(e.label for e in entries if e.table is S.PARTICIPANTS)
            problems.append(Problem(label, None, None, None, "aucune personne dans l'extrait : seule la ligne d'en-tête est présente"))
        digest = hashing.result() if hashing else None
        if problems:
            problems.sort(key=lambda p: (p.file, p.line or 0, p.column or ""))
            raise ExtractError(problems, digest, source)
        for table in S.TABLES.values():  # every table has a part, possibly empty, so that SQL can read it
            if not ctx.parts.get(table.name):
                _stage(ctx, table.name, pl.DataFrame(schema=_staging_schema(table)))
        present = {name: [c for c in S.TABLES[name].names if c in (run.columns or [])] for name, run in runs.items()}
        counts = {name: run.rows for name, run in runs.items()}
        return Extract(StagedTables(staging, counts), present, source, digest or "", dropped, ignored, staging, counts)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# ---------------------------------------------------------------- entry points

def load_extract(path: str | Path, drop_identifying_columns: bool = False, progress: Progress | None = None,
                 reader=None) -> Extract:
    """Read, normalise and validate an extract; raise `ExtractError` with every problem found.

    Bounded memory whatever the extract's size: each CSV file is streamed by DuckDB and validated `BATCH_ROWS` rows
    at a time; the typed rows go to Parquet files in a staging folder (`Extract.staging`), from which the store
    imports them in SQL.
    Only the participants' identifiers are held whole (uniqueness, and the persons of appointments and immersions).
    `progress(share, text)` is called as the rows are read (at most twice a second).

    `reader(path, problems) -> (raw tables, files to hash)` replaces the contract-shaped reading: the mapping layer
    (`analytics.mapping.load_mapped`) hands over the user's tables already in the contract's shape (`_Raw`)."""
    path = Path(path)
    problems: list[Problem] = []
    if reader is None:
        entries, files = _locate(path, problems)
    else:
        raws, files = reader(path, problems)
        entries = [_Entry(r.table, r.label, frame=r.frame.select(pl.all().cast(pl.String)), lines=r.lines) for r in raws]
    # the hash reads every file once more: in a thread, while the tables are checked (hashlib releases the GIL)
    hashing = None
    if files and all(f.is_file() for f in files):
        pool = ThreadPoolExecutor(1)
        hashing = pool.submit(content_hash, files)
        pool.shutdown(wait=False)  # the submitted hash still runs to its end
    return _validate_entries(entries, path.name, problems, drop_identifying_columns, progress, hashing)


def validate_tables(frames: dict[str, pl.DataFrame], source: str, content_hash: str = "",
                    drop_identifying_columns: bool = False, labels: dict[str, str] | None = None,
                    progress: Progress | None = None) -> Extract:
    """Validate raw tables already read by the caller (all cells as strings, the headers as found, one frame per
    table name of the contract, the first data row being line 2), exactly as `load_extract` validates files."""
    entries = [_Entry(table, (labels or {}).get(name, f"{name}.csv"), frame=frames[name].select(pl.all().cast(pl.String)))
               for name, table in S.TABLES.items() if name in frames]
    problems: list[Problem] = []
    for name, table in S.TABLES.items():
        if name not in frames and table.required_file:
            problems.append(Problem(source, None, None, None, f"fichier « {name}.csv » absent du dossier"))

    class _Done:
        @staticmethod
        def result():
            return content_hash

    return _validate_entries(entries, source, problems, drop_identifying_columns, progress, _Done)


def problems_frame(problems: list[Problem]) -> pl.DataFrame:
    """The validation report as a table (Données page, CSV download)."""
    return pl.DataFrame([p.as_row() for p in problems],
                        schema={"fichier": pl.String, "ligne": pl.Int64, "colonne": pl.String, "valeur": pl.String, "problème": pl.String})


__all__ = ["Extract", "ExtractError", "Problem", "StagedTables", "load_extract", "validate_tables", "problems_frame", "content_hash"]
