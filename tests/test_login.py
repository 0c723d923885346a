"""Login without a browser: the OpenID Connect providers read from the secrets (`analytics.oidc`), the login
store shared by sessions and processes (`analytics.login_store`: failures, locks, links kept through a provider,
authentications already audited), `coaching user unlock`, the login screens in AppTest, and no import cycle in `ui`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import audit, login_store, oidc
from analytics import auth as A
from analytics.cli import main

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "un-mot-de-passe-solide"
BASE = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "s" * 32}
PROVIDER = {"client_id": "tableau", "client_secret": "secret", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


class MappingOnly:
    """A read-only Mapping, not a dict (as Streamlit's AttrDict is for the `isinstance(v, dict)` check)."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        value = self._data[key]
        return MappingOnly(value) if isinstance(value, dict) else value

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def keys(self):
        return self._data.keys()

    def items(self):
        return [(k, self[k]) for k in self._data]

    def get(self, key, default=None):
        return self[key] if key in self._data else default

    def __contains__(self, key):
        return key in self._data


from collections.abc import Mapping  # noqa: E402

Mapping.register(MappingOnly)


# ---------------------------------------------------------------- providers


def test_named_providers_from_a_mapping_that_is_not_a_dict():
    section = MappingOnly({**BASE, "proconnect": dict(PROVIDER), "entra": {**PROVIDER, "label": "l'Association (Entra)"},
                           "keycloak": dict(PROVIDER)})
    config = oidc.parse(section)
    assert config.problems == ()
    assert [(p.name, p.button) for p in config.providers] == [
        ("proconnect", "Se connecter avec ProConnect"), ("entra", "Se connecter avec l'Association (Entra)"),
        ("keycloak", "Se connecter avec Keycloak")]
    assert config.label("entra") == "l'Association (Entra)" and config.label("nope") == "le fournisseur d'identité"


def test_the_flat_form_is_still_one_provider():
    config = oidc.parse({**BASE, **PROVIDER, "client_kwargs": {"prompt": "login"}})
    assert config.problems == () and config.providers == (oidc.Provider("default", ""),)
    assert config.providers[0].button == "Se connecter"


@pytest.mark.parametrize("section, expected", [
    ({**BASE}, "ne déclare aucun fournisseur"),
    ({"cookie_secret": "x", "proconnect": PROVIDER}, "n'a pas de « redirect_uri »"),
    ({**BASE, "redirect_uri": "http://127.0.0.1:8501/"}, "doit se terminer par « /oauth2callback »"),
    ({**BASE, "proconnect": {"client_id": "x"}}, "[auth.proconnect] : « client_secret », « server_metadata_url » manquants"),
    ({**BASE, "pro_connect": PROVIDER}, "ne doit pas contenir de « _ »"),
    ({**BASE, "entra": {**PROVIDER, "server_metadata_url": "login.microsoftonline.com"}}, "n'est pas une adresse http(s)"),
    ({**BASE, "client_id": "x"}, "Section [auth] : « client_secret », « server_metadata_url » manquants"),
])
def test_a_wrong_configuration_is_said_in_french(section, expected):
    config = oidc.parse(section)
    assert any(expected in p for p in config.problems), config.problems


def test_a_broken_provider_gets_no_button_but_the_others_do():
    config = oidc.parse({**BASE, "proconnect": PROVIDER, "entra": {"client_id": "x"}})
    assert [p.name for p in config.providers] == ["proconnect"] and len(config.problems) == 1
    # a global problem (no cookie secret): no button at all, Streamlit would refuse every login
    assert oidc.parse({"redirect_uri": BASE["redirect_uri"], "proconnect": PROVIDER}).providers == ()


# ---------------------------------------------------------------- failures and locks


def test_five_failures_in_the_window_lock_the_account_for_the_lock_time(tmp_path):
    store = tmp_path / "login.sqlite"
    policy = login_store.Policy(attempts=5, window_s=900, lock_s=900, address_attempts=100)
    t0 = 1_000_000.0
    # four failures, then the window slides past the first two: still not locked at the fifth
    for i in range(4):
        assert login_store.record_failure("ana", "10.0.0.1", policy=policy, now=t0 + i, path=store) is None
    assert login_store.record_failure("ana", "10.0.0.2", policy=policy, now=t0 + 901.5, path=store) is None
    assert login_store.failures("ana", policy=policy, now=t0 + 901.5, path=store) == 3
    assert login_store.record_failure("ana", None, policy=policy, now=t0 + 901.6, path=store) is None  # 4 in the window
    lock = login_store.record_failure("ana", None, policy=policy, now=t0 + 901.7, path=store)  # the 5th
    assert lock == login_store.Lock("account", "ana", t0 + 901.7 + 900)
    assert login_store.active_lock("ana", now=t0 + 901.7 + 899, path=store) == lock
    assert lock.minutes_left(now=t0 + 902) == 15 and lock.minutes_left(now=t0 + 901.7 + 899) == 1
    assert login_store.active_lock("ana", now=t0 + 901.7 + 900, path=store) is None  # over at `until`
    assert login_store.active_lock("bob", now=t0 + 903, path=store) is None  # another account is not locked


def test_one_address_trying_many_accounts_is_locked(tmp_path):
    store = tmp_path / "login.sqlite"
    policy = login_store.Policy(attempts=5, window_s=900, lock_s=600, address_attempts=6)
    for i in range(5):
        assert login_store.record_failure(f"user{i}", "10.9.9.9", policy=policy, now=100.0 + i, path=store) is None
    lock = login_store.record_failure("user5", "10.9.9.9", policy=policy, now=106.0, path=store)
    assert lock == login_store.Lock("address", "10.9.9.9", 706.0)
    assert login_store.active_lock("someone-else", "10.9.9.9", now=200.0, path=store) == lock
    assert login_store.active_lock("someone-else", "10.0.0.1", now=200.0, path=store) is None


def test_success_clears_and_unlock_lifts(tmp_path):
    store = tmp_path / "login.sqlite"
    policy = login_store.Policy(attempts=2, window_s=900, lock_s=900)
    login_store.record_failure("ana", policy=policy, path=store)
    login_store.clear_failures("ana", path=store)
    assert login_store.record_failure("ana", policy=policy, path=store) is None  # the count started again
    assert login_store.record_failure("ana", policy=policy, path=store) is not None
    assert login_store.active_lock("ana", path=store) is not None
    assert login_store.unlock("ana", path=store) is True and login_store.active_lock("ana", path=store) is None
    assert login_store.unlock("ana", path=store) is False


def test_policy_from_the_environment(monkeypatch):
    monkeypatch.setenv(login_store.ENV_ATTEMPTS, "3")
    monkeypatch.setenv(login_store.ENV_WINDOW, "10")
    monkeypatch.setenv(login_store.ENV_LOCK, "60")
    monkeypatch.setenv(login_store.ENV_ADDRESS_ATTEMPTS, "zéro")  # not a number: the default
    assert login_store.Policy.from_env() == login_store.Policy(3, 600, 3600, 20)


FAIL_MANY = """
import sys
from analytics import login_store
policy = login_store.Policy(attempts=10_000, window_s=3600, lock_s=60, address_attempts=10_000)
for _ in range(int(sys.argv[2])):
    login_store.record_failure("ana", "10.0.0.1", policy=policy, path=sys.argv[1])
"""


def test_failures_from_concurrent_processes_are_all_counted(tmp_path):
    """Four processes (plain subprocesses: a multiprocessing pool re-imports the test module in its children,
    which pytest's import mode does not guarantee) record 25 failures each, at the same time."""
    store = tmp_path / "login.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", FAIL_MANY, str(store), "25"], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
             for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    assert login_store.failures("ana", policy=login_store.Policy(window_s=3600), path=store) == 100


