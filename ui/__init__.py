"""Streamlit-side helpers (the only package besides pages/ that imports Streamlit)."""
