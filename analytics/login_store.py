"""The login's server-side memory, shared by every session and process of the dashboard (no Streamlit).

A small SQLite file beside the users file (`data/users.json` → `data/users.login.sqlite`, or `$COACHING_LOGIN_STORE`;
git-ignored, mode 0600). SQLite's own locking makes it safe for several processes: every change is one
`BEGIN IMMEDIATE` transaction. It holds:

- **failed logins** (`failures`): one row per failed local login, with the account and the client address when
  Streamlit gives it. After `attempts` failures of an account within `window` minutes, the account is locked for
  `lock` minutes (`locks`); the same after `address_attempts` failures from one address, whatever the accounts
  (password spraying). While locked, the password is not even checked. A successful login clears the account's
  failures; `coaching user unlock NAME` lifts a lock. Defaults 5 / 15 min / 15 min (address: 20), set by
  `$COACHING_LOCKOUT_ATTEMPTS`, `$COACHING_LOCKOUT_WINDOW_MIN`, `$COACHING_LOCKOUT_MIN`,
  `$COACHING_LOCKOUT_ADDRESS_ATTEMPTS`.
- **the links asked for before an OpenID Connect login** (`links`): Streamlit's callback always returns to the
  root in a new browser session, so the page and query string of a shared link are kept here under a random token
  that the browser carries in a short-lived cookie, and restored once, within `LINK_TTL_S`.
- **the authentications already recorded** (`logins`): an OpenID Connect identity cookie opens many browser
  sessions; the audit log gets one `login` per authentication (identity token issued), not one per session.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

ENV_STORE = "COACHING_LOGIN_STORE"
ENV_ATTEMPTS, ENV_WINDOW, ENV_LOCK, ENV_ADDRESS_ATTEMPTS = ("COACHING_LOCKOUT_ATTEMPTS", "COACHING_LOCKOUT_WINDOW_MIN",
                                                            "COACHING_LOCKOUT_MIN", "COACHING_LOCKOUT_ADDRESS_ATTEMPTS")
LINK_TTL_S = 15 * 60
TOKEN_LENGTH = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (account TEXT NOT NULL, address TEXT, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_account ON failures (account, at);
CREATE INDEX IF NOT EXISTS failures_address ON failures (address, at);
CREATE TABLE IF NOT EXISTS locks (kind TEXT NOT NULL, key TEXT NOT NULL, until REAL NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS links (token TEXT PRIMARY KEY, page TEXT NOT NULL, query TEXT NOT NULL, provider TEXT,
                                  started REAL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS logins (key TEXT PRIMARY KEY, at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Policy:
    attempts: int = 5
    window_s: float = 15 * 60
    lock_s: float = 15 * 60
    address_attempts: int = 20

    @classmethod
    def from_env(cls) -> Policy:
        def number(name: str, default: float) -> float:
            try:
                value = float(os.environ.get(name, ""))
            except ValueError:
                return default
            return value if value > 0 else default

        return cls(int(number(ENV_ATTEMPTS, 5)), number(ENV_WINDOW, 15) * 60, number(ENV_LOCK, 15) * 60,
                   int(number(ENV_ADDRESS_ATTEMPTS, 20)))


@dataclass(frozen=True)
class Lock:
    """A lock in force: on an account (`kind` "account") or a client address ("address"), until `until` (epoch s)."""
    kind: str
    key: str
    until: float

    def minutes_left(self, now: float | None = None) -> int:
        return max(1, -int(-(self.until - (now or time.time())) // 60))


def store_path(path: str | Path | None = None, users: str | Path | None = None) -> Path:
    """`path`, else `$COACHING_LOGIN_STORE`, else beside the users file (`users`, `$COACHING_USERS`, data/users.json)."""
    if path:
        return Path(path)
    if os.environ.get(ENV_STORE):
        return Path(os.environ[ENV_STORE])
    from analytics.auth import users_path

    users = users_path(users)
    return users.with_name(users.stem + ".login.sqlite")


@contextmanager
def _db(path: str | Path | None = None, write: bool = False):
    p = store_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists():
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600))
    with closing(sqlite3.connect(p, timeout=30, isolation_level=None)) as con:
        con.execute("PRAGMA busy_timeout = 30000")
        con.executescript(_SCHEMA)
        if write:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
        try:
            yield con
            if write:
                con.execute("COMMIT")
        except BaseException:
            if write and con.in_transaction:
                con.execute("ROLLBACK")
            raise


# ---------------------------------------------------------------- failed logins and locks


def active_lock(account: str, address: str | None = None, *, now: float | None = None,
                path: str | Path | None = None) -> Lock | None:
    """The lock in force on the account or the address, if any (the longest)."""
    now = time.time() if now is None else now
    with _db(path) as con:
        rows = con.execute("SELECT kind, key, until FROM locks WHERE until > ? AND ((kind = 'account' AND key = ?) OR "
                           "(kind = 'address' AND key = ?)) ORDER BY until DESC", (now, account, address or "")).fetchall()
    return Lock(*rows[0]) if rows else None


def record_failure(account: str, address: str | None = None, *, policy: Policy | None = None, now: float | None = None,
                   path: str | Path | None = None) -> Lock | None:
    """Count a failed login; returns the lock it sets off (None while under the thresholds)."""
    policy = policy or Policy.from_env()
    now = time.time() if now is None else now
    since = now - policy.window_s
    with _db(path, write=True) as con:
        con.execute("DELETE FROM failures WHERE at <= ?", (now - max(policy.window_s, 24 * 3600),))
        con.execute("INSERT INTO failures (account, address, at) VALUES (?, ?, ?)", (account, address, now))
        lock = None
        n = con.execute("SELECT count(*) FROM failures WHERE account = ? AND at > ?", (account, since)).fetchone()[0]
        if n >= policy.attempts:
            lock = Lock("account", account, now + policy.lock_s)
        if address:
            m = con.execute("SELECT count(*) FROM failures WHERE address = ? AND at > ?", (address, since)).fetchone()[0]
            if m >= policy.address_attempts:
                lock = Lock("address", address, now + policy.lock_s)
        if lock is not None:
            con.execute("INSERT OR REPLACE INTO locks (kind, key, until) VALUES (?, ?, ?)", (lock.kind, lock.key, lock.until))
            # the count starts again after the lock
            con.execute(f"DELETE FROM failures WHERE {'account' if lock.kind == 'account' else 'address'} = ?", (lock.key,))
    return lock


def failures(account: str, *, policy: Policy | None = None, now: float | None = None, path: str | Path | None = None) -> int:
    """The account's failed logins within the window."""
    policy = policy or Policy.from_env()
    now = time.time() if now is None else now
    with _db(path) as con:
        return con.execute("SELECT count(*) FROM failures WHERE account = ? AND at > ?",
                           (account, now - policy.window_s)).fetchone()[0]


