"""Login through real OpenID Connect providers, in Chromium.

The tests start two providers themselves (`oidc-provider-mock`, a provider server made for tests, each on its own
port of 127.0.0.1, in this process) and the dashboard with a secrets file naming them `[auth.proconnect]` and
`[auth.entra]`, plus a third, `[auth.keycloak]`, whose server is down. They drive the providers' own
authorisation pages: login with a named provider, the role from data/roles.json and from the token's claims, an
unknown e-mail refused, a refusal at the provider, a shared deep link kept through the provider, one audit line per
authentication, logout. Then the lockout of a local account across fresh browsers, and `coaching user unlock`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from analytics import audit
from analytics.auth import add_user

from coaching_browser_helpers import Dash, free_port, is_external, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CLAIRE = "claire@cd80.fr"  # in roles.json: partenaire of « 5 vallées »
DIRECTION = "direction@asso.fr"  # not in roles.json: role « direction » from the token's claims
ANALYST = "ana@asso.fr"  # at the second provider: analyste of « 5 vallées » from the claims
PASSWORD = "mot-de-passe-de-test"
WAIT_MS = 90_000  # a round trip through a provider (redirects, token exchange, keys) on a loaded machine


class Dash(Dash):  # noqa: F811 - the helpers' Dash, with waits long enough for a provider's round trip
    def __init__(self, page, base_url: str):
        super().__init__(page, base_url)
        page.set_default_timeout(WAIT_MS)

    def wait_ready(self, timeout_ms: int = WAIT_MS) -> None:
        super().wait_ready(timeout_ms)


@contextlib.contextmanager
def provider(users: list):
    """An OpenID Connect provider (oidc-provider-mock) on 127.0.0.1; yields its base URL."""
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def oidc_app(sample_db, tmp_path_factory):
    """The dashboard behind three named providers (two running, one down); yields (url, audit log path)."""
    from oidc_provider_mock import User

    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # the providers speak http on 127.0.0.1
    tmp = tmp_path_factory.mktemp("oidc")
    roles = tmp / "roles.json"
    roles.write_text(json.dumps({"users": {CLAIRE: {"role": "partenaire", "territories": ["5 vallées"]}}}))
    port = free_port()
    with provider([User(sub=CLAIRE, claims={"email": CLAIRE}),
                   User(sub=DIRECTION, claims={"email": DIRECTION, "roles": ["direction"]})]) as pro, \
            provider([User(sub=ANALYST, claims={"email": ANALYST, "roles": ["analyste"], "territories": ["5 vallées"]})]) as entra:
        secrets = tmp / "secrets.toml"
        secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "un-secret-de-test-assez-long-pour-signer"

[auth.proconnect]
client_id = "tableau-de-bord"
client_secret = "secret-de-test"
server_metadata_url = "{pro}/.well-known/openid-configuration"

[auth.entra]
label = "Microsoft Entra"
client_id = "tableau-de-bord"
client_secret = "secret-de-test"
server_metadata_url = "{entra}/.well-known/openid-configuration"

[auth.keycloak]
client_id = "tableau-de-bord"
client_secret = "secret-de-test"
server_metadata_url = "http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
""", encoding="utf-8")
        log = tmp / "audit.jsonl"
        env = {"COACHING_ROLES": str(roles), "COACHING_AUDIT": str(log), "COACHING_USERS": str(tmp / "users.json"),
               "COACHING_LOGIN_STORE": str(tmp / "login.sqlite"), "AUTHLIB_INSECURE_TRANSPORT": "1"}
        with serve(sample_db, f"streamlit-oidc-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", port=port, args=("--secrets.files", str(secrets)), env=env) as url:
            yield url, log


@pytest.fixture
def browser_tab(browser, browser_context_args):
    """A tab in a browser context of its own (its own cookies: a fresh browser); other hosts than 127.0.0.1 blocked."""
    context = browser.new_context(**browser_context_args)
    context.route(is_external, lambda route: route.abort())  # the providers' pages link a stylesheet on a CDN
    yield context
    context.close()


def _events(log: Path) -> list[tuple]:
    return [(e["event"], e["user"], (e.get("detail") or {}).get("reason")) for e in audit.read(log)]


def _app_problems(dash: Dash) -> list[str]:
    """Problems of the app's own pages (the providers' pages ask for a stylesheet on a CDN, which is blocked)."""
    return [p for p in dash.problems() if not p.startswith("request to another host") and not p.startswith("st.error")]


def _at_provider(dash: Dash, button: str) -> None:
    dash.page.get_by_role("button", name=button).click()
    dash.page.wait_for_url("**/oauth2/authorize**", timeout=WAIT_MS)


