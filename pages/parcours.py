import streamlit as st

st.title("parcours")
st.info("Page en construction.")