# ---------------------------------------------------------------- links and authentications


def test_a_link_is_kept_once_and_not_for_long(tmp_path):
    store = tmp_path / "login.sqlite"
    login_store.remember_link("tok", "freins", "commune=Doullens&commune=Ham", now=1000.0, path=store)
    # another tab of the same browser opens meanwhile: the link is not taken before its login has started
    assert login_store.take_link("tok", now=1000.5, path=store) is None
    login_store.start_login("tok", "proconnect", now=1001.0, path=store)
    assert login_store.take_link("tok", now=1002.0, path=store) == {
        "page": "freins", "query": "commune=Doullens&commune=Ham", "provider": "proconnect", "started": 1001.0}
    assert login_store.take_link("tok", now=1003.0, path=store) is None  # used once
    login_store.remember_link("old", "profils", "", now=1000.0, path=store)
    login_store.start_login("old", "entra", now=1000.0, path=store)
    assert login_store.take_link("old", now=1000.0 + login_store.LINK_TTL_S + 1, path=store) is None
    assert login_store.take_link(None, path=store) is None and login_store.take_link("x" * 500, path=store) is None
    assert len(login_store.new_token()) >= 40 and login_store.new_token() != login_store.new_token()


def test_one_login_per_authentication_not_per_session(tmp_path):
    store = tmp_path / "login.sqlite"
    claims = {"iss": "http://127.0.0.1:9/", "sub": "claire", "iat": 1700000000, "nonce": "n1", "provider": "proconnect"}
    assert login_store.first_time(claims, path=store) is True
    assert login_store.first_time(dict(claims), path=store) is False  # a new browser session, same identity token
    assert login_store.first_time({**claims, "iat": 1700000100, "nonce": "n2"}, path=store) is True  # logged in again
    assert login_store.first_time(claims, "refused", path=store) is True  # another event of the same token


# ---------------------------------------------------------------- coaching user unlock


