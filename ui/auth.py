"""Login in the dashboard: the gate, the local login form, logout, the sidebar's « Connecté » (the rules themselves:
`analytics.auth`; what a logged-in session may see: `ui.access`; the OpenID Connect screen and identity:
`ui.login_oidc`; the audit lines: `ui.journal`). Modules stack without cycles: access ← state ← journal ←
login_oidc ← auth.

Three modes, chosen at every run:
- `oidc`: `.streamlit/secrets.toml` has an `[auth]` section → one button per OpenID Connect provider
  (`analytics.oidc`: the flat `[auth]` form or any number of `[auth.<name>]` sections — ProConnect, Microsoft
  Entra, Google, Keycloak…), then `st.login(<name>)`; the role and grants come from `data/roles.json` or the token's
  claims (`[roles]` in the secrets may name the claims: `claim`, `territory_claim`, `action_claim`). A wrong
  configuration is said in French on the login screen and in the log.
- `local`: a users file exists (`coaching user add`) → a login form (argon2id verify), « Se déconnecter » in the
  sidebar. Failed logins are counted per account and per client address in `analytics.login_store` (shared by
  every session and process): after 5 failures in 15 minutes the account is locked 15 minutes, its password is not
  even checked, and `coaching user unlock NAME` lifts it.
- `none`: nothing configured → single-user local mode, said in the sidebar; `ui.launch` then serves on 127.0.0.1 only.

A shared link (`/freins?commune=Doullens`) opened while logged out survives the login: with the form, the URL stays
as it is; with OpenID Connect, whose callback always returns to the root in a new browser session, the page and
query are kept server-side (`login_store.remember_link`) under a random token that the browser carries in a
cookie, and `restore_link` (`ui.login_oidc`) opens them after the login.

Audit (`analytics.audit`): one `login` per authentication (not per browser session of an already logged-in
user), `login_failed` (wrong password), `login_refused` with its reason (`no_role`, `provider`, `locked`),
`lockout` when an account or an address gets locked, `logout`.
"""

from __future__ import annotations

import logging
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from analytics import auth as rules
from analytics import login_store
from analytics.auth import User
from ui import access, login_oidc
from ui.access import (ROW_LEVEL_TITLES, SESSION, allowed_pages, current_user, diffusion_forced, may_import, restrict,
                       scope)
from ui.journal import login_event, record
from ui.login_oidc import restore_link

LOG = logging.getLogger("coaching.auth")
REQUESTED_PAGE = "auth_requested_page"  # the page a logged-out visitor opened (a shared link), kept in the URL
LOOPBACK = ("127.0.0.1", "localhost", "::1")

__all__ = ["allowed_pages", "current_user", "diffusion_forced", "gate", "guard", "logout", "may_import", "mode",
           "record", "restore_link", "restrict", "scope", "sidebar"]


# ---------------------------------------------------------------- mode


def mode() -> str:
    if login_oidc.secrets_auth() is not None:
        return "oidc"
    return rules.mode(secrets_files=[])


def _client_address() -> str | None:
    try:
        address = st.context.ip_address
    except Exception:
        return None
    return address[:64] if isinstance(address, str) and address else None


# ---------------------------------------------------------------- the gate


def guard(page_title: str) -> None:
    """Run by every page (`ui.components.header`): the login, then the page's access rule."""
    user = gate()
    if user is not None and page_title in ROW_LEVEL_TITLES and not user.row_level:
        st.error("Cette page est réservée à l'administration et à la direction.", icon=":material/block:")
        st.stop()


def gate() -> User | None:
    """Called first by the entry point: returns the user, or draws the login screen and stops the run."""
    m = mode()
    if m == "none":
        st.session_state.pop(SESSION, None)
        return None
    user = login_oidc.user() if m == "oidc" else _local_user()
    if user is None:
        if REQUESTED_PAGE not in st.session_state:
            st.session_state[REQUESTED_PAGE] = access.url_page()  # the page a shared link names
        _login_screen(m)
        # The login screen's own hidden navigation, so that the menu of a session that just logged out is not left
        # behind. A shared link's path is one of its pages (the first one is served at « / » whatever its path), so
        # that Streamlit does not call the page missing and the URL, with the link's filters, stays as it is.
        requested = st.session_state[REQUESTED_PAGE]
        pages = [st.Page(_login_page, title="Connexion", url_path="connexion", default=True)]
        if requested and requested != "connexion":
            pages.append(st.Page(_login_page_of_link, title="Connexion", url_path=requested))
        st.navigation(pages, position="hidden")
        st.stop()
    st.session_state.pop(REQUESTED_PAGE, None)  # logged in: the link's page is now served by the real navigation
    return user








def _login_page() -> None:
    """The login screen is drawn by `gate` before the navigation: these pages only stand in for it."""


