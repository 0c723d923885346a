"""Accounts and roles (analytics.auth), the audit log (analytics.audit), `coaching user`, the launcher's local-only rule."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest

from analytics import audit
from analytics import auth as A
from analytics.auth import User
from analytics.cli import main
from analytics.indicators import Filters, Period

PASSWORD = "un-mot-de-passe-solide"


@pytest.fixture
def users(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    monkeypatch.setenv(A.ENV_USERS, str(path))
    monkeypatch.setenv(audit.ENV_AUDIT, str(tmp_path / "audit.jsonl"))
    return path


def test_users_file_hashes_with_argon2_and_verifies(users):
    record = A.add_user("alice", "analyste", PASSWORD, ["Vimeu"])
    assert record == {"role": "analyste", "territories": ["Vimeu"], "actions": ["*"], "created": record["created"]}
    stored = json.loads(users.read_text())["users"]["alice"]
    assert stored["password"].startswith("$argon2id$") and PASSWORD not in users.read_text()
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    assert A.authenticate("alice", PASSWORD) == User("alice", "analyste", ("Vimeu",), ("*",))
    assert A.authenticate("alice", PASSWORD + "x") is None
    assert A.authenticate("nobody", PASSWORD) is None and A.authenticate("", "") is None
    assert A.mode(secrets_files=[]) == "local"


def test_user_rules(users):
    with pytest.raises(A.AuthError, match="territoire"):
        A.add_user("bob", "partenaire", PASSWORD)  # a partner must be granted a territory
    with pytest.raises(A.AuthError, match="trop court"):
        A.add_user("bob", "analyste", "court", ["Vimeu"])
    with pytest.raises(A.AuthError, match="rôle inconnu"):
        A.add_user("bob", "chef", PASSWORD, ["Vimeu"])
    with pytest.raises(A.AuthError, match="invalide"):
        A.add_user("bob smith", "analyste", PASSWORD, ["Vimeu"])
    assert A.add_user("dir", "direction", PASSWORD)["territories"] == ["*"]
    with pytest.raises(A.AuthError, match="existe déjà"):
        A.add_user("dir", "direction", PASSWORD)
    A.add_user("dir", "analyste", PASSWORD + "2", ["Haute Somme"], replace=True)
    assert A.authenticate("dir", PASSWORD + "2").territories == ("Haute Somme",)
    A.remove_user("dir")
    assert A.list_users() == [] and A.mode(secrets_files=[]) == "none"


def test_grants_restrict_the_filters():
    analyst = User("a", "analyste", ("Vimeu",), ("Coaching emploi",))
    assert analyst.restrict(Filters()) == Filters(territory=("Vimeu",), action=("Coaching emploi",))
    # a crafted territory is dropped, never added
    assert analyst.restrict(Filters(territory=("Haute Somme",))).territory == ("Vimeu",)
    assert analyst.restrict(Filters(territory=("Vimeu", "Haute Somme"), commune=("Ham",))) == Filters(
        commune=("Ham",), territory=("Vimeu",), action=("Coaching emploi",))
    boss = User("d", "direction")
    assert boss.restrict(Filters(territory=("Haute Somme",))) == Filters(territory=("Haute Somme",))
    partner = User("p", "partenaire", ("5 vallées",))
    assert partner.diffusion_forced and not partner.row_level and not partner.can_import
    assert User("x", "admin").can_import and not analyst.can_import and not analyst.row_level


def test_oidc_claims_and_mapping():
    claims = {"email": "claire@cd80.fr", "sub": "123", "roles": ["analyste"], "territories": ["Vimeu"]}
    assert A.user_from_claims(claims) == User("claire@cd80.fr", "analyste", ("Vimeu",), ("*",), "oidc")
    assert A.user_from_claims({**claims, "roles": ["inconnu"]}) is None
    assert A.user_from_claims({**claims, "territories": []}) is None  # an analyst without territory: no access
    assert A.user_from_claims({**claims, "roles": "partenaire,direction"}).role == "direction"
    mapping = {"claire@cd80.fr": {"role": "partenaire", "territories": ["5 vallées"]}}
    assert A.user_from_claims({"email": "claire@cd80.fr"}, mapping).role == "partenaire"


def test_mode_oidc_from_the_secrets(tmp_path, users):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "x"\n')
    assert A.mode(secrets_files=[secrets]) == "oidc"
    secrets.write_text('[other]\nx = 1\n')
    assert A.mode(secrets_files=[secrets]) == "none"


def test_coaching_user_add_list_remove(users, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "ana", "--role", "analyste", "--territory", "Vimeu", "--password-stdin"]) == 0
    assert "créé" in capsys.readouterr().out
    assert A.authenticate("ana", PASSWORD).territories == ("Vimeu",)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "pat", "--role", "partenaire", "--password-stdin"]) == 2
    assert "au moins un territoire" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["user", "add", "zoe", "--role", "analyste", "--territory", "Vimeu"]) == 2  # no terminal, no --password-stdin
    assert main(["user", "add", "zoe", "--role", "chef", "--password-stdin"]) == 2
    capsys.readouterr()
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "ana\tanalyste\tterritoires : Vimeu" in out and "argon2" not in out
    assert main(["user", "remove", "ana"]) == 0 and main(["user", "remove", "ana"]) == 2
    events = [e["event"] for e in audit.read()]
    assert events == ["user_add", "user_remove"]


def test_audit_lines_hold_no_person_data(tmp_path):
    log = tmp_path / "a.jsonl"
    audit.record("export", "ana", "analyste", period=Period.year(2023), filters=Filters(commune=("Doullens",)),
                 detail={"format": "xlsx", "diffusion": 11, "id_participant": "CE-0000001", "sexe": "Femme",
                         "rows": {"participants": 134}}, path=log)
    audit.record("login", "ana", "analyste", path=log)
    with pytest.raises(ValueError):
        audit.record("delete_everything", "ana", path=log)
    lines = audit.read(log)
    assert [e["event"] for e in lines] == ["export", "login"]
    first = lines[0]
    assert set(first) == {"at", "user", "role", "event", "period", "filters", "detail"}
    assert first["filters"] == {"commune": ["Doullens"]} and first["period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    assert first["detail"] == {"format": "xlsx", "diffusion": 11, "rows": {"participants": 134}}
    assert "CE-0000001" not in log.read_text() and "Femme" not in log.read_text()
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_audit_path_beside_the_store(tmp_path, monkeypatch):
    monkeypatch.delenv(audit.ENV_AUDIT, raising=False)
    assert audit.audit_path(tmp_path / "coaching.duckdb") == tmp_path / "coaching.audit.jsonl"


def test_launcher_serves_locally_without_auth():
    from ui.launch import local_only

    assert local_only(["--server.address", "0.0.0.0", "--server.port", "8502"], "none") == [
        "--server.port", "8502", "--server.address", "127.0.0.1"]
    assert local_only(["--server.address=0.0.0.0"], "none") == ["--server.address", "127.0.0.1"]
    assert local_only([], "none") == ["--server.address", "127.0.0.1"]
    assert local_only(["--server.address", "0.0.0.0"], "local") == ["--server.address", "0.0.0.0"]
