"""Login in the dashboard: the gate, the login screens, logout (the rules themselves: `analytics.auth`; what a
logged-in session may see: `ui.access`).

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
short-lived cookie, and `restore_link` opens them after the login.

Audit (`analytics.audit`): one `login` per authentication (not per browser session of an already logged-in
user), `login_failed` (wrong password), `login_refused` with its reason (`no_role`, `provider`, `locked`),
`lockout` when an account or an address gets locked, `logout`.
"""

from __future__ import annotations

import html
import logging
import re
import time
from urllib.parse import parse_qsl, urlencode, urlparse

import streamlit as st
from streamlit.errors import StreamlitAPIException

from analytics import audit, login_store, oidc
from analytics import auth as rules
from analytics.auth import User
from ui import state
from ui.access import (ROW_LEVEL_TITLES, SESSION, allowed_pages, current_user, diffusion_forced,
                       may_import, restrict, scope)

LOG = logging.getLogger("coaching.auth")
REQUESTED_PAGE = "auth_requested_page"  # the page a logged-out visitor opened (a shared link), kept in the URL
LINK_COOKIE = "coaching_login"  # the browser's token of the link kept through an OpenID Connect login
LINK_TOKEN = "auth_link_token"  # this session's token (session_state)
LINK = "auth_link"  # this session's (page, query) asked for before the login (session_state)
COOKIE_TTL_S = 12 * 3600  # the cookie only names the token; the link itself lives `login_store.LINK_TTL_S` from the click
RESTORE = "auth_restore"  # the link to open once logged in (session_state)
NOTICE = "auth_notice"  # a message for the login screen: the provider refused (session_state)
ARRIVED = "auth_arrived"  # the session's first run has looked for a pending login (session_state)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LOGGED: set[str] = set()  # configuration problems already written to the log by this process

__all__ = ["allowed_pages", "current_user", "diffusion_forced", "gate", "guard", "logout", "may_import", "mode",
           "record", "restore_link", "restrict", "scope", "sidebar"]


# ---------------------------------------------------------------- mode and configuration


def _secrets_auth() -> dict | None:
    """The `[auth]` section as plain dicts (Streamlit gives an AttrDict), None without one."""
    try:
        return oidc.plain(st.secrets["auth"]) if "auth" in st.secrets else None
    except Exception:  # no secrets file at all, or an unreadable one
        return None


def _oidc_config() -> oidc.Config:
    config = oidc.parse(_secrets_auth())
    for problem in config.problems:
        if problem not in _LOGGED:
            _LOGGED.add(problem)
            LOG.error("Connexion OpenID Connect mal configurée : %s", problem)
    return config


def mode() -> str:
    if _secrets_auth() is not None:
        return "oidc"
    return rules.mode(secrets_files=[])


# ---------------------------------------------------------------- audit


def _audit(event: str, user: User | None, **detail) -> None:
    name = user.name if user else (detail.pop("name", None) or "inconnu")
    try:
        audit.record(event, name, user.role if user else None, db=state.current_db(), detail=detail)
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon="⚠️")


def record(event: str, period=None, filters=None, **detail) -> None:
    """An import or an export of the current user in the audit log (period, filters, scalars of `detail`)."""
    user = current_user()
    try:
        audit.record(event, user.name if user else None, user.role if user else None, period=period, filters=filters,
                     detail=detail, db=state.current_db())
    except OSError:
        st.toast("Journal d'audit non écrit : vérifiez les droits du dossier de la base.", icon="⚠️")


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
            st.session_state[REQUESTED_PAGE] = _url_page()  # the page a shared link names
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


def _url_page() -> str:
    path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
    return path if re.fullmatch(r"[A-Za-z0-9_-]+", path) else ""


def _url_query() -> str:
    return urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])


def restore_link(pages: list) -> None:
    """Called by the entry point right after `st.navigation`: after an OpenID Connect login, opens the page and
    filters of the link the visitor had opened before it (once; a page the role may not use is not opened)."""
    link = st.session_state.pop(RESTORE, None)
    if not link:
        return
    query = parse_qsl(link.get("query") or "", keep_blank_values=False)
    allowed = allowed_pages(pages)
    target = next((p for p in allowed if getattr(p, "url_path", None) == link.get("page")), None)
    target = target or next((p for p in allowed if getattr(p, "_default", False)), None) or (allowed[0] if allowed else None)
    if target is None or (not query and not link.get("page")):
        return
    values: dict[str, list[str]] = {}
    for k, v in query:
        values.setdefault(k, []).append(v)
    st.switch_page(target, query_params={k: v if len(v) > 1 else v[0] for k, v in values.items()})


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
        _clear_session()
        return None
    fresh = rules._user(user.name, entry)
    st.session_state[SESSION] = fresh
    return fresh


