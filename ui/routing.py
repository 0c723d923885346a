"""Which page a URL opens, and the browser tab's title.

- The default page is served at « / », so Streamlit does not know its own address (`/vue-ensemble`): a hidden
  alias page with that address opens it (same file, same filters).
- A page the role may not use is not in its menu, yet a shared link may name it: it stays reachable as a
  hidden page, whose run stops at `ui.auth.guard` with a French explanation (« Cette page est réservée… »).
- Any other unknown address: Streamlit would show its English « Page not found » dialog; the notice is caught
  (`streamlit.commands.navigation.send_page_not_found`, the only hook it offers) and a French line is shown above
  the overview instead.
- Each page gets its own tab title (« File active — Coaching Emploi »).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.commands import navigation as _navigation

APP = "Coaching Emploi"
# the tab's icon, local: a Material page icon would otherwise become the favicon, fetched from Google's servers
FAVICON = str(Path(__file__).resolve().parent / "favicon.png")
NOT_FOUND = "routing_not_found"


def _record_not_found(ctx) -> None:
    from urllib.parse import urlparse

    try:
        path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
    except Exception:  # noqa: BLE001 - no URL in AppTest
        path = ""
    st.session_state[NOT_FOUND] = path or "?"


_navigation.send_page_not_found = _record_not_found


def pages(all_pages: list, allowed: list) -> list:
    """The navigation: the allowed pages, hidden stand-ins for the others, and the overview's own address."""
    allowed_paths = {p._url_path for p in allowed}
    out = []
    for page in all_pages:
        if page._url_path in allowed_paths:
            out.append(page)
        else:
            out.append(st.Page(page._page, title=page.title, icon=page.icon, url_path=page._url_path, visibility="hidden"))
    default = next((p for p in out if p._default), None)
    if default is not None and default._url_path:
        # Streamlit keys a page by its url_path: the default page is keyed by « » and its declared address
        # is given to the alias
        own = default._url_path
        out[out.index(default)] = default = st.Page(default._page, title=default.title, icon=default.icon, url_path="",
                                                    default=True)

        script = Path(default._page)

        def open_default() -> None:
            qp = st.query_params
            try:  # the overview page itself, the link's parameters kept
                st.switch_page(default, query_params=[(k, v) for k in qp for v in qp.get_all(k)])
            except StreamlitAPIException:
                # a parameter bound to a filter widget (`?annee=2023`) cannot be set by a page switch: the overview
                # is drawn at this address instead, with the same filters
                runpy.run_path(str(script if script.is_absolute() else Path(__file__).resolve().parent.parent / script),
                               run_name="__main__")

        out.append(st.Page(open_default, title=default.title, icon=default.icon, url_path=own,
                           visibility="hidden"))
    return out


def page_title(nav) -> None:
    """One browser-tab title per page."""
    st.set_page_config(page_title=f"{nav.title} — {APP}")


def not_found_notice() -> None:
    path = st.session_state.pop(NOT_FOUND, None)
    if path:
        st.warning(f"L'adresse « /{path} » ne correspond à aucune page du tableau de bord : voici la vue d'ensemble. "
                   "Choisissez une page dans le menu de gauche.", icon=":material/info:")
