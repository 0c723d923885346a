"""What the current browser session may see: its user, the user's grants, the pages of its navigation and
whether its figures are the published (suppressed) ones. No import of the rest of `ui` (the base of
`ui.state`, `ui.diffusion` and `ui.auth`, which sit above it without cycles).

Enforced server-side, whatever the URL: the granted territories and actions are intersected with the selection's
filters (`restrict`, applied by `ui.state`), the filter lists only offer granted values (`scope`), the pages a
role may not use are not in its navigation (`allowed_pages`), imports are refused to every role but `admin`
(`may_import`), the `partenaire` role has the diffusion mode forced (`diffusion_forced`).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlparse

import streamlit as st

from analytics.auth import User
from analytics.diffusion import threshold
from analytics.indicators import Filters

SESSION = "auth_user"  # the logged-in user (`analytics.auth.User`) in st.session_state
DIFFUSION_KEY = "diffusion"  # the sidebar toggle « Mode diffusion » (URL key)
ARRIVED = "auth_arrived"  # the session's first run has looked for a login started by its browser (kept on logout)
ROW_LEVEL_PAGES = {"donnees"}  # validation reports, completeness and import history of the whole store
ROW_LEVEL_TITLES = {"Données"}


def current_user() -> User | None:
    """The logged-in user (None in single-user local mode)."""
    user = st.session_state.get(SESSION)
    return user if isinstance(user, User) else None


def diffusion_forced() -> bool:
    """True for a role that may only see published figures (`partenaire`)."""
    user = current_user()
    return bool(user and user.diffusion_forced)


def diffusion_enabled() -> bool:
    """The figures shown are the suppressed ones (`analytics.diffusion`): forced by the role, or the toggle is on."""
    return diffusion_forced() or bool(st.session_state.get(DIFFUSION_KEY))


def diffusion_k() -> int:
    return threshold()


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


def url_page() -> str:
    """The page the browser's URL names (its last path segment), "" for the root or anything unexpected."""
    path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
    return path if re.fullmatch(r"[A-Za-z0-9_-]+", path) else ""


def url_query() -> str:
    """The URL's query string, every value of every key."""
    return urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])


def clear_session() -> None:
    """Forget everything of the session (logout, a removed account)."""
    for key in list(st.session_state.keys()):
        if key != ARRIVED:
            del st.session_state[key]


__all__ = ["ARRIVED", "clear_session", "url_page", "url_query", "DIFFUSION_KEY", "SESSION", "allowed_pages", "current_user", "diffusion_enabled", "diffusion_forced",
           "diffusion_k", "may_import", "restrict", "scope"]
