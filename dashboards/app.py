"""Streamlit entry point for the analytics dashboards, which read only the published snapshot."""

import streamlit as st

from dashboards import views

st.set_page_config(page_title="Tessera analytics", page_icon=":material/insights:", layout="wide")
st.navigation(
    [
        st.Page(views.overview, title="Overview", icon=":material/dashboard:", default=True),
        st.Page(views.revenue, title="Revenue", icon=":material/payments:"),
        st.Page(views.events, title="Event performance", icon=":material/event:"),
        st.Page(views.audience, title="Audience", icon=":material/group:"),
        st.Page(views.search, title="Search analytics", icon=":material/search:"),
        st.Page(views.notifications, title="Notifications", icon=":material/notifications:"),
        st.Page(views.finance, title="Finance exports", icon=":material/download:"),
    ]
).run()
