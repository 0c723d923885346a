import streamlit as st

st.title("freins")
st.info("Page en construction.")
