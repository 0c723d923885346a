"""Login, roles and territory locks in the dashboard (the rules themselves: `analytics.auth`).

Three modes, chosen at every run:
- `oidc`: `.streamlit/secrets.toml` has an `[auth]` section → `st.login()` against the OpenID Connect provider
  (ProConnect, Microsoft Entra, Keycloak…); the role and grants come from `data/roles.json` or the token's claims
  (`[roles]` in the secrets may name the claims: `claim`, `territory_claim`, `action_claim`).
- `local`: a users file exists (`coaching user add`) → a login form (argon2 verify), « Se déconnecter » in the sidebar.
- `none`: nothing configured → single-user local mode, said in the sidebar; `ui.launch` then serves on 127.0.0.1 only.

Enforced server-side, whatever the URL: the granted territories and actions are intersected with the selection's
filters (`restrict`, applied by `ui.state`), the filter lists only offer granted values (`scope`), the pages a
role may not use are not in its navigation (`allowed_pages`), imports are refused to every role but `admin`
(`may_import`), the `partenaire` role has the diffusion mode forced (`diffusion_forced`). Logins, failed logins
and logouts go to the audit log (`analytics.audit`).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import streamlit as st
from streamlit.errors import StreamlitAPIException

from analytics import audit
from analytics import auth as rules
from analytics.auth import User
from analytics.indicators import Filters

SESSION = "auth_user"
FAILURES = "auth_failures"
REQUESTED_PAGE = "auth_requested_page"  # the page a logged-out visitor opened (a shared link), kept in the URL
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ROW_LEVEL_PAGES = {"donnees"}  # validation reports, completeness and import history of the whole store
ROW_LEVEL_TITLES = {"Données"}


# ---------------------------------------------------------------- mode and user


def _secrets_auth() -> dict | None:
    try:
        return dict(st.secrets["auth"]) if "auth" in st.secrets else None
    except Exception:  # no secrets file at all
        return None


def mode() -> str:
    if _secrets_auth() is not None:
        return "oidc"
    return rules.mode(secrets_files=[])


def current_user() -> User | None:
    """The logged-in user (None in single-user local mode)."""
    user = st.session_state.get(SESSION)
    return user if isinstance(user, User) else None


def diffusion_forced() -> bool:
    user = current_user()
    return bool(user and user.diffusion_forced)


def may_import() -> bool:
    user = current_user()
    return user is None or user.can_import


def restrict(filters: Filters) -> Filters:
    """The filters within the user's grants (unchanged without login)."""
    user = current_user()
    return filters if user is None else user.restrict(filters)


def scope() -> Filters:
    """The filters of everything the user may see (territories and actions granted)."""
    return restrict(Filters())


def allowed_pages(pages: list) -> list:
    """The pages of the user's navigation: no Données page for a role without row-level access."""
    user = current_user()
    if user is None:
        return pages
    return [p for p in pages if getattr(p, "url_path", "") not in ROW_LEVEL_PAGES or user.row_level]


def _audit(event: str, user: User | None, **detail) -> None:
    from ui import state

    try:
        audit.record(event, user.name if user else detail.pop("name", None) or "inconnu", user.role if user else None,
                     db=state.current_db(), detail=detail)
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon="⚠️")


def record(event: str, period=None, filters=None, **detail) -> None:
    """An import or an export of the current user in the audit log (period, filters, scalars of `detail`)."""
    from ui import state

    user = current_user()
    try:
        audit.record(event, user.name if user else None, user.role if user else None, period=period, filters=filters,
                     detail=detail, db=state.current_db())
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon="⚠️")


# ---------------------------------------------------------------- the gate


def guard(page_title: str) -> None:
    """Run by every page (`ui.components.header`): the login, then the page's access rule."""
    user = gate()
    if user is not None and page_title in ROW_LEVEL_TITLES and not user.row_level:
        st.error("Cette page est réservée à l'administration et à la direction.", icon="🚫")
        st.stop()



