"""A throw-away nginx reverse proxy for the tests (Debian's `nginx` package), configured by the deployment's own
file `deploy/nginx/coaching.conf`: only its `listen` port, its `server` lines and its log path are replaced.
Listens on 127.0.0.1 only; everything it writes stays in a temporary folder, removed on exit."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx" / "coaching.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(port: int, upstreams: list[str], access_log: Path) -> str:
    """The deployment file with this test's port, dashboard servers and log path."""
    text = SITE.read_text(encoding="utf-8")
    servers = "".join(f"    server {u};\n" for u in upstreams)
    text, n_servers = re.subn(r"(?m)^    server dashboard-\d+:\d+;.*\n", "", text)
    text = text.replace("    ip_hash;", "    ip_hash;\n" + servers.rstrip("\n"), 1) if n_servers else text
    text, n_listen = re.subn(r"(?m)^(\s*)listen \d+;", rf"\g<1>listen 127.0.0.1:{port};", text)
    text, n_log = re.subn(r"access_log \S+ coaching;", f"access_log {access_log} coaching;", text)
    assert n_servers >= 1 and n_listen == 1 and n_log == 1, "deploy/nginx/coaching.conf changed shape"
    return text


@contextlib.contextmanager
def proxy(upstreams: list[str]):
    """nginx in front of `upstreams` ("127.0.0.1:PORT"); yields (base URL, access log path)."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian package `nginx`; .ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="coaching-nginx-"))
    port = _free_port()
    log = root / "access.log"
    (root / "coaching.conf").write_text(site_config(port, upstreams, log), encoding="utf-8")
    temp = "".join(f"    {k}_temp_path {root / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (root / "nginx.conf").write_text(
        f"worker_processes 1;\npid {root / 'nginx.pid'};\nerror_log {root / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n{temp}    include {root / 'coaching.conf'};\n}}\n", encoding="utf-8")
    proc = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()} {(root / 'error.log').read_text() if (root / 'error.log').exists() else ''}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer within 30 s")
            time.sleep(0.2)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def upstreams_used(log: Path, since: int = 0) -> list[tuple[str, str, str]]:
    """(request line, status, upstream address) of each request logged after line `since`."""
    rows = []
    for line in log.read_text(encoding="utf-8").splitlines()[since:]:
        m = re.search(r'"([^"]*)" (\d{3}) upstream=(.+)$', line)
        if m:
            rows.append(m.groups())
    return rows
