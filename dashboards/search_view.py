"""The search analytics page: what people search for, what finds nothing, and click-through."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.formatting import Formatter
from dashboards.page import show_chart

TOP_QUERIES = 15
EMPTY = (
    "Search analytics appear here once people search: top queries, queries with no "
    "results, and click-through."
)


def render(reader: data.Reader, filters: data.Filters, fmt: Formatter) -> None:
    """Top queries (all time), queries that found nothing, and click-through per day (within
    the sidebar's dates; the other filters do not apply to searches)."""
    queries = reader.table("search_queries")
    daily = reader.table("search_daily")
    if queries.empty and daily.empty:
        data.empty_state(EMPTY)
        return
    daily = filters.apply(daily, "search_date")
    if not daily.empty:
        searches = int(daily["searches"].sum())
        columns = st.columns(3)
        columns[0].metric("Searches", fmt.number(searches))
        columns[1].metric(
            "Zero-result rate", fmt.percent(daily["zero_result_searches"].sum() / searches)
        )
        columns[2].metric(
            "Click-through rate", fmt.percent(daily["searches_with_click"].sum() / searches)
        )
    _top_queries(queries, fmt)
    _zero_result_queries(queries, fmt)
    _click_through(daily, fmt)


def _top_queries(queries: pd.DataFrame, fmt: Formatter) -> None:
    st.subheader("Top queries")
    if queries.empty:
        data.empty_state("No typed queries yet: people have only browsed with filters.")
        return
    st.caption("All time; queries are grouped lower-cased with spaces collapsed.")
    top = queries.nlargest(TOP_QUERIES, "searches")
    show_chart(
        alt.Chart(top)
        .mark_bar()
        .encode(
            x=alt.X("searches:Q", title="Searches"),
            y=alt.Y("normalized_query:N", sort="-x", title=None),
            color=alt.Color(
                "click_through_rate:Q",
                title="Click-through",
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("normalized_query:N", title="Query"),
                alt.Tooltip("searches:Q", title="Searches"),
                alt.Tooltip("click_through_rate:Q", title="Click-through", format=".1%"),
                alt.Tooltip("zero_result_rate:Q", title="Zero results", format=".1%"),
                alt.Tooltip("mean_click_position:Q", title="Mean click position", format=".1f"),
            ],
        ),
        fmt,
    )


def _zero_result_queries(queries: pd.DataFrame, fmt: Formatter) -> None:
    if queries.empty:
        return
    st.subheader("Queries that found nothing")
    missed = queries[queries["zero_result_searches"] > 0].sort_values(
        ["zero_result_searches", "last_searched_at"], ascending=False
    )
    if missed.empty:
        data.empty_state("Every query found something.")
        return
    shown = missed[
        ["normalized_query", "zero_result_searches", "searches", "zero_result_rate"]
    ].assign(last_searched_at=[fmt.moment(at) for at in missed["last_searched_at"]])
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "normalized_query": "Query",
            "zero_result_searches": "Searches without results",
            "searches": "Searches",
            "zero_result_rate": st.column_config.ProgressColumn(
                "Zero-result rate", min_value=0.0, max_value=1.0, format="percent"
            ),
            "last_searched_at": "Last searched",
        },
    )


def _click_through(daily: pd.DataFrame, fmt: Formatter) -> None:
    st.subheader("Click-through and zero results per day")
    if daily.empty:
        data.empty_state("No searches in these dates.")
        return
    rates = daily.assign(search_date=pd.to_datetime(daily["search_date"]))[
        ["search_date", "searches", "click_through_rate", "zero_result_rate"]
    ].melt(["search_date", "searches"], var_name="rate", value_name="share")
    rates["rate"] = rates["rate"].map(
        {"click_through_rate": "Click-through", "zero_result_rate": "Zero results"}
    )
    show_chart(
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(search_date):T", title=None),
            y=alt.Y("share:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None, scale=alt.Scale(range=["#2f7ed8", "#e4572e"])),
            tooltip=[
                alt.Tooltip("search_date:T", title="Day"),
                alt.Tooltip("rate:N", title="Rate"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("searches:Q", title="Searches"),
            ],
        ),
        fmt,
    )
