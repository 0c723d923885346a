"""Staging folders of imports: where the validated rows of an extract wait (lz4 Parquet, `analytics.extract`) until
the store imports them.

Every folder lives under one known root (`root()`: `$COACHING_STAGING_DIR`, else `<temp dir>/coaching-import`) and
records its owner (`owner.json`: process id and the process's start time, so that a recycled pid is not mistaken
for the owner). An import removes its folder when it ends, is refused, fails or is interrupted (Ctrl-C, or SIGTERM:
the command line turns it into an exit); a process killed outright (SIGKILL, power cut) cannot, so every new
staging folder first sweeps the root (`sweep`): the folders whose owner is gone are removed. Nothing grows with
the number of killed imports.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

OWNER = "owner.json"
# a folder without its owner file is being created (the file is written right after the folder): left alone this long
GRACE_SECONDS = 3600.0
LEGACY_PREFIX = "coaching-import-"  # folders of earlier versions, directly in the temp dir (owner unknown)
LEGACY_AGE_SECONDS = 24 * 3600.0


def root() -> Path:
    return Path(os.environ.get("COACHING_STAGING_DIR") or Path(tempfile.gettempdir()) / "coaching-import")


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux: field 22 of /proc/<pid>/stat, in clock ticks since boot); None elsewhere or
    when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # fields after the command name, which may hold spaces


def alive(pid: int, start: str | None = None) -> bool:
    """Whether process `pid` runs, and is the one started at `start` (when known)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    if start is not None:
        now = _start_time(pid)
        if now is not None and now != start:
            return False  # the pid was given to another process since
    return True


def new_folder() -> Path:
    """A new staging folder owned by this process (stale folders of dead imports are removed first)."""
    base = root()
    sweep(base)
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
    (folder / OWNER).write_text(json.dumps({"pid": os.getpid(), "start": _start_time(os.getpid())}))
    return folder


def remove_own(base: Path | None = None) -> list[Path]:
    """Remove every staging folder of this process: the last word of an interrupted import (Ctrl-C, SIGTERM), whatever
    the point the interruption reached (its own clean-up may have been cut short by it)."""
    base = root() if base is None else base
    removed = []
    for folder in (base.glob(f"{os.getpid()}-*") if base.is_dir() else []):
        try:
            owner = json.loads((folder / OWNER).read_text())
        except (OSError, ValueError):
            owner = {"pid": os.getpid()}  # named after this pid and without a readable owner: being created by it
        if owner.get("pid") == os.getpid():
            for _ in range(3):  # a file still being written when the tree was removed: once more
                shutil.rmtree(folder, ignore_errors=True)
                if not folder.exists():
                    break
            removed.append(folder)
    return removed


def sweep(base: Path | None = None) -> list[Path]:
    """Remove the staging folders whose owning process is gone (and, in the temp dir, the ownerless folders of
    earlier versions untouched for a day); returns those removed."""
    base = root() if base is None else base
    removed = []
    now = time.time()
    for folder in (base.iterdir() if base.is_dir() else []):
        if not folder.is_dir():
            continue
        try:
            owner = json.loads((folder / OWNER).read_text())
            stale = not alive(int(owner["pid"]), owner.get("start"))
        except FileNotFoundError:
            stale = now - folder.stat().st_mtime > GRACE_SECONDS
        except (OSError, ValueError, KeyError, TypeError):  # unreadable owner file: judged by its age
            stale = now - folder.stat().st_mtime > GRACE_SECONDS
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in Path(tempfile.gettempdir()).glob(f"{LEGACY_PREFIX}*"):
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > LEGACY_AGE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    return removed