def _arrival() -> dict | None:
    """At the session's first run: the login this browser had started (its cookie's token), taken once."""
    if st.session_state.get(ARRIVED):
        return None
    st.session_state[ARRIVED] = True
    try:
        token = st.context.cookies.get(LINK_COOKIE)
        return login_store.take_link(token) if isinstance(token, str) else None
    except Exception:  # an unreadable store: no link to restore, the login itself still works
        LOG.exception("Registre des connexions illisible")
        return None


def _roles_config() -> dict:
    try:
        return oidc.plain(st.secrets.get("roles", {})) or {}
    except Exception:
        return {}


def _oidc_user() -> User | None:
    arrival = _arrival()
    if not getattr(st.user, "is_logged_in", False):
        st.session_state.pop(SESSION, None)
        if arrival and arrival.get("started"):
            # back from the provider without an identity: refused (or given up) there
            label = _oidc_config().label(arrival.get("provider"))
            st.session_state[NOTICE] = (f"La connexion n'a pas abouti : {label} n'a pas confirmé votre identité (accès refusé "
                                        "ou connexion annulée). Réessayez, ou demandez un accès à l'administrateur.")
            _audit("login_refused", None, name="inconnu", method="oidc", reason="provider", provider=arrival.get("provider"))
            # the link asked for is kept for the next try
            st.session_state[LINK] = (arrival.get("page") or "", arrival.get("query") or "")
            st.session_state[LINK_TOKEN] = _remember(*st.session_state[LINK])
        return None
    claims = st.user.to_dict()
    config = _roles_config()
    try:
        mapping = rules.load_role_mapping(config.get("mapping"))
    except (OSError, ValueError):
        mapping = {}
        st.error("Le fichier des rôles (data/roles.json) est illisible : demandez à l'administrateur de le corriger.", icon="🚫")
    user = rules.user_from_claims(claims, mapping, role_claim=config.get("claim", "roles"),
                                  territory_claim=config.get("territory_claim", "territories"),
                                  action_claim=config.get("action_claim", "actions"))
    provider = str(claims.get("provider") or "default")
    if user is None:
        name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "inconnu")
        if _first_time(claims, "refused"):
            _audit("login_refused", None, name=name[:64], method="oidc", reason="no_role", provider=provider)
        st.title("Coaching Emploi — pilotage")
        st.error(f"Votre compte ({name}) est authentifié mais n'a aucun rôle dans ce tableau de bord : demandez un accès "
                 "à l'administrateur.", icon="🚫")
        if st.button("Se déconnecter", key="auth_logout_norole"):
            _clear_session()
            st.logout()
        st.stop()
    if current_user() != user:
        st.session_state[SESSION] = user
        if _first_time(claims, "login"):  # one line per authentication, not per browser session
            _audit("login", user, method="oidc", provider=provider)
    if arrival and arrival.get("started"):  # this browser left for the provider from a link: open it
        st.session_state[RESTORE] = arrival
    return user


def _first_time(claims: dict, event: str) -> bool:
    try:
        return login_store.first_time(claims, event=event)
    except Exception:
        LOG.exception("Registre des connexions illisible")
        return True


def _remember(page: str, query: str) -> str | None:
    token = login_store.new_token()
    try:
        login_store.remember_link(token, page, query)
    except Exception:
        LOG.exception("Registre des connexions non écrit : le lien demandé ne sera pas rouvert après la connexion")
        return None
    return token


# ---------------------------------------------------------------- the login screens


def _login_screen(m: str) -> None:
    st.title("Coaching Emploi — pilotage")
    st.caption("Les données décrivent des personnes accompagnées (pseudonymisées) : l'accès est réservé aux comptes autorisés.")
    if m == "oidc":
        _oidc_screen()
    else:
        _local_screen()


