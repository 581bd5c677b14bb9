"""The audience page: the funnel, cohorts and segments."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.page import Page, start

SEGMENTS = {
    "champions": "Champions",
    "loyal": "Loyal",
    "new": "New",
    "at risk": "At risk",
    "hibernating": "Hibernating",
    "promising": "Promising",
}


FUNNEL_STEPS = {
    "views": "Viewed",
    "bookings_started": "Booking started",
    "bookings_confirmed": "Confirmed",
    "payments_succeeded": "Paid",
}


def audience() -> None:
    page = start("Audience")
    if page is None:
        return
    fmt = page.fmt
    funnel = page.filters.apply(page.reader.table("funnel_daily"), "funnel_date")
    if not funnel.empty:
        steps = pd.DataFrame(
            {
                "step": list(FUNNEL_STEPS.values()),
                "count": [int(funnel[column].sum()) for column in FUNNEL_STEPS],
            }
        )
        st.subheader("Funnel")
        page.chart(
            alt.Chart(steps)
            .mark_bar()
            .encode(
                x=alt.X("count:Q", title="Count", axis=alt.Axis(format=",d", tickMinStep=1)),
                y=alt.Y("step:N", sort=None, title=None),
                tooltip=[
                    alt.Tooltip("step:N", title="Step"),
                    alt.Tooltip("count:Q", title="Count"),
                ],
            )
        )
        started_count = max(1, int(funnel["bookings_started"].sum()))
        paid_attempts = int(funnel["payments_succeeded"].sum() + funnel["payments_failed"].sum())
        left, right = st.columns(2)
        left.metric("Holds that lapsed", fmt.percent(funnel["holds_expired"].sum() / started_count))
        right.metric(
            "Payments that failed",
            fmt.percent(funnel["payments_failed"].sum() / max(1, paid_attempts)),
        )
    else:
        data.empty_state("No views or bookings in this selection.")
    if not page.viewer.sees_every_organizer:
        st.caption(
            "Cohorts and customer segments are measured across every organizer's customers, "
            "so they are shown to analysts, finance and admins."
        )
        return
    _cohorts(page)
    _segments(page)


def _cohorts(page: Page) -> None:
    cohorts = page.reader.table("cohort_retention")
    if cohorts.empty:
        return
    cohorts["cohort"] = pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
    st.subheader("Cohort retention")
    page.chart(
        alt.Chart(cohorts)
        .mark_rect()
        .encode(
            x=alt.X("months_since_first:O", title="Months after first purchase"),
            y=alt.Y("cohort:O", title="First purchase"),
            color=alt.Color(
                "retention:Q",
                title="Bought again",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("cohort:O", title="First purchase"),
                alt.Tooltip("months_since_first:O", title="Months after"),
                alt.Tooltip("active_customers:Q", title="Customers buying"),
                alt.Tooltip("retention:Q", title="Share of the cohort", format=".0%"),
            ],
        )
    )


def _segments(page: Page) -> None:
    customers = page.reader.table("customers")
    if customers.empty:
        data.empty_state("No customers yet.")
        return
    st.subheader("Segments")
    segments = customers.groupby("segment", as_index=False).size()
    segments["segment"] = segments["segment"].map(SEGMENTS).fillna(segments["segment"])
    page.chart(
        alt.Chart(segments)
        .mark_arc(innerRadius=60)
        .encode(
            theta=alt.Theta("size:Q", title="Customers"),
            color=alt.Color("segment:N", title="Segment"),
            tooltip=[
                alt.Tooltip("segment:N", title="Segment"),
                alt.Tooltip("size:Q", title="Customers"),
            ],
        )
    )
    st.metric("Repeat customers", page.fmt.percent(customers["repeat_customer"].mean()))
