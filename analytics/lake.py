"""The shared store: a DuckLake whose catalog lives in PostgreSQL and whose data files live in a folder shared by
the servers (or object storage), SPEC-indicators "Store location".

`--db` / `$COACHING_DB` = `ducklake:postgres:<libpq connection string>`, `--data-path` / `$COACHING_DATA_PATH` =
the data files. The tables, the SQL and the figures are those of the embedded store (analytics/store.py); only
how the store is attached changes:

- DuckDB's `ducklake` and `postgres` extensions are loaded from the signed files of the `duckdb-extension-ducklake`
  and `duckdb-extension-postgres` packages (built for the pinned DuckDB; nothing is downloaded, signatures are
  verified: unsigned extensions are never allowed). On a machine where they are already installed in DuckDB's own
  folder, `LOAD ducklake` is used instead.
- An import is one DuckLake transaction, committed with the message `import N`: a refused or killed import leaves
  the previous snapshot; readers see the new one atomically.
- Two importers never interleave: each holds a PostgreSQL advisory lock on the catalog database for its whole run.
- Readers are pinned to one snapshot (`SNAPSHOT_VERSION`): the dashboard's caches are keyed on it, and
  `--as-of N` attaches the snapshot committed by import N (time travel: the data files of old snapshots are kept).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

PREFIX = "ducklake:postgres:"
LOCK_KEY = 0x636F616368  # "coach": the importers' advisory lock on the catalog database
COMMIT_AUTHOR = "coaching"


class LakeError(Exception):
    """A user-facing problem with the shared store (French message)."""


@dataclass(frozen=True)
class Lake:
    """A shared store location. Quacks like the embedded store's `Path` where callers need it (`exists`,
    `is_absolute`, `str`)."""

    dsn: str
    data_path: str | None = None

    @classmethod
    def parse(cls, location: str, data_path: str | None = None) -> "Lake":
        dsn = location[len(PREFIX):].strip()
        if not dsn:
            raise LakeError("base partagée invalide : indiquer « ducklake:postgres:<chaîne de connexion PostgreSQL> »")
        return cls(dsn, data_path or os.environ.get("COACHING_DATA_PATH") or None)

    def __str__(self) -> str:
        return PREFIX + self.dsn

    def is_absolute(self) -> bool:
        return True

    def exists(self) -> bool:
        """Whether an import has been committed to this lake (its catalog holds the `imports` table)."""
        try:
            with _catalog(self) as pg:
                if pg.execute("SELECT to_regclass('ducklake_table')").fetchone()[0] is None:
                    return False
                return pg.execute("SELECT count(*) FROM ducklake_table WHERE table_name = 'imports' AND end_snapshot IS NULL").fetchone()[0] > 0
        except LakeError:
            raise
        except Exception:
            return False

    # ------------------------------------------------------------------ catalog look-ups (PostgreSQL, no DuckDB)

    def latest_snapshot(self) -> int | None:
        with _catalog(self) as pg:
            if pg.execute("SELECT to_regclass('ducklake_snapshot')").fetchone()[0] is None:
                return None
            return pg.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()[0]

    def import_snapshots(self) -> dict[int, int]:
        """Import number → the snapshot its transaction committed."""
        with _catalog(self) as pg:
            if pg.execute("SELECT to_regclass('ducklake_snapshot_changes')").fetchone()[0] is None:
                return {}
            rows = pg.execute("SELECT snapshot_id, commit_message FROM ducklake_snapshot_changes "
                              "WHERE author = %s AND commit_message LIKE 'import %%'", [COMMIT_AUTHOR]).fetchall()
        return {int(msg.split()[1]): snap for snap, msg in rows}

    # ------------------------------------------------------------------ DuckDB connections

    def connect(self, read_only: bool = True, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the lake attached as `store` (and `USE`d); pinned to `snapshot` if given."""
        con = duckdb.connect(":memory:")
        try:
            load_extensions(con)
            options = []
            if self.data_path:
                options.append(f"DATA_PATH {_literal(self.data_path)}")
            if read_only:
                options.append("READ_ONLY")
            if snapshot is not None:
                options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
            con.execute(f"ATTACH {_literal(str(self))} AS store ({', '.join(options)})").fetchall()
            con.execute("USE store").fetchall()
        except duckdb.Error as exc:
            con.close()
            raise LakeError(f"base partagée inaccessible ({first_line(exc)})") from None
        return con

    def replica(self, snapshot: int, folder: str | os.PathLike) -> Path:
        """A local DuckDB file holding the lake as it is at `snapshot` (`$COACHING_LAKE_CACHE`, opt-in).

        A snapshot never changes, so its copy is made once per machine (under a file lock: the other processes
        wait for it) and then read like the embedded store: every query of a DuckLake reader otherwise reads the
        catalog (bench/RESULTS.md, « Shared store »). The copies of older snapshots are removed when a newer one is
        made, except those named by `keep`."""
        import fcntl
        import hashlib

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tag = hashlib.sha256(self.dsn.encode()).hexdigest()[:12]
        target = folder / f"lake-{tag}-snapshot-{int(snapshot)}.duckdb"
        if target.exists():
            return target
        with open(folder / f".lake-{tag}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if target.exists():
                return target
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            con = self.connect(snapshot=snapshot)
            try:
                con.execute(f"ATTACH {_literal(str(tmp))} AS replica").fetchall()
                con.execute("COPY FROM DATABASE store TO replica").fetchall()
                con.execute("DETACH replica").fetchall()
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            finally:
                con.close()
            os.replace(tmp, target)
            for old in folder.glob(f"lake-{tag}-snapshot-*.duckdb"):
                if old != target and int(old.stem.rsplit("-", 1)[1]) < int(snapshot) - 1:
                    old.unlink(missing_ok=True)  # readers holding it open keep reading it (POSIX)
        return target

    @contextmanager
    def writer_lock(self, wait: float = 3600.0, on_wait=None):
        """One importer at a time on this catalog, whatever the machine: a PostgreSQL session advisory lock, held
        until the import ends (released by the server if the importer dies)."""
        import psycopg

        try:
            pg = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise LakeError(f"catalogue PostgreSQL inaccessible ({first_line(exc)})") from None
        try:
            deadline = time.monotonic() + wait
            told = False
            while not pg.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                if not told and on_wait:
                    on_wait("Un autre import est en cours sur la base partagée : attente de sa fin…")
                    told = True
                if time.monotonic() > deadline:
                    raise LakeError("un autre import est en cours sur la base partagée depuis trop longtemps : réessayer plus tard")
                time.sleep(0.5)
            yield
        finally:
            pg.close()


@contextmanager
def _catalog(lake: Lake):
    import psycopg

    try:
        pg = psycopg.connect(lake.dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise LakeError(f"catalogue PostgreSQL inaccessible ({first_line(exc)})") from None
    try:
        yield pg
    finally:
        pg.close()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _packaged(package: str, name: str) -> Path | None:
    """The signed extension file shipped by a `duckdb-extension-*` package for this DuckDB, copied under the
    name DuckDB expects (the postgres file must be loaded as `postgres_scanner`)."""
    try:
        module = __import__(package)
    except ImportError:
        return None
    found = list(Path(module.__file__).parent.rglob(f"v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        return None
    source = found[0]
    if source.stem == name:
        return source
    folder = Path(tempfile.gettempdir()) / f"coaching-duckdb-extensions-{duckdb.__version__}-{os.getuid()}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.duckdb_extension"
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        tmp = folder / f".{name}.{os.getpid()}"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return target


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    for package, name in (("duckdb_extension_postgres", "postgres_scanner"), ("duckdb_extension_ducklake", "ducklake")):
        path = _packaged(package, name)
        try:
            if path is not None:
                con.execute(f"LOAD {_literal(str(path))}").fetchall()
            else:  # installed in DuckDB's own folder (a machine with internet: INSTALL ducklake)
                con.execute(f"LOAD {name}").fetchall()
        except duckdb.Error as exc:
            raise LakeError(f"extension DuckDB « {name} » indisponible pour DuckDB {duckdb.__version__} "
                            f"(installer le paquet {package.replace('_', '-')}=={duckdb.__version__}) : {first_line(exc)}") from None
