import streamlit as st

st.title("activite")
st.info("Page en construction.")
