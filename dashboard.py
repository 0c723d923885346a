"""Entry point: page config, theme, global filters and navigation — nothing else."""

import streamlit as st

from ui import auth, filters, french, presentation, routing, state

# a local tab icon set first: otherwise the current page's Material icon becomes the favicon, fetched from Google
st.set_page_config(page_title="Coaching Emploi — pilotage", page_icon=routing.FAVICON, layout="wide",
                   initial_sidebar_state="expanded")
french.install()  # before the gate: the login screen is French too (the toolkit's texts, the contrast style)
auth.gate()  # login first when accounts or OpenID Connect are configured; nothing to do in single-user local mode

PAGES = [
    st.Page("pages/vue_ensemble.py", title="Vue d'ensemble", icon=":material/home:", url_path="vue-ensemble", default=True),
    st.Page("pages/convention.py", title="Convention", icon=":material/calendar_month:", url_path="convention"),
    st.Page("pages/profils.py", title="Profils", icon=":material/groups:", url_path="profils"),
    st.Page("pages/typologie.py", title="Typologie", icon=":material/category:", url_path="typologie"),
    st.Page("pages/freins.py", title="Freins", icon=":material/block:", url_path="freins"),
    st.Page("pages/parcours.py", title="Parcours et sorties", icon=":material/route:", url_path="parcours"),
    st.Page("pages/file_active.py", title="File active", icon=":material/monitoring:", url_path="file-active"),
    st.Page("pages/territoire.py", title="Territoire", icon=":material/map:", url_path="territoire"),
    st.Page("pages/activite.py", title="Activité", icon=":material/event:", url_path="activite"),
    st.Page("pages/rapports.py", title="Rapports", icon=":material/description:", url_path="rapports"),
    st.Page("pages/donnees.py", title="Données", icon=":material/database:", url_path="donnees"),
]

state.ensure_store()
# a role's menu holds only the pages it may use; a link to another one opens a French refusal, `/vue-ensemble` the overview
nav = st.navigation(routing.pages(PAGES, auth.allowed_pages(PAGES)))
auth.restore_link(PAGES)  # after an OpenID Connect login: the page and filters of the link opened before it
routing.page_title(nav)
filters.sidebar()
auth.sidebar()
if presentation.sidebar():  # the COPIL deck replaces the page while the toggle is on
    presentation.run()
else:
    routing.not_found_notice()
    nav.run()
