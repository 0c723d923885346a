"""OpenID Connect login (`st.login`): the providers' buttons, the identity turned into a user, the shared link kept
through the provider, the refusals (see `ui.auth` for the whole login, `analytics.oidc` for the configuration).

Streamlit's callback always returns to the root in a new browser session: the page and query asked for are kept
server-side (`login_store.remember_link`) under a random token that the browser carries in a first-party cookie
(`LINK_COOKIE`); the new session takes it once (`_arrival`) and `restore_link` opens the page. Coming back from the
provider without an identity means a refusal there (or a login given up): said in French, audited
(`login_refused`, reason `provider`). An identity without a role is refused (`no_role`). The audit log gets one
`login` per authentication (`login_store.first_time`), not one per browser session.
"""

from __future__ import annotations

import html
import logging
import time
from urllib.parse import parse_qsl

import streamlit as st
from streamlit.errors import StreamlitAPIException

from analytics import auth as rules
from analytics import login_store, oidc
from analytics.auth import User
from ui import access, journal
from ui.access import SESSION, allowed_pages, current_user

LOG = logging.getLogger("coaching.auth")
LINK_COOKIE = "coaching_login"  # the browser's token of the link kept through an OpenID Connect login
LINK_TOKEN = "auth_link_token"  # this session's token (session_state)
LINK = "auth_link"  # this session's (page, query) asked for before the login (session_state)
COOKIE_TTL_S = 12 * 3600  # the cookie only names the token; the link itself lives `login_store.LINK_TTL_S` from the click
RESTORE = "auth_restore"  # the link to open once logged in (session_state)
NOTICE = "auth_notice"  # a message for the login screen: the provider refused (session_state)
ARRIVED = access.ARRIVED
_LOGGED: set[str] = set()  # configuration problems already written to the log by this process


def secrets_auth() -> dict | None:
    """The `[auth]` section as plain dicts (Streamlit gives an AttrDict), None without one."""
    try:
        return oidc.plain(st.secrets["auth"]) if "auth" in st.secrets else None
    except Exception:  # no secrets file at all, or an unreadable one
        return None


def providers() -> oidc.Config:
    """The providers of the secrets' `[auth]` section; its problems are written once to the log."""
    config = oidc.parse(secrets_auth())
    for problem in config.problems:
        if problem not in _LOGGED:
            _LOGGED.add(problem)
            LOG.error("Connexion OpenID Connect mal configurée : %s", problem)
    return config


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
    params = {k: v if len(v) > 1 else v[0] for k, v in values.items()}
    try:
        st.switch_page(target, query_params=params)
    except StreamlitAPIException:
        # the overview is registered by ui.routing under another page object (served at « / », where the provider
        # sends the browser back): already on it, only the link's filters are restored
        st.query_params.from_dict(params)
        st.rerun()


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


def user() -> User | None:
    """The identity Streamlit holds (`st.user`) as a dashboard user; draws the refusal and stops when it has no role."""
    arrival = _arrival()
    if not getattr(st.user, "is_logged_in", False):
        st.session_state.pop(SESSION, None)
        if arrival and arrival.get("started"):
            # back from the provider without an identity: refused (or given up) there
            label = providers().label(arrival.get("provider"))
            st.session_state[NOTICE] = (f"La connexion n'a pas abouti : {label} n'a pas confirmé votre identité (accès refusé "
                                        "ou connexion annulée). Réessayez, ou demandez un accès à l'administrateur.")
            journal.login_event("login_refused", None, name="inconnu", method="oidc", reason="provider", provider=arrival.get("provider"))
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
        st.error("Le fichier des rôles (data/roles.json) est illisible : demandez à l'administrateur de le corriger.", icon=":material/block:")
    found = rules.user_from_claims(claims, mapping, role_claim=config.get("claim", "roles"),
                                   territory_claim=config.get("territory_claim", "territories"),
                                   action_claim=config.get("action_claim", "actions"))
    provider = str(claims.get("provider") or "default")
    if found is None:
        name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "inconnu")
        if _first_time(claims, "refused"):
            journal.login_event("login_refused", None, name=name[:64], method="oidc", reason="no_role", provider=provider)
        st.title("Coaching Emploi — pilotage")
        st.error(f"Votre compte ({name}) est authentifié mais n'a aucun rôle dans ce tableau de bord : demandez un accès "
                 "à l'administrateur.", icon=":material/block:")
        if st.button("Se déconnecter", key="auth_logout_norole"):
            access.clear_session()
            st.logout()
        st.stop()
    if current_user() != found:
        st.session_state[SESSION] = found
        if _first_time(claims, "login"):  # one line per authentication, not per browser session
            journal.login_event("login", found, method="oidc", provider=provider)
    if arrival and arrival.get("started"):  # this browser left for the provider from a link: open it
        st.session_state[RESTORE] = arrival
    return found


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


