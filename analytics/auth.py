"""Users, roles and the territories and actions granted to each (no Streamlit).

Roles:
- `admin`: everything, all territories, imports extracts, manages users;
- `direction`: every figure of every territory, the Données page (no import);
- `analyste`: every figure of the territories (and actions) granted;
- `partenaire`: the granted territories in diffusion mode only (statistical confidentiality forced), no
  row-level data, no Données page, no import.

The local users file is JSON (`data/users.json`, or `$COACHING_USERS`; git-ignored, written with mode 0600):

    {"users": {"alice": {"role": "analyste", "password": "$argon2id$v=19$…", "territories": ["Vimeu"],
                         "actions": ["*"], "created": "2024-05-02T10:00:00"}}}

Passwords are stored as argon2id hashes only (argon2-cffi, its default parameters). A grant of `"*"` means
every territory (action); a role other than admin and direction must be granted at least one territory.

With OpenID Connect (`st.login`, an `[auth]` section in `.streamlit/secrets.toml`), the role and the grants come
from a mapping file (`data/roles.json` or `$COACHING_ROLES`: {"users": {"<email or sub>": {"role", "territories",
"actions"}}}) or, failing that, from the identity token's claims (`roles`/`role`, `territories`, `actions` by
default; see `user_from_claims`).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("admin", "direction", "analyste", "partenaire")
ROLE_LABELS = {"admin": "administrateur", "direction": "direction", "analyste": "analyste", "partenaire": "partenaire"}
ALL = "*"
ENV_USERS, ENV_ROLES = "COACHING_USERS", "COACHING_ROLES"
MIN_PASSWORD = 10
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AuthError(ValueError):
    """A refused user operation (one French line)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    territories: tuple[str, ...] = (ALL,)
    actions: tuple[str, ...] = (ALL,)
    source: str = "local"  # local | oidc

    @property
    def all_territories(self) -> bool:
        return ALL in self.territories

    @property
    def all_actions(self) -> bool:
        return ALL in self.actions

    @property
    def can_import(self) -> bool:
        return self.role == "admin"

    @property
    def can_manage_users(self) -> bool:
        return self.role == "admin"

    @property
    def diffusion_forced(self) -> bool:
        return self.role == "partenaire"

    @property
    def row_level(self) -> bool:
        """May see data about single persons (the Données page: validation reports, completeness)."""
        return self.role in ("admin", "direction")

    def restrict(self, filters):
        """The selection's filters (`analytics.indicators.Filters`) within the grants: the territory and action
        filters are intersected with the grants (values outside them are dropped; an empty result means every
        granted one), so that no URL can widen them."""
        from dataclasses import replace

        out = filters
        for attr, granted, every in (("territory", self.territories, self.all_territories),
                                     ("action", self.actions, self.all_actions)):
            if every:
                continue
            asked = tuple(v for v in getattr(filters, attr) if v in granted)
            out = replace(out, **{attr: asked or tuple(granted)})
        return out

    def describe(self) -> str:
        grants = []
        if not self.all_territories:
            grants.append("territoires : " + ", ".join(self.territories))
        if not self.all_actions:
            grants.append("actions : " + ", ".join(self.actions))
        return f"{self.name} ({ROLE_LABELS.get(self.role, self.role)}" + (f" ; {' ; '.join(grants)}" if grants else "") + ")"


# ---------------------------------------------------------------- the users file


def users_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(ENV_USERS) or ROOT / "data" / "users.json")


def load_users(path: str | Path | None = None) -> dict[str, dict]:
    """{name: record} of the users file; {} when there is none."""
    p = users_path(path)
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8")) if p.suffix != ".toml" else tomllib.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AuthError(f"fichier des utilisateurs illisible : {p} ({exc})") from None
    return dict(data.get("users", {}))


