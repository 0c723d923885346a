"""Roles in a real browser: a partner logs in through the form, sees masked small counts and no Données
page, and logs out; an analyst of one territory cannot widen it with a crafted URL."""

from __future__ import annotations

import pytest

from analytics.auth import add_user
from analytics.indicators import Period, compute_indicators
from analytics.store import connect_readonly

from coaching_browser_helpers import Dash, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def accounts_app(sample_db, tmp_path, monkeypatch):
    users = tmp_path / "users.json"
    add_user("copil", "partenaire", PASSWORD, ["5 vallées"], path=users)
    add_user("ana", "analyste", PASSWORD, ["Vimeu"], path=users)  # a territory with nobody in the sample
    monkeypatch.setenv("COACHING_USERS", str(users))
    monkeypatch.setenv("COACHING_AUDIT", str(tmp_path / "audit.jsonl"))
    with serve(sample_db, "streamlit-roles") as url:
        yield url


def _login(dash: Dash, name: str, **query) -> None:
    dash.open("", **query)
    dash.page.get_by_label("Identifiant").fill(name)
    dash.page.get_by_label("Mot de passe").fill(PASSWORD)
    dash.page.get_by_role("button", name="Se connecter").click()
    # logging in reruns the app once more: wait for the page proper (its title), then for it to be drawn
    dash.page.locator("[data-testid=stSidebarNavLink]").first.wait_for(timeout=30_000)
    dash.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=30_000)
    dash.wait_ready()


def test_partner_sees_masked_counts_no_data_page_and_logs_out(accounts_app, page, sample_db):
    dash = Dash(page, accounts_app)
    _login(dash, "copil")
    assert dash.problems() == []
    assert dash.nav_link("Vue d'ensemble").count() == 1
    assert dash.nav_link("Données").count() == 0
    fig = compute_indicators(connect_readonly(sample_db), Period.year(2023))
    assert fig["not_entered"]["En attente"] == 1  # below 11: must not be shown as such
    assert dash.metric("Participants") == "117"
    text = dash.page.locator("[data-testid=stMain]").inner_text()
    assert "< 11 en attente" in text
    dash.page.get_by_role("button", name="Se déconnecter").click()
    dash.page.get_by_label("Identifiant").wait_for(timeout=30_000)  # logging out reruns the app once more
    dash.wait_ready()
    assert dash.page.get_by_label("Identifiant").count() == 1
    assert dash.page.locator("[data-testid=stMetric]").count() == 0
    assert dash.page.locator("[data-testid=stSidebarNavLink]").count() == 0  # no navigation left from the session


def test_analyst_cannot_widen_the_territory_with_the_url(accounts_app, page):
    dash = Dash(page, accounts_app)
    _login(dash, "ana", territoire="5 vallées")
    assert dash.problems() == []
    # the sample's persons are all in « 5 vallées »: an analyst of Vimeu sees none of them
    dash.page.get_by_text("Aucune personne ne correspond", exact=False).wait_for(timeout=30_000)
    assert dash.page.locator("[data-testid=stMetric]").count() == 0


def test_a_shared_deep_link_opens_its_page_and_filters_after_logging_in(accounts_app, page):
    """A colleague's link to a filtered page, opened while logged out: after the login form, the user is on that
    page with those filters, not on the overview."""
    dash = Dash(page, accounts_app)
    _login_at(dash, "copil", "freins", commune="Doullens")
    assert dash.problems() == []
    assert "/freins" in dash.page.url and "commune=Doullens" in dash.page.url
    assert dash.nav_link("Freins").get_attribute("aria-current") == "page"
    assert dash.multiselect("Commune") == ["Doullens"]


def _login_at(dash: Dash, name: str, path: str, **query) -> None:
    dash.open(path, **query)
    dash.page.get_by_label("Identifiant").fill(name)
    dash.page.get_by_label("Mot de passe").fill(PASSWORD)
    dash.page.get_by_role("button", name="Se connecter").click()
    dash.page.get_by_role("button", name="Se déconnecter").wait_for(timeout=30_000)
    dash.wait_ready()


def test_the_login_screen_is_french_and_accessible(accounts_app, page):
    """The login form is drawn before the navigation (auth.gate): the French script and the contrast style must be on
    it already — no English toolkit text (the password field's « Show password text »…), no serious axe violation."""
    from tests.browser.test_french_a11y import axe_violations, english_left

    dash = Dash(page, accounts_app)
    dash.open("")
    password = dash.page.get_by_label("Mot de passe")
    password.wait_for(timeout=30_000)
    password.fill(PASSWORD)  # the reveal button of a password field shows up with a value
    dash.page.get_by_label("Identifiant").hover()
    dash.page.wait_for_timeout(500)
    assert dash.problems() == []
    assert english_left(dash.page) == []
    assert "Entrée pour valider" in dash.page.locator("[data-testid=stMain]").inner_text()  # the focused field's hint
    # the reveal button is named in French (it was « Show password » before the script ran on this screen)
    names = dash.page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] button[aria-label]')]"
                               ".map(b => b.getAttribute('aria-label'))")
    assert "Afficher la saisie" in names, names
    assert axe_violations(dash.page) == []
    assert dash.page.locator("[data-testid=stSidebar]").count() == 0 or not dash.page.locator("[data-testid=stSidebar]").is_visible()
    dash.screenshot("login-form")