def _back_logged_in(dash: Dash) -> None:
    dash.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=WAIT_MS)
    dash.wait_ready(WAIT_MS)


def test_two_providers_named_login_role_from_roles_json_and_a_deep_link_kept(oidc_app, browser_tab):
    url, log = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    before = len(_events(log))
    dash.open("freins", commune="Doullens")
    for label in ("Se connecter avec ProConnect", "Se connecter avec Microsoft Entra", "Se connecter avec Keycloak"):
        assert dash.page.get_by_role("button", name=label).count() == 1, label
    assert _app_problems(dash) == [] and not dash.page.locator("[data-testid=stAlertContentError]").count()
    dash.screenshot("oidc-login-screen")
    _at_provider(dash, "Se connecter avec ProConnect")
    dash.page.get_by_role("button", name=CLAIRE).click()  # the provider's own page: a predefined user
    _back_logged_in(dash)
    # the link opened before the provider: its page and its filter
    assert dash.path() == "/freins" and dash.query().get("commune") == ["Doullens"]
    assert dash.nav_link("Freins").get_attribute("aria-current") == "page"
    assert dash.multiselect("Commune") == ["Doullens"]
    sidebar = dash.page.locator("[data-testid=stSidebar]").inner_text()
    assert f"{CLAIRE} (partenaire ; territoires : 5 vallées)" in sidebar  # the role of data/roles.json
    assert dash.nav_link("Données").count() == 0
    assert _app_problems(dash) == []
    # a new browser session of the same logged-in user (another tab): no new login line
    other = Dash(browser_tab.new_page(), url)
    other.page.goto(f"{url}/profils")
    other.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=WAIT_MS)
    other.wait_ready(WAIT_MS)
    assert other.nav_link("Profils").get_attribute("aria-current") == "page"
    assert [e for e in _events(log)[before:] if e[0] == "login"] == [("login", CLAIRE, None)]
    other.page.close()


def test_role_from_claims_one_login_line_and_logout(oidc_app, browser_tab):
    url, log = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    before = len(_events(log))
    dash.open("")
    _at_provider(dash, "Se connecter avec ProConnect")
    dash.page.get_by_role("button", name=DIRECTION).click()
    _back_logged_in(dash)
    assert f"{DIRECTION} (direction)" in dash.page.locator("[data-testid=stSidebar]").inner_text()
    assert dash.nav_link("Données").count() == 1  # direction: row-level access
    for _ in range(3):  # three more browser sessions of the same authentication
        tab = Dash(browser_tab.new_page(), url)
        tab.page.goto(url)
        tab.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=WAIT_MS)
        tab.page.close()
    dash.page.bring_to_front()
    dash.page.get_by_role("button", name="Se déconnecter").click()
    # Streamlit sends the browser to the provider's end-session page, which asks for a confirmation
    dash.page.wait_for_url("**/oauth2/end_session**", timeout=WAIT_MS)
    dash.page.get_by_role("button", name="End session").click()
    dash.page.get_by_role("button", name="Se connecter avec ProConnect").wait_for(timeout=WAIT_MS)
    dash.wait_ready()
    assert dash.page.locator("[data-testid=stSidebarNavLink]").count() == 0
    assert _events(log)[before:] == [("login", DIRECTION, None), ("logout", DIRECTION, None)]


def test_second_provider_role_and_territory_from_claims(oidc_app, browser_tab):
    url, _ = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    dash.open("territoire")
    _at_provider(dash, "Se connecter avec Microsoft Entra")
    dash.page.get_by_role("button", name=ANALYST).click()
    _back_logged_in(dash)
    assert dash.path() == "/territoire"
    assert f"{ANALYST} (analyste ; territoires : 5 vallées)" in dash.page.locator("[data-testid=stSidebar]").inner_text()
    assert _app_problems(dash) == []


def test_an_unknown_email_is_refused(oidc_app, browser_tab):
    url, log = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    before = len(_events(log))
    dash.open("")
    _at_provider(dash, "Se connecter avec ProConnect")
    dash.page.get_by_placeholder("sub").fill("inconnu@exemple.fr")  # a user the provider knows, the dashboard does not
    dash.page.get_by_role("button", name="Authorize").click()
    dash.page.get_by_text("n'a aucun rôle dans ce tableau de bord", exact=False).wait_for(timeout=WAIT_MS)
    dash.wait_ready()
    assert "inconnu@exemple.fr" in dash.page.locator("[data-testid=stMain]").inner_text()
    assert dash.page.locator("[data-testid=stMetric]").count() == 0
    assert dash.page.locator("[data-testid=stSidebarNavLink]").count() == 0
    assert _events(log)[before:] == [("login_refused", "inconnu@exemple.fr", "no_role")]
    assert _app_problems(dash) == []