def _oidc_screen() -> None:
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(notice, icon="🔒")
    config = _oidc_config()
    for problem in config.problems:
        st.error("Connexion mal configurée : " + problem, icon="⚙️")
    if config.problems:
        st.caption("Corrigez .streamlit/secrets.toml (voir docs/login.md) puis rechargez la page.")
    if not config.providers:
        return
    if LINK_TOKEN not in st.session_state:  # the page and filters asked for, kept server-side for after the provider
        st.session_state[LINK] = (st.session_state.get(REQUESTED_PAGE) or _url_page(), _url_query())
        st.session_state[LINK_TOKEN] = _remember(*st.session_state[LINK])
    token = st.session_state[LINK_TOKEN]
    if token:
        # the browser carries the token through the provider's redirects (a first-party cookie holding nothing else)
        st.html(f"<script>document.cookie = {html.escape(LINK_COOKIE)!r} + '=' + {token!r} + "
                f"'; path=/; max-age={COOKIE_TTL_S}; SameSite=Lax';</script>", unsafe_allow_javascript=True)
    for i, provider in enumerate(config.providers):
        if st.button(provider.button, key=f"auth_oidc_{provider.name}", type="primary" if i == 0 else "secondary"):
            if token:
                try:  # kept `LINK_TTL_S` from now, however long the login screen stayed open
                    page, query = st.session_state.get(LINK) or ("", "")
                    login_store.remember_link(token, page, query)
                    login_store.start_login(token, provider.name)
                except Exception:
                    LOG.exception("Registre des connexions non écrit")
            unreachable = _unreachable(provider)
            if unreachable:
                LOG.error("Fournisseur OpenID Connect « %s » injoignable : %s", provider.name, unreachable)
                who = provider.label or "Le fournisseur d'identité"
                st.error(f"{who} ne répond pas ({unreachable}) : réessayez dans un "
                         "moment ; si cela dure, vérifiez « server_metadata_url » dans la configuration (docs/login.md).",
                         icon="⚙️")
                return
            try:
                st.login(provider.name)
            except StreamlitAPIException as exc:  # StreamlitAuthError: a configuration Streamlit refuses
                LOG.error("st.login(%r) refusé : %s", provider.name, exc)
                st.error(f"Connexion avec {provider.label or 'le fournisseur'} impossible : la configuration est refusée "
                         "par Streamlit (voir le journal du serveur et docs/login.md).", icon="⚙️")


_REACHED: dict[str, float] = {}  # metadata URLs that answered lately (monotonic time)


def _unreachable(provider: oidc.Provider) -> str | None:
    """Why the provider's discovery document cannot be read (None when it can): checked before `st.login`, whose
    own failure is a bare English « Authentication error » page."""
    import httpx

    section = (_secrets_auth() or {})
    section = section if provider.name == "default" else section.get(provider.name, {})
    url = str(section.get("server_metadata_url") or "")
    if time.monotonic() - _REACHED.get(url, -1e9) < 300:
        return None
    try:
        response = httpx.get(url, timeout=8, follow_redirects=True)
        response.raise_for_status()
        if "authorization_endpoint" not in response.json():
            return "document de découverte sans « authorization_endpoint »"
    except httpx.HTTPStatusError as exc:
        return f"réponse {exc.response.status_code} de {url}"
    except httpx.TimeoutException:
        return f"{url} : pas de réponse en 8 secondes"
    except (httpx.HTTPError, ValueError):
        return f"{url} injoignable"
    _REACHED[url] = time.monotonic()
    return None


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
                 "(droits du dossier des comptes). Prévenez l'administrateur.", icon="🚫")
        return
    if lock is not None:  # the password is not even checked
        _audit("login_refused", None, name=name, method="local", reason="locked")
        st.error(_locked_message(lock), icon="🔒")
        return
    try:
        user = rules.authenticate(name, password)
    except rules.AuthError:
        user = None
    if user is None:
        _audit("login_failed", None, name=name, method="local")
        try:
            lock = login_store.record_failure(name, address)
        except Exception:
            LOG.exception("Registre des tentatives de connexion non écrit")
            lock = None
        if lock is not None:
            _audit("lockout", None, name=name if lock.kind == "account" else "inconnu", method="local",
                   reason=f"{lock.kind}_locked", minutes=round((lock.until - time.time()) / 60))
            st.error(_locked_message(lock), icon="🔒")
        else:
            st.error("Identifiant ou mot de passe incorrect.", icon="🔒")
        return
    try:
        login_store.clear_failures(name)
    except Exception:
        LOG.exception("Registre des tentatives de connexion non écrit")
    st.session_state[SESSION] = user
    _audit("login", user, method="local")
    st.rerun()


def _clear_session() -> None:
    for key in list(st.session_state.keys()):
        if key != ARRIVED:
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
