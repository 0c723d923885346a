import streamlit as st

st.title("profils")
st.info("Page en construction.")