def test_a_refusal_at_the_provider_is_said_in_french_and_the_link_kept_for_the_next_try(oidc_app, browser_tab):
    url, log = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    before = len(_events(log))
    dash.open("parcours", commune="Doullens")
    _at_provider(dash, "Se connecter avec ProConnect")
    dash.page.get_by_role("button", name="Deny").click()
    dash.page.get_by_text("La connexion n'a pas abouti : ProConnect n'a pas confirmé votre identité",
                          exact=False).wait_for(timeout=WAIT_MS)
    dash.wait_ready()
    dash.screenshot("oidc-refused")
    assert _app_problems(dash) == []
    assert _events(log)[before:] == [("login_refused", "inconnu", "provider")]
    _at_provider(dash, "Se connecter avec ProConnect")  # the next try lands on the link asked for first
    dash.page.get_by_role("button", name=CLAIRE).click()
    _back_logged_in(dash)
    assert dash.path() == "/parcours" and dash.multiselect("Commune") == ["Doullens"]


def test_a_provider_that_does_not_answer_is_said_in_french(oidc_app, browser_tab):
    url, _ = oidc_app
    dash = Dash(browser_tab.new_page(), url)
    dash.open("")
    # the providers' buttons are drawn by the gate, before the navigation: the French script is already there
    from tests.browser.test_french_a11y import english_left

    dash.page.get_by_role("button", name="Se connecter avec Keycloak").wait_for()
    assert english_left(dash.page) == []
    with dash.rerun(WAIT_MS):  # the check of the dead provider waits for its connection to be refused
        dash.page.get_by_role("button", name="Se connecter avec Keycloak").click()
    error = dash.page.locator("[data-testid=stAlertContentError]").inner_text()
    assert "Keycloak ne répond pas" in error and "server_metadata_url" in error
    assert dash.path() == "/" and _app_problems(dash) == []


# ---------------------------------------------------------------- local accounts: the lockout


@pytest.fixture
def locked_app(sample_db, tmp_path):
    users = tmp_path / "users.json"
    add_user("ana", "analyste", PASSWORD, ["5 vallées"], path=users)
    env = {"COACHING_USERS": str(users), "COACHING_AUDIT": str(tmp_path / "audit.jsonl"),
           "COACHING_LOCKOUT_ATTEMPTS": "5", "COACHING_LOCKOUT_MIN": "15"}
    with serve(sample_db, f"streamlit-lockout-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", env=env) as url:
        yield url, env


def _try_password(browser, browser_context_args, url: str, password: str) -> Dash:
    """One try in a fresh browser (new context: no cookie, a new Streamlit session), as a guessing script would."""
    context = browser.new_context(**browser_context_args)
    dash = Dash(context.new_page(), url)
    dash.open("")
    dash.page.get_by_label("Identifiant").fill("ana")
    dash.page.get_by_label("Mot de passe").fill(password)
    with dash.rerun(WAIT_MS):
        dash.page.get_by_role("button", name="Se connecter").click()
    return dash


def test_guessing_is_stopped_across_fresh_browsers_until_unlocked(locked_app, browser, browser_context_args):
    url, env = locked_app
    for i in range(5):
        dash = _try_password(browser, browser_context_args, url, f"mauvais-{i}")
        text = dash.page.locator("[data-testid=stMain]").inner_text()
        assert ("verrouillé" in text) == (i == 4), (i, text)
        dash.page.context.close()
    dash = _try_password(browser, browser_context_args, url, PASSWORD)  # the right password, from a sixth browser
    error = dash.page.locator("[data-testid=stAlertContentError]").inner_text()
    assert "Ce compte est verrouillé après trop d'échecs de connexion : réessayez dans 15 minutes" in error
    assert dash.page.locator("[data-testid=stMetric]").count() == 0
    dash.screenshot("login-locked")
    dash.page.context.close()
    events = _events(Path(env["COACHING_AUDIT"]))
    assert events == [("login_failed", "ana", None)] * 5 + [("lockout", "ana", "account_locked"),
                                                            ("login_refused", "ana", "locked")]
    done = subprocess.run([str(Path(sys.executable).with_name("coaching")), "user", "unlock", "ana"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "« ana » déverrouillé" in done.stdout, done.stderr
    dash = _try_password(browser, browser_context_args, url, PASSWORD)
    dash.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=WAIT_MS)
    assert _events(Path(env["COACHING_AUDIT"]))[-2:] == [("user_unlock", "local:" + audit._os_user(), None), ("login", "ana", None)]
    dash.page.context.close()
