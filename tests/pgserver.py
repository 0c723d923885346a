"""A throw-away PostgreSQL server for the tests and the bench (Debian's `postgresql` package).

`initdb` into a temporary folder as an unprivileged user (PostgreSQL refuses to run as root), listening on
127.0.0.1 only, on a free port, with trust authentication for local TCP connections; `stop()` shuts it down
and removes the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

RUN_AS = "nobody"  # an unprivileged account that exists on every Debian system


def bin_dir() -> Path | None:
    """The PostgreSQL server binaries (the newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="coaching-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "coaching"
        self._demote = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_AS)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
            uid, gid = pw.pw_uid, pw.pw_gid

            def demote():
                os.setgid(gid)
                os.setuid(uid)

            self._demote = demote

    def _run(self, *args: str) -> None:
        subprocess.run([str(self.bindir / args[0]), *args[1:]], check=True, preexec_fn=self._demote,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.root, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})

    def start(self) -> "PgServer":
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "log"), "start",
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200")
        return self

    def create_database(self, name: str) -> str:
        """A new database; returns its libpq connection string."""
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "postgres",
                                "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'], capture_output=True, text=True)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        if r.returncode:
            raise RuntimeError(r.stderr)
        return self.dsn(name)

    def database_size(self, name: str) -> int:
        r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", name, "-tAc",
                            f"SELECT pg_database_size('{name}')"], capture_output=True, text=True, check=True)
        return int(r.stdout.strip())

    def dsn(self, name: str) -> str:
        return f"dbname={name} host=127.0.0.1 port={self.port} user={self.user}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_or_skip() -> PgServer:
    """A started server; skips the test when the PostgreSQL binaries are missing, except under CI=true, where
    the shared store must be tested (`.ci/run` installs them)."""
    import pytest

    bindir = bin_dir()
    if bindir is None:
        message = "PostgreSQL absent (paquet Debian « postgresql ») : tests de la base partagée non lancés"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " alors que CI=true")
        pytest.skip(message)
    return PgServer(bindir).start()


def _fixture():
    import pytest

    @pytest.fixture(scope="session")
    def postgres():
        """A real PostgreSQL server for the session (stopped and removed at the end)."""
        server = start_or_skip()
        try:
            yield server
        finally:
            server.stop()

    return postgres


postgres = _fixture()