def _write(records: dict, path: Path) -> None:
    if path.suffix == ".toml":
        raise AuthError("le fichier des utilisateurs TOML est en lecture seule : utilisez un fichier .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"users": records}, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _grants(role: str, values: list[str] | tuple[str, ...], what: str) -> list[str]:
    values = [v.strip() for v in values if v and v.strip()]
    if role in ("admin", "direction"):
        return [ALL] if not values else values
    if not values:
        raise AuthError(f"un compte « {role} » doit recevoir au moins un {what} (--{'territory' if what == 'territoire' else 'action'}"
                        f", ou « * » pour tous)")
    return values


def add_user(name: str, role: str, password: str, territories=(), actions=(), path: str | Path | None = None,
             replace: bool = False) -> dict:
    """Create (or with `replace`, update) a user; returns its record (without the hash)."""
    if not NAME.match(name or ""):
        raise AuthError("nom d'utilisateur invalide : lettres, chiffres, « . _ @ - », 64 caractères au plus")
    if role not in ROLES:
        raise AuthError(f"rôle inconnu « {role} » : {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"mot de passe trop court : {MIN_PASSWORD} caractères au moins")
    p = users_path(path)
    records = load_users(p)
    if name in records and not replace:
        raise AuthError(f"l'utilisateur « {name} » existe déjà")
    record = {"role": role, "territories": _grants(role, territories, "territoire"),
              "actions": [ALL] if not [a for a in actions if a.strip()] else [a.strip() for a in actions if a.strip()],
              "created": records.get(name, {}).get("created") or datetime.now().isoformat(timespec="seconds"),
              "password": _hasher().hash(password)}
    records[name] = record
    _write(records, p)
    return {k: v for k, v in record.items() if k != "password"}


def remove_user(name: str, path: str | Path | None = None) -> None:
    p = users_path(path)
    records = load_users(p)
    if name not in records:
        raise AuthError(f"utilisateur inconnu « {name} »")
    del records[name]
    _write(records, p)


def _user(name: str, record: dict, source: str = "local") -> User:
    return User(name, record["role"], tuple(record.get("territories") or (ALL,)), tuple(record.get("actions") or (ALL,)), source)


def list_users(path: str | Path | None = None) -> list[User]:
    return [_user(name, record) for name, record in sorted(load_users(path).items())]


# a hash to verify against when the name is unknown: the answer takes as long as for a known name
_DUMMY: list[str] = []


def authenticate(name: str, password: str, path: str | Path | None = None) -> User | None:
    """The user if `password` is theirs (argon2 verify), else None. Rehashes a hash made with older parameters."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    p = users_path(path)
    records = load_users(p)
    record = records.get(name or "")
    ph = _hasher()
    if record is None or record.get("role") not in ROLES:
        if not _DUMMY:
            _DUMMY.append(ph.hash("coaching-emploi-dummy-password"))
        try:
            ph.verify(_DUMMY[0], password or "")
        except VerificationError:
            pass
        return None
    try:
        ph.verify(record.get("password", ""), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if ph.check_needs_rehash(record["password"]) and p.suffix != ".toml":
        record["password"] = ph.hash(password)
        _write(records, p)
    return _user(name, record)


# ---------------------------------------------------------------- OpenID Connect


def roles_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(ENV_ROLES) or ROOT / "data" / "roles.json")


def load_role_mapping(path: str | Path | None = None) -> dict[str, dict]:
    p = roles_path(path)
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")).get("users", {}))


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def user_from_claims(claims: dict, mapping: dict | None = None, role_claim: str = "roles",
                     territory_claim: str = "territories", action_claim: str = "actions") -> User | None:
    """The user of an OpenID Connect identity (`st.user`): from the mapping file by e-mail (or `sub`) first, else
    from the claims (the first known role of `role_claim`, or of `role`); None when no role is granted."""
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "")
    mapping = mapping or {}
    record = mapping.get(name) or mapping.get(str(claims.get("sub") or ""))
    if record:
        if record.get("role") not in ROLES:
            return None
        try:
            territories = _grants(record["role"], _as_list(record.get("territories")), "territoire")
        except AuthError:
            return None
        return User(name, record["role"], tuple(territories), tuple(_as_list(record.get("actions")) or [ALL]), "oidc")
    roles = [r for r in _as_list(claims.get(role_claim)) + _as_list(claims.get("role")) if r in ROLES]
    if not name or not roles:
        return None
    role = min(roles, key=ROLES.index)  # the strongest role listed
    try:
        territories = _grants(role, _as_list(claims.get(territory_claim)), "territoire")
    except AuthError:
        return None
    return User(name, role, tuple(territories), tuple(_as_list(claims.get(action_claim)) or [ALL]), "oidc")


# ---------------------------------------------------------------- what is configured


SECRETS = [ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def oidc_configured(secrets_files: list[Path] | None = None) -> bool:
    """An `[auth]` section in a Streamlit secrets file (what `st.login` reads)."""
    for p in secrets_files or SECRETS:
        try:
            if p.exists() and "auth" in tomllib.loads(p.read_text(encoding="utf-8")):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def mode(path: str | Path | None = None, secrets_files: list[Path] | None = None) -> str:
    """`oidc` (an [auth] section), `local` (a users file with at least one user) or `none` (single-user local mode)."""
    if oidc_configured(secrets_files):
        return "oidc"
    try:
        return "local" if load_users(path) else "none"
    except AuthError:
        return "local"  # an unreadable users file must not open the app to everyone: the login then refuses


__all__ = ["ALL", "ROLES", "AuthError", "User", "add_user", "authenticate", "list_users", "load_role_mapping", "load_users",
           "mode", "oidc_configured", "remove_user", "user_from_claims", "users_path"]
