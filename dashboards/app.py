"""Streamlit entry point for the analytics dashboards: sign in with a Tessera account through
the API, then the pages the account's role may open, which read only the published snapshot."""

import streamlit as st

from dashboards import access, auth

st.set_page_config(page_title="Tessera analytics", page_icon=":material/insights:", layout="wide")
sign_in = st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", url_path="sign-in")
try:
    viewer = auth.signed_in_viewer()
except auth.ApiUnreachable:
    st.error(auth.UNREACHABLE)
    st.stop()
if viewer is None:
    st.navigation([sign_in], position="hidden").run()
else:
    auth.sidebar(viewer)
    st.navigation(
        [
            st.Page(page.script, title=page.title, icon=page.icon, default=index == 0)
            for index, page in enumerate(access.pages_for(viewer))
        ]
    ).run()
