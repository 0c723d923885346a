"""The embedded DuckDB store.

Writes are copy-on-write: an import copies the database file, applies the whole snapshot in one
transaction on the copy, checkpoints it, then atomically renames it over the original
(`os.replace`). The snapshot is read in SQL from the Parquet files the validation staged (`Extract.staging`), never
held in Python memory, with DuckDB's buffers capped (`IMPORT_MEMORY_LIMIT`, spilling to disk beyond). Hence
- a refused or interrupted import (even SIGKILL) leaves the store byte-for-byte as it was;
- readers (the dashboard opens the file read-only) keep answering from the old file during an
  import and see the new data as soon as they reopen: `store_version()` changes with the file.

Re-import semantics (SPEC-extract "Re-import"): persons are keyed by (action, territoire,
id_participant). A newer snapshot replaces the rows of the persons it holds and adds new ones;
persons absent from it are kept (a snapshot never deletes history). When the snapshot carries
`rendez_vous` / `immersions`, they replace those of the persons it holds. A file whose content hash
was already imported is a no-op.

Layout for reading at scale:
- `person_key`, an integer in the three tables, stands for (action, territoire, id_participant): the engine
  matches appointments and immersions to the selected persons on it instead of three strings, and the
  appointments (millions of rows) hold only it. A person keeps its key across re-imports; stores written before
  it existed get keys, and narrower appointments, at their next import.
- `immersions` are stored in date order (range scans skip row groups); `rendez_vous` in the extract's order,
  since sorting millions of rows would cost about a sixth of the import.
- Read tables are rebuilt from the whole tables at every import (`build_read_tables`), in the same
  transaction, so that they always match them:
  - `participants_coded` holds the columns the figures read (`READ_COLUMNS`), each text column replaced by an
    integer code into `value_codes` (column_name, code, value; codes in the sort order of the values), coded
    `action` and `territoire` for the filters, and each person's number of immersions begun on or before their
    exit; its rows are ordered by the last day a period can concern the person (`span_end`), so that the persons
    whose part ended before a period are skipped by row group. The engine loads these integers and turns them
    into Polars Enums: moving 300 000 persons' strings out of DuckDB cost more than all the figures computed on
    them.
  - `rendez_vous_by_filters`: appointments counted per day, modality, presence and their person's coded filter
    columns, which is all the figures need of millions of appointments; `rendez_vous_daily`, the same per day,
    modality and presence only, for the unfiltered reads.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from typing import TYPE_CHECKING

from analytics import geo
from analytics import schema as S
from analytics.lake import PREFIX as LAKE_PREFIX, Lake, LakeError

if TYPE_CHECKING:  # reading the store must not import the extract validator (pandera, pandas: ~0.6 s)
    from analytics.extract import Extract

DEFAULT_DB = Path("data/coaching.duckdb")
KEY = ["action", "territoire", "id_participant"]
SQL_TYPES = {"text": "VARCHAR", "date": "DATE", "int": "BIGINT", "enum": "VARCHAR", "bool": "BOOLEAN", "list": "VARCHAR"}
# The participants' columns the figures and the pages read: the key and two columns no figure uses are left out,
# and `epci` (derived at import) is added.
READ_COLUMNS = [c for c in S.PARTICIPANTS.names if c not in KEY + ["date_fin_prevue", "situation_post_sortie"]] + ["epci"]
# Those held as text, coded in `participants_coded`; `action` and `territoire` are coded too, for the filters.
TEXT_COLUMNS = [c for c in READ_COLUMNS if c == "epci" or SQL_TYPES[S.PARTICIPANTS.col(c).kind] == "VARCHAR"]
CODED_COLUMNS = TEXT_COLUMNS + ["action", "territoire"]
# The person filters (`indicators.base.Filters` attribute → column), kept coded in `rendez_vous_by_filters` too.
FILTER_COLUMNS = {"commune": "commune", "prescriber": "prescripteur", "territory": "territoire", "action": "action",
                  "epci": "epci"}
IMMERSIONS_BEFORE_EXIT = "immersions_before_exit"


def db_path(explicit: str | os.PathLike | Lake | None = None) -> Path | Lake:
    """--db, else $COACHING_DB, else data/coaching.duckdb: a DuckDB file (the embedded store) or a shared store
    `ducklake:postgres:<libpq connection string>` (analytics/lake.py, data files in $COACHING_DATA_PATH)."""
    if isinstance(explicit, Lake):
        return explicit
    location = str(explicit or os.environ.get("COACHING_DB") or DEFAULT_DB)
    if location.startswith("ducklake:"):
        if not location.startswith(LAKE_PREFIX):
            raise LakeError("base partagée non prise en charge : seul « ducklake:postgres:<chaîne de connexion> » l'est")
        return Lake.parse(location)
    return Path(location)


def is_shared(location) -> bool:
    return isinstance(location, Lake)


class HistoryError(Exception):
    """`--as-of N` names an import whose figures cannot be given (French message)."""


def history_dir(path: Path) -> Path:
    """The embedded store's past states: the file as it was right after each import, `import-N.duckdb`.

    An import never modifies the store file in place (copy-on-write, module docstring), so the finished file of
    import N is hard-linked here before it replaces the store: keeping it costs no time, only the disk of the
    files no later import shares (docs/scaling.md, "Store history")."""
    return path.with_name(path.name + ".history")


def _ddl(shared: bool = False) -> list[str]:
    def cols(table: S.Table, extra: list[str] = ()) -> str:
        return ", ".join(list(extra) + [f"{c.name} {SQL_TYPES[c.kind]}" for c in table.columns])

    scope = ["action VARCHAR", "territoire VARCHAR"]
    return [
        # No PRIMARY KEY on (action, territoire, id_participant): the import keeps it unique (an extract's ids are
        # unique, checked, and the persons of a snapshot are deleted before they are inserted), and the index cost
        # 1.4 s and 76 MB at 1 000 000 persons. Stores written with it keep it.
        f"CREATE TABLE IF NOT EXISTS participants ({cols(S.PARTICIPANTS)}, epci VARCHAR, import_id BIGINT)",
        # epci (derived at import, analytics.geo) was added after the first stores were written
        "ALTER TABLE participants ADD COLUMN IF NOT EXISTS epci VARCHAR",
        # appointments are by far the largest table: stored with their person's key only (stores written before
        # person_key held the three key columns; `_upgrade_layout` narrows them)
        f"CREATE TABLE IF NOT EXISTS rendez_vous (person_key BIGINT, {', '.join(f'{c.name} {SQL_TYPES[c.kind]}' for c in S.RENDEZ_VOUS.columns if c.name != 'id_participant')})",
        f"CREATE TABLE IF NOT EXISTS immersions ({cols(S.IMMERSIONS, scope)})",
        # person_key: an integer standing for (action, territoire, id_participant) in all three tables, given by
        # the import and kept by a person across re-imports; added after the first stores were written
        *[f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS person_key BIGINT" for t in ("participants", "rendez_vous", "immersions")],
        f"""CREATE TABLE IF NOT EXISTS imports (
            import_id BIGINT{'' if shared else ' PRIMARY KEY'}, imported_at TIMESTAMP, file_name VARCHAR, content_hash VARCHAR,
            status VARCHAR, n_participants BIGINT, n_rendez_vous BIGINT, n_immersions BIGINT,
            n_new BIGINT, n_updated BIGINT, n_unchanged BIGINT, new_entries BIGINT, new_exits BIGINT,
            columns VARCHAR, dropped_columns VARCHAR)""",
        # the mapping profile an import was read through (analytics.mapping); added after the first stores were written
        "ALTER TABLE imports ADD COLUMN IF NOT EXISTS profile VARCHAR",
    ]


@dataclass
class ImportResult:
    status: str  # "importé" | "inchangé"
    file_name: str
    content_hash: str
    counts: dict[str, int]
    n_new: int = 0
    n_updated: int = 0
    n_unchanged: int = 0
    new_entries: int = 0
    new_exits: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    import_id: int | None = None  # the import's number (None when the file was already imported)
    notes: list[str] = field(default_factory=list)  # e.g. the empty and total lines a mapped file skipped

    def summary(self) -> str:
        if self.status == "inchangé":
            return f"{self.file_name} : déjà importé (même contenu), aucune modification."
        c = self.counts
        lines = [
            f"{self.file_name} : import réussi (import n° {self.import_id}) — {c.get('participants', 0)} personnes, "
            f"{c.get('rendez_vous', 0)} rendez-vous, {c.get('immersions', 0)} immersions.",
            f"  {self.n_new} nouvelles personnes, {self.n_updated} mises à jour, {self.n_unchanged} inchangées ; "
            f"depuis l'import précédent : {self.new_entries} nouvelles entrées, {self.new_exits} nouvelles sorties.",
        ]
        if self.dropped_columns:
            lines.append("  Colonnes identifiantes supprimées : " + ", ".join(self.dropped_columns))
        if self.ignored_columns:
            lines.append("  Colonnes hors contrat ignorées : " + ", ".join(self.ignored_columns))
        return "\n".join(lines + self.notes)


def _tmp_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def _cleanup_stale(path: Path) -> None:
    for p in path.parent.glob(f"{path.name}.tmp-*"):
        try:
            pid = int(p.name.rsplit("-", 1)[1].split(".")[0])
            os.kill(pid, 0)  # still running: leave it
        except (ValueError, ProcessLookupError):
            p.unlink(missing_ok=True)
        except PermissionError:
            pass


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """Execute a statement and fetch its whole result (DuckDB 2.0 refuses the next query otherwise)."""
    return con.execute(sql, params or []).fetchall()


def ensure_schema(con: duckdb.DuckDBPyConnection, shared: bool = False) -> None:
    for stmt in _ddl(shared):
        run(con, stmt)


@contextmanager
def writer_lock(path: Path):
    """One writer at a time: two imports each copying the file would otherwise lose one snapshot."""
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def import_extract(extract: Extract, path: str | os.PathLike | None = None) -> ImportResult:
    """Apply a validated extract to the store, all-or-nothing (see module docstring)."""
    path = db_path(path)
    if is_shared(path):
        # another importer (any machine) holds the catalog's lock: say so, then wait for it
        with path.writer_lock(on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
            return _import_shared(extract, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path):
        return _import_locked(extract, path)


def _already_imported(con: duckdb.DuckDBPyConnection, content_hash: str) -> bool:
    known = run(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'imports'")[0][0]
    return bool(known and run(con, "SELECT count(*) FROM imports WHERE content_hash = ? AND status = 'importé'", [content_hash])[0][0])


def _import_shared(extract: Extract, lake: Lake) -> ImportResult:
    """The same transaction as on the embedded store, on a read-write attach of the lake: DuckLake writes the data
    files, then commits one catalog snapshot (message `import N`); until then no reader sees anything of it, and an
    import that fails or is killed leaves only unreferenced files behind."""
    con = lake.connect(read_only=False)
    try:
        if _already_imported(con, extract.content_hash):
            return ImportResult("inchangé", extract.source, extract.content_hash, extract.counts)

        def label(c: duckdb.DuckDBPyConnection, import_id: int) -> None:
            from analytics.lake import COMMIT_AUTHOR

            run(c, f"CALL store.set_commit_message('{COMMIT_AUTHOR}', 'import {int(import_id)}', "
                   f"extra_info => '{json.dumps({'import_id': int(import_id)})}')")

        return _apply(con, extract, shared=True, before_commit=label)
    finally:
        con.close()


def _import_locked(extract: Extract, path: Path) -> ImportResult:
    _cleanup_stale(path)
    if path.exists():
        ro = connect_readonly(path)
        try:
            if _already_imported(ro, extract.content_hash):
                return ImportResult("inchangé", extract.source, extract.content_hash, extract.counts)
        finally:
            ro.close()
    tmp = _tmp_path(path)
    tmp.unlink(missing_ok=True)
    if path.exists():
        shutil.copyfile(path, tmp)
    try:
        con = duckdb.connect(str(tmp))
        try:
            result = _apply(con, extract)
            run(con, "CHECKPOINT")
        finally:
            con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # the file as it is right after this import, for `--as-of` (a hard link: no copy)
        history = history_dir(path)
        history.mkdir(exist_ok=True)
        kept = history / f"import-{result.import_id}.duckdb"
        kept.unlink(missing_ok=True)
        os.link(tmp, kept)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return result


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns of `table` in the store itself (not in an attached staging file holding a table of that name)."""
    return {name for (name,) in run(con, "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                         "AND database_name = current_database()", [table])}


def _upgrade_layout(con: duckdb.DuckDBPyConnection) -> None:
    """Stores written before `person_key` existed: number their persons, give each appointment and immersion its
    person's key (once; later imports keep the keys), and keep only the key in the appointments."""
    if run(con, "SELECT count(*) FROM participants WHERE person_key IS NULL")[0][0]:
        run(con, """UPDATE participants SET person_key = k.n FROM (
                        SELECT action, territoire, id_participant,
                               (SELECT coalesce(max(person_key), 0) FROM participants) + row_number() OVER () AS n
                        FROM participants WHERE person_key IS NULL) k
                    WHERE participants.person_key IS NULL AND participants.action = k.action
                      AND participants.territoire = k.territoire AND participants.id_participant = k.id_participant""")
    for table in ("rendez_vous", "immersions"):
        if "id_participant" in _columns(con, table):
            run(con, f"""UPDATE {table} SET person_key = p.person_key FROM participants p
                         WHERE {table}.person_key IS NULL AND {table}.action = p.action
                           AND {table}.territoire = p.territoire AND {table}.id_participant = p.id_participant""")
    if "id_participant" in _columns(con, "rendez_vous"):
        names = [c.name for c in S.RENDEZ_VOUS.columns if c.name != "id_participant"]
        run(con, f"CREATE TABLE rendez_vous_narrow AS SELECT person_key, {', '.join(names)} FROM rendez_vous")
        run(con, "DROP TABLE rendez_vous")
        run(con, "ALTER TABLE rendez_vous_narrow RENAME TO rendez_vous")


# DuckDB's buffers while an import applies a snapshot (it spills to a temporary folder beside the file beyond)
IMPORT_MEMORY_LIMIT = "1GB"


def _staged(extract: Extract, name: str) -> str:
    """SQL reading one staged table of the extract (its Parquet parts, `analytics.extract.StagedTables`)."""
    parts = sorted(str(f) for f in Path(extract.staging).glob(f"{name}-*.parquet"))
    files = ", ".join("'" + f.replace("'", "''") + "'" for f in parts)
    return f"read_parquet([{files}])"


def _stage_people(con: duckdb.DuckDBPyConnection, extract: Extract) -> tuple[str, bool]:
    """The snapshot's persons with their `person_key` (a person already stored keeps its key, a new one takes the
    next free number, in the extract's order), written beside the staged tables before the store's transaction;
    returns the SQL that reads them, and whether each key is simply the person's row + 1 (an empty store: then
    appointments take `__pord + 1`, their person's row in participants, without a join)."""
    try:
        base = run(con, "SELECT coalesce(max(person_key), 0) FROM participants")[0][0]
    except duckdb.CatalogException:  # a new shared store: its tables are created in the import's transaction
        base = 0
    if base == 0:  # an empty store: no key to keep, nothing to write
        return f"(SELECT *, __ord + 1 AS person_key FROM {_staged(extract, 'participants')})", True
    else:
        join = " AND ".join(f"o.{k} = n.{k}" for k in KEY)
        keyed = f"""SELECT n.*, coalesce(o.person_key, {int(base)} + row_number() OVER (PARTITION BY o.person_key IS NULL ORDER BY n.__ord))::BIGINT AS person_key
                    FROM {_staged(extract, 'participants')} n LEFT JOIN (SELECT {', '.join(KEY)}, person_key FROM participants) o ON {join}"""
    target = str(Path(extract.staging) / "people.parquet").replace("'", "''")
    run(con, f"COPY ({keyed}) TO '{target}' (FORMAT parquet, COMPRESSION lz4)")
    return f"read_parquet('{target}')", False


def _apply(con: duckdb.DuckDBPyConnection, extract: Extract, shared: bool = False, before_commit=None) -> ImportResult:
    """Apply a validated extract, read from its staged Parquet files (`Extract.staging`), in one transaction (schema
    upgrades included on the shared store, so that an import is one snapshot); `before_commit(con, import_id)` runs
    last inside it (the lake labels its snapshot)."""
    def prepare() -> None:
        ensure_schema(con, shared)
        geo.backfill_store(con)  # rows of a store written before communes were resolved at import
        _upgrade_layout(con)

    if not shared:  # on the copy, before the transaction: the queries below read through cursors, which see only
        prepare()   # what is committed (a store written before `person_key` gets it first)
    run(con, f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
    run(con, "SET enable_progress_bar = false")
    # the embedded store works on a copy of the file, discarded unless the whole import succeeds: its rows can be
    # committed before the read tables are built (DuckDB reads them about three times faster once committed; 4 s of
    # CPU at a million persons); the shared store's import stays one transaction, its snapshot
    return _apply_staged(con, extract, prepare if shared else None, before_commit, commit_rows=not shared)


def _apply_staged(con: duckdb.DuckDBPyConnection, extract: Extract, prepare=None, before_commit=None,
                  commit_rows: bool = False) -> ImportResult:
    people, by_row = _stage_people(con, extract)
    counts = extract.counts
    run(con, "BEGIN TRANSACTION")
    try:
        if prepare is not None:  # the lake: a new lake's tables are created in the import's snapshot
            prepare()
        import_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0]
        cols = ", ".join(S.PARTICIPANTS.names + ["epci"])
        join = " AND ".join(f"o.{k} = n.{k}" for k in KEY)
        stats = con.execute(f"""
            SELECT
              count(*) FILTER (WHERE o.id_participant IS NULL)::BIGINT AS n_new,
              count(*) FILTER (WHERE o.id_participant IS NOT NULL AND row({', '.join('o.' + c for c in S.PARTICIPANTS.names)})
                                   IS DISTINCT FROM row({', '.join('n.' + c for c in S.PARTICIPANTS.names)}))::BIGINT AS n_updated,
              count(*) FILTER (WHERE n.date_entree IS NOT NULL AND (o.id_participant IS NULL OR o.date_entree IS NULL))::BIGINT AS new_entries,
              count(*) FILTER (WHERE n.date_sortie IS NOT NULL AND (o.id_participant IS NULL OR o.date_sortie IS NULL))::BIGINT AS new_exits,
              count(*)::BIGINT AS n_people
            FROM {people} n LEFT JOIN participants o ON {join}""").fetchall()[0]
        n_new, n_updated, new_entries, new_exits, n_people = stats
        if n_people - n_new:  # persons already stored: replaced (none in a first import)
            run(con, f"DELETE FROM participants o WHERE EXISTS (SELECT 1 FROM {people} n WHERE {join})")
        run(con, f"INSERT INTO participants ({cols}, person_key, import_id) SELECT {cols}, person_key, {import_id} FROM {people}")
        for name in ("rendez_vous", "immersions"):
            if name not in extract.tables:
                continue
            # the persons of the snapshot keep their keys: their rows are found by key
            if n_people - n_new:
                run(con, f"DELETE FROM {name} WHERE person_key IN (SELECT person_key FROM {people})")
            # each row takes its person's key, through its person's row in participants (`__pord`, found at
            # validation: ids are unique in an extract, and all known)
            if name == "rendez_vous":
                # in the extract's order: sorting millions of rows would cost a sixth of the import, and the
                # unfiltered reads go to `rendez_vous_daily` below
                names = [c.name for c in S.RENDEZ_VOUS.columns if c.name != "id_participant"]
                if by_row:
                    run(con, f"""INSERT INTO rendez_vous (person_key, {', '.join(names)})
                                 SELECT t.__pord + 1, {', '.join('t.' + c for c in names)} FROM {_staged(extract, name)} t""")
                else:
                    run(con, f"""INSERT INTO rendez_vous (person_key, {', '.join(names)})
                                 SELECT n.person_key, {', '.join('t.' + c for c in names)}
                                 FROM {_staged(extract, name)} t JOIN {people} n ON n.__ord = t.__pord""")
            else:  # in date order, so that range scans skip row groups
                names = S.IMMERSIONS.names
                run(con, f"""INSERT INTO immersions (action, territoire, {', '.join(names)}, person_key)
                             SELECT n.action, n.territoire, {', '.join('t.' + c for c in names)}, n.person_key
                             FROM {_staged(extract, name)} t JOIN {people} n ON n.__ord = t.__pord ORDER BY t.date_debut""")
        if commit_rows:
            run(con, "COMMIT")
            run(con, "BEGIN TRANSACTION")
        build_read_tables(con)
        __import__("analytics.typology").typology.refit(con)  # the typology of the publics (analytics/typology)
        run(
            con, "INSERT INTO imports (import_id, imported_at, file_name, content_hash, status, n_participants, n_rendez_vous, "
                 "n_immersions, n_new, n_updated, n_unchanged, new_entries, new_exits, columns, dropped_columns, profile) "
                 "VALUES (?, ?, ?, ?, 'importé', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [import_id, datetime.now().replace(microsecond=0), extract.source, extract.content_hash,
             counts.get("participants", 0), counts.get("rendez_vous", 0), counts.get("immersions", 0),
             n_new, n_updated, n_people - n_new - n_updated, new_entries, new_exits,
             json.dumps(extract.columns_present, ensure_ascii=False), json.dumps(extract.dropped_columns, ensure_ascii=False),
             getattr(extract, "profile", None)],
        )
        if before_commit is not None:
            before_commit(con, import_id)
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return ImportResult("importé", extract.source, extract.content_hash, counts, n_new, n_updated,
                        n_people - n_new - n_updated, new_entries, new_exits,
                        extract.dropped_columns, extract.ignored_columns, import_id)


def build_read_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build what the engine reads, from the whole tables (module docstring): `value_codes`, `participants_coded`
    (with each person's `immersions_before_exit`), `rendez_vous_by_filters` and `rendez_vous_daily`."""
    run(con, "CREATE OR REPLACE TABLE value_codes AS " + " UNION ALL ".join(
        f"""SELECT '{c}' AS column_name, (row_number() OVER (ORDER BY v) - 1)::UINTEGER AS code, v AS value
            FROM (SELECT DISTINCT {c} AS v FROM participants WHERE {c} IS NOT NULL)""" for c in CODED_COLUMNS))
    plain = [c for c in READ_COLUMNS if c not in TEXT_COLUMNS]
    joins = " ".join(f"LEFT JOIN (SELECT code, value FROM value_codes WHERE column_name = '{c}') k_{c} ON k_{c}.value = p.{c}"
                     for c in CODED_COLUMNS)
    # each code in the narrowest integer type its column's values allow (less to move, quicker to turn into an Enum)
    sizes = dict(run(con, "SELECT column_name, count(*) FROM value_codes GROUP BY ALL"))
    width = {c: "UTINYINT" if sizes.get(c, 0) <= 256 else "USMALLINT" if sizes[c] <= 65536 else "UINTEGER" for c in CODED_COLUMNS}
    # the immersions begun on or before the person's exit date (`indicators.base.immersions_before_exit_counts`)
    before_exit = """LEFT JOIN (SELECT i.person_key, count(*)::BIGINT AS n FROM immersions i
                                JOIN participants q ON q.person_key = i.person_key AND i.date_debut <= q.date_sortie
                                GROUP BY ALL) ib ON ib.person_key = p.person_key"""
    # span_end: the last day of a period that can concern the person (`indicators.base.load_dataset`), +infinity while
    # they are in the action; the rows are stored in its order, so that a period skips the row groups of the persons
    # whose part ended before it: a call costs what the period's persons cost, not the whole history
    run(con, f"""CREATE OR REPLACE TABLE participants_coded AS
                 SELECT p.person_key AS pid, {', '.join('p.' + c for c in plain)}, {', '.join(f'k_{c}.code::{width[c]} AS {c}' for c in CODED_COLUMNS)},
                        coalesce(ib.n, 0)::BIGINT AS {IMMERSIONS_BEFORE_EXIT},
                        greatest(p.date_prescription, p.date_premier_rdv,
                                 CASE WHEN p.date_entree IS NOT NULL THEN coalesce(p.date_sortie, DATE '9999-12-31') END) AS span_end
                 FROM participants p {joins} {before_exit} ORDER BY span_end""")
    # appointments per day, modality, presence and the coded filter columns of their person (a few hundred thousand
    # rows at a million persons): what the figures on appointments read with filters; and per day, modality and
    # presence only (a few thousand rows), what they read without
    filters = list(FILTER_COLUMNS.values())
    run(con, f"""CREATE OR REPLACE TABLE rendez_vous_by_filters AS
                 SELECT r.date, r.modalite, r.presence, {', '.join('p.' + c for c in filters)}, count(*)::BIGINT AS n
                 FROM rendez_vous r JOIN participants_coded p ON p.pid = r.person_key GROUP BY ALL ORDER BY r.date""")
    run(con, """CREATE OR REPLACE TABLE rendez_vous_daily AS
                SELECT date, modalite, presence, sum(n)::BIGINT AS n FROM rendez_vous_by_filters GROUP BY ALL ORDER BY date""")


# ---------------------------------------------------------------- reading

def store_version(path: str | os.PathLike | None = None) -> str | None:
    """Changes whenever an import replaces the file (the lake: commits a snapshot); None when there is no store
    yet. On the lake it names the snapshot, and `connect_readonly(…, version=…)` pins a reader to it."""
    p = db_path(path)
    if is_shared(p):
        snapshot = p.latest_snapshot() if p.exists() else None
        return None if snapshot is None else f"snapshot-{snapshot}"
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def connect_readonly(path: str | os.PathLike | None = None, as_of: int | None = None,
                     version: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store as it is now, or as it was right after import `as_of`.

    DuckDB shares one database instance per path within a process, so `connect(path)` would keep
    serving the replaced file while any older connection is open. Attaching the file to a fresh
    in-memory database opens the current file every time. On the lake the connection is pinned to one
    snapshot: `version` (a `store_version()`), else the latest, so that everything read through it is consistent.
    """
    p = db_path(path)
    if not p.exists():
        raise FileNotFoundError(str(p))
    if is_shared(p):
        if as_of is not None:
            snapshot = _lake_snapshot_of(p, as_of)
        else:
            snapshot = int(version.split("-")[1]) if version and version.startswith("snapshot-") else p.latest_snapshot()
        if not os.environ.get("COACHING_LAKE_CACHE"):
            return p.connect(snapshot=snapshot)
        # opt-in: read a local copy of the snapshot (analytics/lake.py, `Lake.replica`)
        p = p.replica(snapshot, os.environ["COACHING_LAKE_CACHE"])
    elif as_of is not None:
        p = _file_as_of(p, as_of)
    con = duckdb.connect(":memory:")
    literal = str(p.resolve()).replace("'", "''")
    run(con, f"ATTACH '{literal}' AS store (READ_ONLY)")
    run(con, "USE store")
    return con


def _check_as_of(as_of: int, known: list[int]) -> None:
    if as_of not in known:
        last = max(known) if known else None
        raise HistoryError(f"import n° {as_of} inconnu : " + (f"les imports vont de 1 à {last} (voir « coaching history »)"
                                                             if last else "la base n'a encore reçu aucun import"))


def _lake_snapshot_of(lake: Lake, as_of: int) -> int:
    snapshots = lake.import_snapshots()
    if as_of not in snapshots:
        con = lake.connect()
        try:
            _check_as_of(as_of, [n for (n,) in run(con, "SELECT import_id FROM imports WHERE status = 'importé'")])
        finally:
            con.close()
        raise HistoryError(f"l'état de la base après l'import n° {as_of} n'est pas retrouvé dans le catalogue")
    return snapshots[as_of]


def _file_as_of(path: Path, as_of: int) -> Path:
    """The store file as it was right after import `as_of` (the current file if it is the last one)."""
    con = duckdb.connect(":memory:")
    try:
        literal = str(path.resolve()).replace("'", "''")
        run(con, f"ATTACH '{literal}' AS store (READ_ONLY)")
        known = [n for (n,) in run(con, "SELECT import_id FROM store.imports WHERE status = 'importé'")]
    finally:
        con.close()
    _check_as_of(as_of, known)
    if as_of == max(known):
        return path
    kept = history_dir(path) / f"import-{as_of}.duckdb"
    if not kept.exists():
        raise HistoryError(f"l'état de la base après l'import n° {as_of} n'a pas été conservé "
                           f"(import antérieur à l'historique des imports, ou fichier {kept.name} supprimé)")
    return kept


def current_import(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The last import of what `con` reads (number, time, source file): what every report states."""
    rows = query(con, "SELECT import_id, imported_at, file_name FROM imports WHERE status = 'importé' ORDER BY import_id DESC LIMIT 1")
    return rows.row(0, named=True) if rows.height else None


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor on the same database; on a `connect_readonly` connection it points at the store too
    (a cursor does not inherit `USE`)."""
    cur = con.cursor()
    if run(cur, "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'store'")[0][0]:
        run(cur, "USE store")
    return cur


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """One cursor per query (DuckDB 2.0 refuses a query while another result is pending)."""
    cur = cursor(con)
    try:  # through an Arrow table: a fifth quicker than `.pl()` on 300 000 rows of 26 columns. `execute`, not the
        # relation API: on DuckDB 1.5.5 `cur.sql(sql, params=…)` made the year's person query cost 2.6 s of CPU at
        # 1 000 000 persons instead of 0.06 s (measured; the parameters' filter no longer skipped row groups)
        return pl.from_arrow(cur.execute(sql, params or []).to_arrow_table())
    finally:
        cur.close()


def collected_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Columns present in at least one successful import, per table (an absent one is "non collecté")."""
    out: dict[str, set[str]] = {name: set() for name in S.TABLES}
    for (cols,) in query(con, "SELECT columns FROM imports WHERE status = 'importé'").iter_rows():
        for table, names in json.loads(cols or "{}").items():
            out.setdefault(table, set()).update(names)
    return out


def import_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return query(con, "SELECT * FROM imports ORDER BY import_id DESC")


# ---------------------------------------------------------------- refused imports

def refused_journal_path(path: str | os.PathLike | None = None) -> Path:
    p = db_path(path)
    if is_shared(p):  # beside the lake's data files when they are a folder, else in the working folder
        folder = Path(p.data_path) if p.data_path and "://" not in p.data_path else Path(".")
        return folder / "coaching-refused.jsonl"
    return p.with_name(p.name + ".refused.jsonl")


def record_refused(path: str | os.PathLike | None, file_name: str, content_hash: str | None, n_problems: int) -> None:
    """Journal a refused import beside the store (the database file itself stays untouched).

    Only the file name, its hash, the time and the number of problems: never a value of the file.
    """
    journal = refused_journal_path(path)
    journal.parent.mkdir(parents=True, exist_ok=True)
    entry = {"imported_at": datetime.now().replace(microsecond=0).isoformat(), "file_name": file_name,
             "content_hash": content_hash, "status": "refusé", "n_problems": n_problems}
    with open(journal, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def refused_imports(path: str | os.PathLike | None = None) -> pl.DataFrame:
    journal = refused_journal_path(path)
    schema = {"imported_at": pl.String, "file_name": pl.String, "content_hash": pl.String, "status": pl.String, "n_problems": pl.Int64}
    if not journal.exists():
        return pl.DataFrame(schema=schema)
    rows = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pl.DataFrame(rows, schema=schema)