def screen(requested_page: str = "") -> None:
    """The OpenID Connect login screen: the refusal notice, configuration problems, one button per provider."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(notice, icon=":material/lock:")
    config = providers()
    for problem in config.problems:
        st.error("Connexion mal configurée : " + problem, icon=":material/settings:")
    if config.problems:
        st.caption("Corrigez .streamlit/secrets.toml (voir docs/login.md) puis rechargez la page.")
    if not config.providers:
        return
    if LINK_TOKEN not in st.session_state:  # the page and filters asked for, kept server-side for after the provider
        st.session_state[LINK] = (requested_page or access.url_page(), access.url_query())
        st.session_state[LINK_TOKEN] = _remember(*st.session_state[LINK])
    token = st.session_state[LINK_TOKEN]
    if token:
        # the browser carries the token through the provider's redirects (a first-party cookie holding nothing else)
        st.html(f"<script>document.cookie = {html.escape(LINK_COOKIE)!r} + '=' + {token!r} + "
                f"'; path=/; max-age={COOKIE_TTL_S}; SameSite=Lax';</script>", unsafe_allow_javascript=True)
    for i, provider in enumerate(config.providers):
        if st.button(provider.button, key=f"auth_oidc_{provider.name}", type="primary" if i == 0 else "secondary"):
            unreachable = _unreachable(provider)
            if unreachable:
                LOG.error("Fournisseur OpenID Connect « %s » injoignable : %s", provider.name, unreachable)
                who = provider.label or "Le fournisseur d'identité"
                st.error(f"{who} ne répond pas ({unreachable}) : réessayez dans un "
                         "moment ; si cela dure, vérifiez « server_metadata_url » dans la configuration (docs/login.md).",
                         icon=":material/settings:")
                return
            if token:
                try:  # kept `LINK_TTL_S` from now, however long the login screen stayed open
                    page, query = st.session_state.get(LINK) or ("", "")
                    login_store.remember_link(token, page, query)
                    login_store.start_login(token, provider.name)
                except Exception:
                    LOG.exception("Registre des connexions non écrit")
            try:
                st.login(provider.name)
            except StreamlitAPIException as exc:  # StreamlitAuthError: a configuration Streamlit refuses
                LOG.error("st.login(%r) refusé : %s", provider.name, exc)
                st.error(f"Connexion avec {provider.label or 'le fournisseur'} impossible : la configuration est refusée "
                         "par Streamlit (voir le journal du serveur et docs/login.md).", icon=":material/settings:")


_REACHED: dict[str, float] = {}  # metadata URLs that answered lately (monotonic time)


def _unreachable(provider: oidc.Provider) -> str | None:
    """Why the provider's discovery document cannot be read (None when it can): checked before `st.login`, whose
    own failure is a bare English « Authentication error » page."""
    import httpx

    section = (secrets_auth() or {})
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


__all__ = ["providers", "restore_link", "screen", "secrets_auth", "user"]