@pytest.fixture
def users(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    monkeypatch.setenv(A.ENV_USERS, str(path))
    monkeypatch.setenv(audit.ENV_AUDIT, str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv(login_store.ENV_STORE, raising=False)
    return path


def test_coaching_user_unlock(users, capsys):
    A.add_user("ana", "analyste", PASSWORD, ["Vimeu"])
    assert login_store.store_path() == users.with_name("users.login.sqlite")  # beside the users file
    policy = login_store.Policy(attempts=5)
    for _ in range(5):
        login_store.record_failure("ana", policy=policy)
    assert main(["user", "list"]) == 0
    assert "ana\tanalyste\tterritoires : Vimeu\tactions : *\tverrouillé (encore 15 min)" in capsys.readouterr().out
    assert main(["user", "unlock", "ana"]) == 0
    assert "« ana » déverrouillé" in capsys.readouterr().out
    assert login_store.active_lock("ana") is None
    assert main(["user", "unlock", "ana"]) == 0 and "n'était pas verrouillé" in capsys.readouterr().out
    assert [e["event"] for e in audit.read()][-2:] == ["user_unlock", "user_unlock"]


# ---------------------------------------------------------------- the login screens (AppTest)


def _with_accounts(app, tmp_path, monkeypatch):
    users = tmp_path / "users.json"
    A.add_user("ana", "analyste", PASSWORD, ["5 vallées"], path=users)
    monkeypatch.setenv("COACHING_USERS", str(users))
    monkeypatch.setenv("COACHING_AUDIT", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("COACHING_LOCKOUT_ATTEMPTS", "3")
    return app()


def _try(at, name, password):
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(password)
    at.button[0].click().run()
    return at


def test_the_lock_holds_across_sessions_and_the_password_is_not_checked(app, tmp_path, monkeypatch):
    _with_accounts(app, tmp_path, monkeypatch)
    for _ in range(2):  # every try in a fresh session, as a script would
        at = _try(app(), "ana", "mauvais")
        assert [e.value for e in at.error] == ["Identifiant ou mot de passe incorrect."]
    at = _try(app(), "ana", "mauvais")
    assert "Ce compte est verrouillé après trop d'échecs de connexion : réessayez dans 15 minutes" in at.error[0].value
    checked, authenticate = [], A.authenticate
    monkeypatch.setattr(A, "authenticate", lambda *a, **k: checked.append(a) or authenticate(*a, **k))
    at = _try(app(), "ana", PASSWORD)  # the right password, but the account is locked
    assert "verrouillé" in at.error[0].value and not at.metric and checked == []
    events = [(e["event"], e["user"], (e.get("detail") or {}).get("reason")) for e in audit.read(tmp_path / "audit.jsonl")]
    assert events == [("login_failed", "ana", None)] * 3 + [("lockout", "ana", "account_locked"), ("login_refused", "ana", "locked")]
    assert main(["user", "unlock", "ana"]) == 0
    at = _try(app(), "ana", PASSWORD)
    assert not at.error and at.metric  # logged in: the overview's KPI cards


def test_named_providers_each_have_their_button(app, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COACHING_LOGIN_STORE", str(tmp_path / "login.sqlite"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.secrets["auth"] = {**BASE, "proconnect": PROVIDER, "entra": {**PROVIDER, "label": "Microsoft Entra (association)"}}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Se connecter avec ProConnect", "Se connecter avec Microsoft Entra (association)"]
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.secrets["auth"] = {**BASE, "proconnect": {"client_id": "x"}}
    at.run()
    assert not at.exception and not at.button
    assert "Connexion mal configurée : Section [auth.proconnect] : « client_secret », « server_metadata_url » manquants." in [
        e.value for e in at.error]


def test_the_launcher_reads_the_secrets_files_it_is_given(tmp_path, monkeypatch):
    from ui.launch import local_only

    monkeypatch.setenv(A.ENV_USERS, str(tmp_path / "no-users.json"))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "https://tableau.exemple.fr/oauth2callback"\n', encoding="utf-8")
    args = ["--server.address", "0.0.0.0", "--secrets.files", str(secrets)]
    assert local_only(args) == args  # OpenID Connect configured there: served as asked
    assert local_only([f"--secrets.files={tmp_path / 'none.toml'}", "--server.address", "0.0.0.0"])[-2:] == [
        "--server.address", "127.0.0.1"]


# ---------------------------------------------------------------- the house


def _imports(module: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "ui":
            found |= {f"ui.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ui.")}
    return found


def test_no_import_cycle_in_ui():
    """Every import counted, at the top of a module or inside a function."""
    graph = {f"ui.{p.stem}": _imports(p) & {f"ui.{q.stem}" for q in (ROOT / "ui").glob("*.py")}
             for p in (ROOT / "ui").glob("*.py")}
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " → ".join(stack[stack.index(node):] + [node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)
    assert {"ui.access", "ui.auth", "ui.state", "ui.diffusion", "ui.login_oidc", "ui.journal"} <= set(graph)
    assert {"ui.login_oidc", "ui.journal"} <= graph["ui.auth"] and "ui.access" in graph["ui.state"]  # read, not empty
