"""The audit log: who did what, when, with which filters — never any person's data.

One JSON object per line in `audit.jsonl` beside the store (`<store folder>/<store name>.audit.jsonl`, or
`$COACHING_AUDIT`; git-ignored), appended with one `write` per event:

    {"at": "2024-05-02T10:00:00+02:00", "user": "alice", "role": "analyste", "event": "export",
     "period": {"from": "2023-01-01", "to": "2023-12-31"}, "filters": {"territoire": ["Vimeu"]},
     "detail": {"format": "xlsx", "diffusion": 11}}

Events: `login` (one per authentication), `login_failed` (a wrong password), `login_refused` (`reason`: `no_role`,
`provider` — refused or given up at the OpenID Connect provider —, `locked`), `lockout` (an account or a client
address locked after too many failures; `minutes`), `logout`, `import`, `export`, `user_add`, `user_remove`,
`user_unlock`. What may go in:
the user's name and role, the period, the filters (names of communes, prescribers, territories, actions —
not persons) and a `detail` of scalars from a closed list of keys (`DETAIL_KEYS`): file names, formats,
statuses and the numbers of rows of an import. Anything else is dropped, so that no identifier or
attribute of a person can reach the log.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime
from pathlib import Path

ENV_AUDIT = "COACHING_AUDIT"
EVENTS = ("login", "login_failed", "login_refused", "lockout", "logout", "import", "export", "user_add", "user_remove",
          "user_unlock")
DETAIL_KEYS = {"format", "report", "table", "files", "status", "rows", "diffusion", "method", "reason", "target_user",
               "target_role", "source", "page", "provider", "minutes"}
FILTER_KEYS = ("commune", "prescripteur", "territoire", "action", "epci")


def audit_path(db: str | Path | None = None) -> Path:
    """`$COACHING_AUDIT`, else beside the store: data/coaching.duckdb → data/coaching.audit.jsonl."""
    if os.environ.get(ENV_AUDIT):
        return Path(os.environ[ENV_AUDIT])
    from analytics.store import db_path, is_shared, refused_journal_path

    store = db_path(db)
    if is_shared(store):  # beside the lake's data files (or in the working folder), like the refused imports
        return refused_journal_path(store).with_name("coaching.audit.jsonl")
    return store.with_name(store.stem + ".audit.jsonl")


def _scalar(value):
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    return str(value)[:200]


def _detail(detail: dict | None) -> dict:
    out = {}
    for key, value in (detail or {}).items():
        if key not in DETAIL_KEYS:
            continue
        if isinstance(value, (list, tuple)):
            out[key] = [_scalar(v) for v in value][:50]
        elif isinstance(value, dict):
            out[key] = {str(k)[:60]: _scalar(v) for k, v in value.items() if not isinstance(v, (dict, list))}
        else:
            out[key] = _scalar(value)
    return out


def _filters(filters) -> dict:
    if filters is None:
        return {}
    data = filters.as_json() if hasattr(filters, "as_json") else dict(filters)
    return {k: [str(v) for v in data[k]] for k in FILTER_KEYS if data.get(k)}


def record(event: str, user: str | None = None, role: str | None = None, *, period=None, filters=None,
           detail: dict | None = None, db: str | Path | None = None, path: str | Path | None = None) -> dict:
    """Append one event to the audit log; returns the line written. A log that cannot be written raises OSError."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    entry = {"at": datetime.now().astimezone().isoformat(timespec="seconds"),
             "user": _scalar(user) if user else f"local:{_os_user()}", "role": role or ("local" if not user else None),
             "event": event}
    if period is not None:
        entry["period"] = period.as_json() if hasattr(period, "as_json") else period
    if filters is not None:
        entry["filters"] = _filters(filters)
    if detail:
        entry["detail"] = _detail(detail)
    p = Path(path) if path else audit_path(db)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return entry


def read(path: str | Path | None = None, db: str | Path | None = None) -> list[dict]:
    p = Path(path) if path else audit_path(db)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "inconnu"


__all__ = ["EVENTS", "audit_path", "read", "record"]