def clear_failures(account: str, path: str | Path | None = None) -> None:
    """After a successful login."""
    with _db(path, write=True) as con:
        con.execute("DELETE FROM failures WHERE account = ?", (account,))


def unlock(account: str, path: str | Path | None = None) -> bool:
    """Lift the account's lock and forget its failures; True if it was locked."""
    now = time.time()
    with _db(path, write=True) as con:
        was = con.execute("SELECT count(*) FROM locks WHERE kind = 'account' AND key = ? AND until > ?",
                          (account, now)).fetchone()[0]
        con.execute("DELETE FROM locks WHERE kind = 'account' AND key = ?", (account,))
        con.execute("DELETE FROM failures WHERE account = ?", (account,))
    return bool(was)


def locks(now: float | None = None, path: str | Path | None = None) -> list[Lock]:
    now = time.time() if now is None else now
    with _db(path) as con:
        return [Lock(*r) for r in con.execute("SELECT kind, key, until FROM locks WHERE until > ? ORDER BY kind, key", (now,))]


# ---------------------------------------------------------------- links asked for before an OpenID Connect login


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_LENGTH)


def remember_link(token: str, page: str, query: str, *, now: float | None = None, path: str | Path | None = None) -> None:
    """The page (url path) and query string a logged-out visitor opened, under the browser's token."""
    now = time.time() if now is None else now
    with _db(path, write=True) as con:
        con.execute("DELETE FROM links WHERE created < ?", (now - LINK_TTL_S,))
        con.execute("INSERT OR REPLACE INTO links (token, page, query, provider, started, created) VALUES (?, ?, ?, NULL, NULL, ?)",
                    (token, page[:200], query[:2000], now))


def start_login(token: str, provider: str, *, now: float | None = None, path: str | Path | None = None) -> None:
    """The visitor left for the provider: a return without identity means the provider refused (or was left)."""
    now = time.time() if now is None else now
    with _db(path, write=True) as con:
        con.execute("UPDATE links SET provider = ?, started = ? WHERE token = ?", (provider, now, token))


def take_link(token: str | None, *, now: float | None = None, path: str | Path | None = None) -> dict | None:
    """The link kept under `token` ({"page", "query", "provider", "started"}) once its browser has left for a
    provider (`start_login`), removed so that it is used once; None when unknown, not started (the login screen is
    still open in another tab) or older than `LINK_TTL_S`."""
    if not token or len(token) > 100:
        return None
    now = time.time() if now is None else now
    with _db(path, write=True) as con:
        row = con.execute("SELECT page, query, provider, started, created FROM links WHERE token = ? AND started IS NOT NULL",
                          (token,)).fetchone()
        con.execute("DELETE FROM links WHERE (token = ? AND started IS NOT NULL) OR created < ?", (token, now - LINK_TTL_S))
    if row is None or row[4] < now - LINK_TTL_S:
        return None
    return {"page": row[0], "query": row[1], "provider": row[2], "started": row[3]}


# ---------------------------------------------------------------- authentications already recorded


def first_time(claims: dict, event: str = "login", *, now: float | None = None, path: str | Path | None = None) -> bool:
    """True the first time an authentication (identity token: subject, issuer, issue time, nonce) is seen for
    `event` (`login`, or `refused` for an identity without a role)."""
    now = time.time() if now is None else now
    parts = [str(claims.get(k, "")) for k in ("iss", "sub", "iat", "nonce", "auth_time", "provider")] + [event]
    if not any(parts[2:5]):  # no issue time nor nonce: cannot tell authentications apart, count per subject and day
        parts.append(time.strftime("%Y-%m-%d", time.localtime(now)))
    key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    with _db(path, write=True) as con:
        con.execute("DELETE FROM logins WHERE at < ?", (now - 40 * 24 * 3600,))  # beyond Streamlit's 30-day cookie
        return con.execute("INSERT OR IGNORE INTO logins (key, at) VALUES (?, ?)", (key, now)).rowcount == 1


__all__ = ["Lock", "Policy", "active_lock", "clear_failures", "failures", "first_time", "locks", "new_token",
           "record_failure", "remember_link", "start_login", "store_path", "take_link", "unlock"]
