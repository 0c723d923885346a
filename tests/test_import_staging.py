"""An import's staging folder (analytics.staging) never outlives it: removed at the end, on Ctrl-C or SIGTERM at once,
and after a SIGKILL by the next import (its owner is dead). Real `coaching import` processes, really killed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics import staging
from analytics.importer import run_import
from analytics.sample import synthetic_extract, write_extract

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("staging-extract") / "extract"
    write_extract(synthetic_extract(30_000, seed=5), out)
    return out


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    base = tmp_path / "staging-root"
    monkeypatch.setenv("COACHING_STAGING_DIR", str(base))
    return base


def _start(extract: Path, db: Path, root: Path) -> subprocess.Popen:
    # small batches: the validation stages many parts and lasts long enough to be caught in the middle
    env = {**os.environ, "COACHING_STAGING_DIR": str(root), "COACHING_IMPORT_BATCH_ROWS": "2000"}
    return subprocess.Popen([sys.executable, "-m", "analytics.cli", "import", str(extract), "--db", str(db)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_parts(proc: subprocess.Popen, root: Path, timeout: float = 120) -> Path:
    """The staging folder of `proc`, once it holds staged rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"import ended before being killed: {proc.stderr.read().decode()}"
        for folder in root.glob(f"{proc.pid}-*"):
            if list(folder.glob("rendez_vous-*.parquet")):
                return folder
        time.sleep(0.02)
    raise AssertionError("no staged rows seen")


def test_a_staging_folder_records_its_owner_and_goes_with_the_extract(root):
    from analytics.extract import load_extract

    ext = load_extract(SAMPLE)
    folder = Path(ext.staging)
    assert folder.parent == root
    owner = json.loads((folder / staging.OWNER).read_text())
    assert owner["pid"] == os.getpid() and staging.alive(owner["pid"], owner["start"])
    assert len(ext.tables["participants"]) > 0
    ext.close()
    assert not folder.exists()


def test_sweep_removes_folders_of_dead_or_recycled_owners_only(root):
    root.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folders = {}
    for name, owner in {"dead": {"pid": int(dead.stdout), "start": None},
                        "recycled": {"pid": os.getpid(), "start": "1"},  # our pid, but another start time
                        "mine": {"pid": os.getpid(), "start": staging._start_time(os.getpid())}}.items():
        folders[name] = root / name
        folders[name].mkdir()
        (folders[name] / staging.OWNER).write_text(json.dumps(owner))
        (folders[name] / "participants-000000.parquet").write_bytes(b"x")
    fresh = root / "being-created"  # no owner file yet: left alone (grace period)
    fresh.mkdir()
    old = root / "ownerless-old"
    old.mkdir()
    os.utime(old, (time.time() - 2 * staging.GRACE_SECONDS,) * 2)
    removed = staging.sweep(root)
    assert sorted(p.name for p in removed) == ["dead", "ownerless-old", "recycled"]
    assert sorted(p.name for p in root.iterdir()) == ["being-created", "mine"]


def test_sigkill_leaves_a_folder_that_the_next_import_removes(extract, root, tmp_path):
    db = tmp_path / "store.duckdb"
    proc = _start(extract, db, root)
    folder = _wait_for_parts(proc, root)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert folder.exists()  # nobody could clean up
    assert not db.exists()
    result = run_import(SAMPLE, db)
    assert result.status == "importé"
    assert not folder.exists()
    assert list(root.iterdir()) == []  # and this import's own folder is gone too


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_or_ctrl_c_cleans_up_at_once_and_leaves_the_store_as_it_was(extract, root, tmp_path, sig, code):
    db = tmp_path / "store.duckdb"
    run_import(SAMPLE, db)
    before = sha(db)
    proc = _start(extract, db, root)
    folder = _wait_for_parts(proc, root)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert proc.returncode == code, err
    assert "Import interrompu : la base n'a pas été modifiée." in err
    assert "Traceback" not in err
    assert not folder.exists()
    assert list(root.iterdir()) == []
    assert sha(db) == before
    assert not list(tmp_path.glob("store.duckdb.tmp-*"))
