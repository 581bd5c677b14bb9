"""The search analytics page: what people search for, what finds nothing, and click-through."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data

TOP_QUERIES = 15
EMPTY = (
    "Search analytics appear here once people search: top queries, queries with no "
    "results, and click-through."
)


def render(build: Path, filters: data.Filters) -> None:
    """Top queries (all time), queries that found nothing, and click-through per day (within
    the sidebar's dates; the other filters do not apply to searches)."""
    queries = data.table(build, "search_queries")
    daily = data.table(build, "search_daily")
    if queries.empty and daily.empty:
        data.empty_state(EMPTY)
        return
    daily = filters.apply(daily, "search_date")
    if not daily.empty:
        searches = int(daily["searches"].sum())
        columns = st.columns(3)
        columns[0].metric("Searches", f"{searches:,}")
        columns[1].metric(
            "Zero-result rate", f"{daily['zero_result_searches'].sum() / searches:.1%}"
        )
        columns[2].metric(
            "Click-through rate", f"{daily['searches_with_click'].sum() / searches:.1%}"
        )
    _top_queries(queries)
    _zero_result_queries(queries)
    _click_through(daily)


def _top_queries(queries: pd.DataFrame) -> None:
    st.subheader("Top queries")
    if queries.empty:
        data.empty_state("No typed queries yet: people have only browsed with filters.")
        return
    st.caption("All time; queries are grouped lower-cased with spaces collapsed.")
    top = queries.nlargest(TOP_QUERIES, "searches")
    st.altair_chart(
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
                "searches:Q",
                alt.Tooltip("click_through_rate:Q", title="Click-through", format=".1%"),
                alt.Tooltip("zero_result_rate:Q", title="Zero results", format=".1%"),
                alt.Tooltip("mean_click_position:Q", title="Mean click position", format=".1f"),
            ],
        ),
        use_container_width=True,
    )


def _zero_result_queries(queries: pd.DataFrame) -> None:
    if queries.empty:
        return
    st.subheader("Queries that found nothing")
    missed = queries[queries["zero_result_searches"] > 0].sort_values(
        ["zero_result_searches", "last_searched_at"], ascending=False
    )
    if missed.empty:
        data.empty_state("Every query found something.")
        return
    st.dataframe(
        missed[
            [
                "normalized_query",
                "zero_result_searches",
                "searches",
                "zero_result_rate",
                "last_searched_at",
            ]
        ],
        hide_index=True,
        use_container_width=True,
        column_config={
            "normalized_query": "Query",
            "zero_result_searches": "Searches without results",
            "searches": "Searches",
            "zero_result_rate": st.column_config.ProgressColumn(
                "Zero-result rate", min_value=0.0, max_value=1.0, format="percent"
            ),
            "last_searched_at": st.column_config.DatetimeColumn("Last searched"),
        },
    )


def _click_through(daily: pd.DataFrame) -> None:
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
    st.altair_chart(
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(search_date):T", title=None),
            y=alt.Y("share:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None, scale=alt.Scale(range=["#2f7ed8", "#e4572e"])),
            tooltip=[
                "search_date:T",
                "rate:N",
                alt.Tooltip("share:Q", format=".1%"),
                "searches:Q",
            ],
        ),
        use_container_width=True,
    )
