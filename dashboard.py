"""Entry point: page config, theme, global filters and navigation — nothing else."""

import streamlit as st

from ui import auth, filters, presentation, state

st.set_page_config(page_title="Coaching Emploi — pilotage", page_icon="📊", layout="wide", initial_sidebar_state="expanded")
auth.gate()  # login first when accounts or OpenID Connect are configured; nothing to do in single-user local mode

PAGES = [
    st.Page("pages/vue_ensemble.py", title="Vue d'ensemble", icon="🏠", url_path="vue-ensemble", default=True),
    st.Page("pages/convention.py", title="Convention", icon="📆", url_path="convention"),
    st.Page("pages/profils.py", title="Profils", icon="👥", url_path="profils"),
    st.Page("pages/typologie.py", title="Typologie", icon="🧩", url_path="typologie"),
    st.Page("pages/freins.py", title="Freins", icon="🚧", url_path="freins"),
    st.Page("pages/parcours.py", title="Parcours et sorties", icon="🧭", url_path="parcours"),
    st.Page("pages/file_active.py", title="File active", icon="📈", url_path="file-active"),
    st.Page("pages/territoire.py", title="Territoire", icon="🗺️", url_path="territoire"),
    st.Page("pages/activite.py", title="Activité", icon="🗓️", url_path="activite"),
    st.Page("pages/rapports.py", title="Rapports", icon="📄", url_path="rapports"),
    st.Page("pages/donnees.py", title="Données", icon="🗂️", url_path="donnees"),
]

state.ensure_store()
nav = st.navigation(auth.allowed_pages(PAGES))  # a role's navigation holds only the pages it may use
auth.restore_link(PAGES)  # after an OpenID Connect login: the page and filters of the link opened before it
filters.sidebar()
auth.sidebar()
if presentation.sidebar():  # the COPIL deck replaces the page while the toggle is on
    presentation.run()
else:
    nav.run()
