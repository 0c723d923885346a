"""Coaching Emploi analytics: extract contract, store and indicator engine (no Streamlit here)."""