def gate() -> User | None:
    """Called first by the entry point: returns the user, or draws the login screen and stops the run."""
    m = mode()
    if m == "none":
        st.session_state.pop(SESSION, None)
        return None
    user = _oidc_user() if m == "oidc" else _local_user()
    if user is None:
        if REQUESTED_PAGE not in st.session_state:
            # the page a shared link names
            path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
            st.session_state[REQUESTED_PAGE] = path if re.fullmatch(r"[A-Za-z0-9_-]+", path) else ""
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
        record = rules.load_users().get(user.name)
    except rules.AuthError:
        record = None
    if record is None:
        _clear_session()
        return None
    fresh = rules._user(user.name, record)
    st.session_state[SESSION] = fresh
    return fresh


def _oidc_user() -> User | None:
    if not getattr(st.user, "is_logged_in", False):
        st.session_state.pop(SESSION, None)
        return None
    config = {}
    try:
        config = dict(st.secrets.get("roles", {}))
    except Exception:
        pass
    user = rules.user_from_claims(st.user.to_dict(), rules.load_role_mapping(config.get("mapping")),
                                  role_claim=config.get("claim", "roles"), territory_claim=config.get("territory_claim", "territories"),
                                  action_claim=config.get("action_claim", "actions"))
    if user is None:
        st.error("Votre compte est authentifié mais n'a aucun rôle dans ce tableau de bord : demandez un accès à "
                 "l'administrateur.", icon="🚫")
        if st.button("Se déconnecter", key="auth_logout_norole"):
            st.logout()
        st.stop()
    if current_user() != user:
        st.session_state[SESSION] = user
        _audit("login", user, method="oidc")
    return user


def _login_screen(m: str) -> None:
    st.title("Coaching Emploi — pilotage")
    st.caption("Les données décrivent des personnes accompagnées (pseudonymisées) : l'accès est réservé aux comptes autorisés.")
    if m == "oidc":
        providers = [k for k, v in (_secrets_auth() or {}).items() if isinstance(v, dict)]
        if st.button("Se connecter", type="primary", key="auth_oidc_login"):
            st.login(providers[0]) if providers and "client_id" not in (_secrets_auth() or {}) else st.login()
        return
    with st.form("auth_login"):
        name = st.text_input("Identifiant", key="auth_name")
        password = st.text_input("Mot de passe", type="password", key="auth_password")
        submitted = st.form_submit_button("Se connecter", type="primary")
    if not submitted:
        return
    failures = st.session_state.get(FAILURES, 0)
    if failures >= 3:  # slow down guessing within a session
        time.sleep(min(2 ** (failures - 3), 8))
    try:
        user = rules.authenticate(name, password)
    except rules.AuthError:
        user = None
    st.session_state.pop("auth_password", None)
    if user is None:
        st.session_state[FAILURES] = failures + 1
        _audit("login_failed", None, name=(name or "")[:64], method="local")
        st.error("Identifiant ou mot de passe incorrect.", icon="🔒")
        return
    st.session_state[FAILURES] = 0
    st.session_state[SESSION] = user
    _audit("login", user, method="local")
    st.rerun()


def _clear_session() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def logout() -> None:
    user = current_user()
    if user is not None:
        _audit("logout", user, method=user.source)
    was_oidc = user is not None and user.source == "oidc"
    _clear_session()
    for key in list(st.query_params.keys()):  # widget-bound keys (filters, diffusion) cannot be removed here
        try:
            del st.query_params[key]
        except StreamlitAPIException:
            pass
    if was_oidc:
        st.logout()
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
                     "« make run » (127.0.0.1) ou configurez des comptes.", icon="🚫")
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


__all__ = ["allowed_pages", "current_user", "diffusion_forced", "gate", "logout", "may_import", "mode", "record", "restrict",
           "scope", "sidebar"]
