import streamlit as st

st.title("file_active")
st.info("Page en construction.")