def _login_page_of_link() -> None:
    """The login screen is drawn by `gate` before the navigation: these pages only stand in for it."""


def _local_user() -> User | None:
    """The session's user, re-read from the users file at every run (a removed account is logged out, a changed
    role or grant applies at once)."""
    user = current_user()
    if user is None:
        return None
    try:
        entry = rules.load_users().get(user.name)
    except rules.AuthError:
        entry = None
    if entry is None:
        access.clear_session()
        return None
    fresh = rules._user(user.name, entry)
    st.session_state[SESSION] = fresh
    return fresh












# ---------------------------------------------------------------- the login screens


def _login_screen(m: str) -> None:
    st.title("Coaching Emploi — pilotage")
    st.caption("Les données décrivent des personnes accompagnées (pseudonymisées) : l'accès est réservé aux comptes autorisés.")
    if m == "oidc":
        login_oidc.screen(st.session_state.get(REQUESTED_PAGE) or "")
    else:
        _local_screen()








def _locked_message(lock: login_store.Lock) -> str:
    minutes = lock.minutes_left()
    what = "Ce compte est verrouillé" if lock.kind == "account" else "Les connexions depuis votre adresse sont bloquées"
    return (f"{what} après trop d'échecs de connexion : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}, "
            "ou demandez à l'administrateur de le déverrouiller (« coaching user unlock »).")


def _local_screen() -> None:
    with st.form("auth_login"):
        name = st.text_input("Identifiant", key="auth_name")
        password = st.text_input("Mot de passe", type="password", key="auth_password")
        submitted = st.form_submit_button("Se connecter", type="primary")
    if not submitted:
        return
    st.session_state.pop("auth_password", None)
    name = (name or "").strip()[:64]
    address = _client_address()
    try:
        lock = login_store.active_lock(name, address)
    except Exception:
        LOG.exception("Registre des tentatives de connexion illisible")
        st.error("Connexion impossible pour le moment : le registre des tentatives de connexion est illisible "
                 "(droits du dossier des comptes). Prévenez l'administrateur.", icon=":material/block:")
        return
    if lock is not None:  # the password is not even checked
        login_event("login_refused", None, name=name, method="local", reason="locked")
        st.error(_locked_message(lock), icon=":material/lock:")
        return
    try:
        user = rules.authenticate(name, password)
    except rules.AuthError:
        user = None
    if user is None:
        login_event("login_failed", None, name=name, method="local")
        try:
            lock = login_store.record_failure(name, address)
        except Exception:
            LOG.exception("Registre des tentatives de connexion non écrit")
            lock = None
        if lock is not None:
            login_event("lockout", None, name=name if lock.kind == "account" else "inconnu", method="local",
                   reason=f"{lock.kind}_locked", minutes=round((lock.until - time.time()) / 60))
            st.error(_locked_message(lock), icon=":material/lock:")
        else:
            st.error("Identifiant ou mot de passe incorrect.", icon=":material/lock:")
        return
    try:
        login_store.clear_failures(name)
    except Exception:
        LOG.exception("Registre des tentatives de connexion non écrit")
    st.session_state[SESSION] = user
    login_event("login", user, method="local")
    st.rerun()




def logout() -> None:
    user = current_user()
    if user is not None:
        login_event("logout", user, method=user.source)
    was_oidc = user is not None and user.source == "oidc"
    access.clear_session()
    for key in list(st.query_params.keys()):  # widget-bound keys (filters, diffusion) cannot be removed here
        try:
            del st.query_params[key]
        except StreamlitAPIException:
            pass
    if was_oidc:
        st.logout()  # the browser goes to Streamlit's /auth/logout (then the provider's end of session): no rerun here,
        st.stop()  # which could overtake that redirect
    st.rerun()


# ---------------------------------------------------------------- the sidebar


def sidebar() -> None:
    """Who is connected and « Se déconnecter », or the single-user local mode."""
    sb = st.sidebar
    user = current_user()
    if user is None:
        sb.caption("🖥️ Mode local mono-utilisateur : aucune connexion demandée, le tableau de bord n'est servi que sur "
                   "cette machine (127.0.0.1). Pour le partager : comptes (« coaching user add ») ou OpenID Connect.")
        address = _server_address()
        if address and address not in LOOPBACK:
            st.error(f"Sans authentification, le tableau de bord ne doit pas écouter sur « {address} » : relancez-le avec "
                     "« make run » (127.0.0.1) ou configurez des comptes.", icon=":material/block:")
            st.stop()
        return
    sb.caption(f"👤 Connecté : {user.describe()}")
    if sb.button("Se déconnecter", key="auth_logout", icon=":material/logout:"):
        logout()


def _server_address() -> str | None:
    try:
        return st.get_option("server.address") or None
    except Exception:
        return None
