import streamlit as st

st.title("donnees")
st.info("Page en construction.")
